"""Slow and surplus clients against a real ``aidetect serve`` on 127.0.0.1.

Small limits (1 s deadlines, a bound of 60 connections) so that every case ends in
seconds. Bounds on time are generous ("within the deadline plus a few seconds"): they
tell a deadline that works from a connection held open, not how fast the server is.
"""

from __future__ import annotations

import json
import select
import socket
import time

import httpx
import pytest

from tests.support import images
from tests.support.server import running_server

pytestmark = pytest.mark.slow
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 60
SLACK = 4.0  # seconds on top of a deadline, for a loaded test machine


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory):
    env = {
        "AIDETECT_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT),
        "AIDETECT_BODY_TIMEOUT_S": str(BODY_TIMEOUT),
        "AIDETECT_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    with running_server(tiny_models, tmp_path_factory.mktemp("slow"), env) as srv:
        yield srv


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server["port"]), timeout=HEADER_TIMEOUT + 10)


def read_until_closed(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails if it never does)."""
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def read_response(s: socket.socket) -> bytes:
    """One response with a Content-Length, on a connection that stays open."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += s.recv(65536) or pytest.fail(f"closed mid-answer: {raw!r}")
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")).split(
            b":"
        )[1]
    )
    while len(body) < length:
        body += s.recv(65536) or pytest.fail(f"closed mid-answer: {raw!r}")
    return head + b"\r\n\r\n" + body


def parse(raw: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, json.loads(body)


def assert_refused(raw: bytes, status: int, code: str) -> dict[str, str]:
    got, headers, body = parse(raw)
    assert (got, body["code"]) == (status, code), raw[:300]
    assert body["detail"] and headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    return headers


def assert_serving(server) -> None:
    r = httpx.post(
        server["url"] + "/api/v1/detect",
        files={"file": ("p.jpg", images.jpeg(), "image/jpeg")},
        timeout=60,
    )
    assert r.status_code == 200, r.text


def multipart(data: bytes, boundary: str = "b0undary") -> tuple[str, bytes]:
    body = (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=p.jpg\r\n"
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


def test_partial_header_gets_408_and_the_server_keeps_serving(server):
    with connect(server) as s:
        start = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: incomplete
        raw = read_until_closed(s)
        assert time.monotonic() - start < HEADER_TIMEOUT + SLACK
    assert_refused(raw, 408, "request_timeout")
    # A connection that sends nothing at all is closed the same way.
    with connect(server) as s:
        assert_refused(read_until_closed(s), 408, "request_timeout")
    assert_serving(server)


def test_a_dribbled_header_is_cut_at_the_deadline(server):
    """One byte every 0.3 s: each byte is progress, yet the header's deadline holds."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
    with connect(server) as s:
        start = time.monotonic()
        for byte in request:
            if select.select([s], [], [], 0.3)[0]:  # the server has answered: stop sending
                break
            s.sendall(bytes([byte]))
        else:
            pytest.fail("the whole dribbled header was accepted")
        raw = read_until_closed(s)
        assert time.monotonic() - start < HEADER_TIMEOUT + SLACK
    assert_refused(raw, 408, "request_timeout")


def test_the_header_deadline_restarts_for_each_request_on_a_kept_alive_connection(server):
    with connect(server) as s:
        for _ in range(3):  # complete requests, each within the deadline: all answered
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = read_response(s)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
            time.sleep(HEADER_TIMEOUT * 0.7)
        s.sendall(b"GET /healthz HTTP/1.1\r\n")  # then one that stops half-way
        start = time.monotonic()
        raw = read_until_closed(s)
        assert time.monotonic() - start < HEADER_TIMEOUT + SLACK
    assert_refused(raw, 408, "request_timeout")


def test_a_stalled_body_gets_408_and_a_closed_connection(server):
    ctype, body = multipart(images.jpeg())
    with connect(server) as s:
        s.sendall(
            "POST /api/v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:300]
        )  # ... and then nothing more
        start = time.monotonic()
        raw = read_until_closed(s)
        assert time.monotonic() - start < BODY_TIMEOUT + SLACK
    assert_refused(raw, 408, "request_timeout")
    assert_serving(server)


def test_a_slow_body_that_keeps_moving_is_not_cut(server):
    """Progress, not speed: a body arriving in pieces closer than the deadline is read."""
    ctype, body = multipart(images.jpeg())
    step = len(body) // 4 + 1
    with connect(server) as s:
        s.sendall(
            "POST /api/v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        for i in range(0, len(body), step):  # 4 pieces, half a deadline apart
            time.sleep(BODY_TIMEOUT * 0.5)
            s.sendall(body[i : i + step])
        status, _, answer = parse(read_until_closed(s))
    assert status == 200, answer


def test_connections_past_the_bound_get_503_overloaded(server):
    held = [connect(server) for _ in range(MAX_CONNECTIONS)]
    try:
        with connect(server) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            headers = assert_refused(read_until_closed(s), 503, "overloaded")
            assert headers["retry-after"] == "1"
    finally:
        for s in held:
            s.close()
    assert_serving(server)  # the bound counts open connections only


def test_normal_requests_succeed_while_50_slow_clients_hold_connections(server):
    slow = []
    try:
        for _ in range(50):
            s = connect(server)
            s.sendall(b"POST /api/v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            slow.append(s)
        assert_serving(server)
        # The slow ones do not stay: each is answered 408 at its deadline.
        start = time.monotonic()
        for s in slow:
            assert_refused(read_until_closed(s), 408, "request_timeout")
        assert time.monotonic() - start < HEADER_TIMEOUT + SLACK
        assert_serving(server)
    finally:
        for s in slow:
            s.close()
