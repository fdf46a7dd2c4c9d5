"""HTTP-level security against a real ``aidetect serve`` on 127.0.0.1.

- the request size limit is enforced while the body streams in: a chunked upload far
  over the limit is answered 413 long before the client has sent it all;
- nothing uploaded (accepted, refused or cut off) reaches the disk or the log;
- CORS stays closed by default, security headers are on every answer, error bodies
  never echo the upload.
"""

from __future__ import annotations

import select
import socket

import httpx
import pytest

from tests.support import images
from tests.support.server import running_server

pytestmark = pytest.mark.slow
LIMIT = 1_000_000
MARKER = b"SECRET-UPLOAD-MARKER-51c2"


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory):
    env = {"AIDETECT_MAX_BYTES": str(LIMIT)}
    with running_server(tiny_models, tmp_path_factory.mktemp("sec"), env) as srv:
        yield srv


def stream_upload(port: int, path: str, content_type: str, total: int, head: bytes = b""):
    """Send a chunked body of ``total`` bytes; stop as soon as the server answers.

    Returns (status line, bytes sent before the answer came).
    """
    chunk = b"\x00" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        sent = 0
        s.setblocking(False)
        pending = f"{len(head):x}\r\n".encode() + head + b"\r\n" if head else b""
        sent += len(head)
        answer = b""
        while sent < total:
            readable, writable, _ = select.select([s], [s], [], 10)
            if readable:
                answer = s.recv(65536)
                break
            if not writable:
                continue
            if not pending:
                pending = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                sent += len(chunk)
            try:
                n = s.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            pending = pending[n:]
        if not answer:
            s.setblocking(True)
            s.settimeout(30)
            try:
                answer = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                answer = b""
    return answer.split(b"\r\n", 1)[0].decode(errors="replace"), sent


@pytest.mark.parametrize(
    ("path", "ctype", "head"),
    [
        ("/api/v1/detect", "application/json", b'{"image": "' + MARKER),
        ("/", "application/json", b'{"bytes_data": "' + MARKER),
        (
            "/api/v1/detect",
            "multipart/form-data; boundary=XyZ",
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="secret-name.jpg"'
            b"\r\n\r\n" + MARKER,
        ),
        (
            "/api/v1/detect/batch",
            "multipart/form-data; boundary=XyZ",
            b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="secret-name.jpg"'
            b"\r\n\r\n" + MARKER,
        ),
    ],
)
def test_oversized_streaming_body_is_refused_while_reading(server, path, ctype, head):
    total = 512 * 1024 * 1024  # 512 MB offered; the limit is 1 MB (batch: 32 x 1 MB)
    status, sent = stream_upload(server["port"], path, ctype, total, head)
    assert " 413 " in status + " ", status
    # the answer came while the client was still sending: at most the limit plus what
    # the loopback socket buffers absorb, never the whole body
    budget = (32 if "batch" in path else 1) * LIMIT + 16 * 1024 * 1024
    assert sent < budget, f"{sent:,} bytes sent before the 413"
    assert httpx.get(server["url"] + "/healthz", timeout=10).status_code == 200


def test_declared_oversized_body_is_refused_before_reading(server):
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=30) as s:
        s.sendall(
            b"POST /api/v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n"
        )
        status = s.recv(65536).split(b"\r\n", 1)[0]
    assert b" 413 " in status + b" "


def test_nothing_uploaded_reaches_disk_or_log(server):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER.decode())
    ok = images.encode(images.photo_like(300, 200), "PNG", pnginfo=info)
    broken = ok[: len(ok) // 2]
    url = server["url"]
    for data in (ok, broken, MARKER + b" not an image"):
        httpx.post(url + "/api/v1/detect", files={"file": ("secret-name.png", data)}, timeout=60)
        httpx.post(
            url + "/api/v1/detect/batch", files=[("files", ("secret-name.png", data))], timeout=60
        )
    assert list(server["tmpdir"].iterdir()) == []
    log = server["log"].read_bytes()
    assert MARKER not in log and b"secret-name" not in log


def test_errors_never_echo_the_upload(server):
    url = server["url"]
    r = httpx.post(url + "/api/v1/detect", files={"file": ("x.png", MARKER * 10)}, timeout=60)
    assert r.status_code == 415 and MARKER not in r.content
    r = httpx.post(url + "/api/v1/detect", json={"image": MARKER.decode() + "!!"}, timeout=60)
    assert r.status_code == 400 and MARKER not in r.content
    r = httpx.post(url + "/api/v1/detect", json={"image": 12345, "x": MARKER.decode()})
    assert r.status_code in (400, 422) and MARKER not in r.content


def test_cors_closed_by_default_and_headers_everywhere(server):
    url = server["url"]
    evil = {"Origin": "https://evil.example"}
    r = httpx.options(
        url + "/api/v1/detect",
        headers={**evil, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in r.headers
    for resp in (
        httpx.get(url + "/", headers=evil, timeout=10),
        httpx.get(url + "/api/v1/models", headers=evil, timeout=10),
        httpx.post(url + "/api/v1/detect", files={"file": ("x", b"no")}, headers=evil),
    ):
        assert "access-control-allow-origin" not in resp.headers
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert resp.headers["referrer-policy"] == "no-referrer"
