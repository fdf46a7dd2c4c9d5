"""A real server: ``aidetect serve`` in a subprocess answering real HTTP on loopback."""

from __future__ import annotations

import base64
import threading
import time

import httpx
import pytest

from tests.support import images
from tests.support.server import running_server
from tests.support.tiny_models import toy_images

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tiny_models, tmp_path_factory):
    with running_server(tiny_models, tmp_path_factory.mktemp("loopback")) as srv:
        yield srv


MARKER = b"UPLOAD-MARKER-7f3a9c"


def marked_png() -> bytes:
    """A valid PNG whose bytes carry a marker string (in a text chunk)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER.decode())
    return images.encode(images.photo_like(), "PNG", pnginfo=info)


def test_real_http_detect_batch_models_legacy(server):
    url = server["url"]
    data = marked_png()
    r = httpx.post(url + "/api/v1/detect", files={"file": ("m.png", data, "image/png")}, timeout=60)
    assert r.status_code == 200 and r.json()["verdict"] in ("ai_generated", "real", "uncertain")
    r = httpx.post(
        url + "/api/v1/detect", json={"image": base64.b64encode(data).decode()}, timeout=60
    )
    assert r.status_code == 200
    files = [
        ("files", ("a.png", data)),
        ("files", ("b.txt", b"nope")),
        ("files", ("c.jpg", images.jpeg())),
    ]
    r = httpx.post(url + "/api/v1/detect/batch", files=files, timeout=60)
    assert [x["ok"] for x in r.json()["results"]] == [True, False, True]
    r = httpx.post(url + "/", json={"bytes_data": base64.b64encode(data).decode()}, timeout=60)
    assert set(r.json()) == {"result_resnet", "proba_resnet"} and r.json()["result_resnet"] in (
        0,
        1,
    )
    assert httpx.get(url + "/api/v1/models").json()["default_model"] == "tiny-cnn"
    assert httpx.get(url + "/openapi.json").status_code == 200
    r = httpx.post(url + "/api/v1/detect", files={"file": ("x.jpg", b"text")}, timeout=60)
    assert (r.status_code, r.json()["code"]) == (415, "unsupported_media_type")


def test_healthz_answers_while_a_large_batch_runs(server):
    url = server["url"]
    x, _ = toy_images(12, 384, seed=1)
    files = [("files", (f"{i}.png", images.png(a))) for i, a in enumerate(x)]
    done = {}

    def run_batch():
        done["r"] = httpx.post(
            url + "/api/v1/detect/batch?model=tiny-ensemble", files=files, timeout=120
        )

    t = threading.Thread(target=run_batch)
    t.start()
    latencies = []
    while t.is_alive():
        start = time.perf_counter()
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200
        latencies.append(time.perf_counter() - start)
        time.sleep(0.05)
    t.join()
    assert done["r"].status_code == 200 and len(done["r"].json()["results"]) == 12
    assert len(latencies) >= 2  # health was polled during the batch and always answered


def test_nothing_uploaded_is_written_to_disk_or_logged(server):
    url = server["url"]
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER.decode())
    big = images.encode(images.photo_like(2000, 1500), "PNG", pnginfo=info)
    assert len(big) > 1_100_000  # Starlette's own form parser would spool this to disk
    r = httpx.post(url + "/api/v1/detect", files={"file": ("secret-name.png", big)}, timeout=120)
    assert r.status_code == 200
    r = httpx.post(
        url + "/api/v1/detect/batch", files=[("files", ("secret-name.png", big))], timeout=120
    )
    assert r.status_code == 200
    assert list(server["tmpdir"].iterdir()) == []
    log = server["log"].read_bytes()
    assert MARKER not in log and b"secret-name" not in log
