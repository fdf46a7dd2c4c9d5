"""The server's memory budget: its arithmetic, the middleware that reserves bodies
before reading them, one-image-at-a-time batches, and abandoned batches stopping."""

from __future__ import annotations

import io
import re
import socket
import time

import anyio
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from aidetect.errors import OverloadedError, TooManyPixelsError
from aidetect.imaging import WORKING_BYTES_PER_PIXEL, DecodeLimits, working_bytes
from aidetect.settings import Settings
from aidetect_server.app.api.deps import get_detector
from aidetect_server.app.budget import MB, MemoryBudget, Reservation, default_budget_bytes
from aidetect_server.app.main import create_app
from tests.backend.fakes import FakeDetector
from tests.support import images
from tests.support.server import running_server


def png(width: int, height: int, seed: int = 0, noise: bool = True) -> bytes:
    if noise:
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:  # smooth: a small file with many pixels to decode
        y, x = np.mgrid[0:height, 0:width]
        pixels = np.stack([x * 255 // width, y * 255 // height, (x + y + seed) % 256], -1)
        pixels = pixels.astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


# --- arithmetic -------------------------------------------------------------------------------
def test_default_budget_is_40_percent_of_memory_within_bounds() -> None:
    assert default_budget_bytes(4096 * MB) == int(4096 * MB * 0.4)
    assert default_budget_bytes(1024 * MB) == 512 * MB
    assert default_budget_bytes(64 * 1024 * MB) == 4096 * MB
    assert default_budget_bytes(8192 * MB, workers=2) == int(8192 * MB * 0.4 / 2)


def test_working_memory_comes_from_the_header_alone() -> None:
    # 9000 x 9000 of one colour: a few hundred KB of PNG, 1.3 GB to decode and score
    big = Image.new("L", (9000, 9000))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    data = buf.getvalue()
    assert len(data) < 2 * MB
    limits = DecodeLimits(max_bytes=20 * MB, max_pixels=100_000_000)
    assert working_bytes(data, limits) == 9000 * 9000 * WORKING_BYTES_PER_PIXEL
    with pytest.raises(TooManyPixelsError):
        working_bytes(data, DecodeLimits(max_bytes=20 * MB, max_pixels=50_000_000))


def test_reservations_wait_in_order_and_are_granted_on_release() -> None:
    async def main() -> None:
        budget = MemoryBudget(100, wait_s=5)
        await budget.acquire(60)
        order = []

        async def want(n: int, name: str) -> None:
            await budget.acquire(n)
            order.append(name)

        async with anyio.create_task_group() as tg:
            tg.start_soon(want, 50, "first")
            await anyio.sleep(0.05)
            tg.start_soon(want, 10, "second")  # would fit now, but waits behind the first
            await anyio.sleep(0.05)
            assert (budget.used, budget.waiting, order) == (60, 2, [])
            budget.release(60)
        assert order == ["first", "second"]
        assert (budget.used, budget.peak, budget.waiting) == (60, 60, 0)

    anyio.run(main)


def test_a_wait_is_bounded_in_time_and_in_length() -> None:
    async def main() -> None:
        budget = MemoryBudget(100, wait_s=0.2, max_waiting=1)
        await budget.acquire(90)
        started = time.monotonic()
        async with anyio.create_task_group() as tg:

            async def waits() -> None:
                with pytest.raises(OverloadedError, match="no memory for this request"):
                    await budget.acquire(20)

            tg.start_soon(waits)
            await anyio.sleep(0.05)
            with pytest.raises(OverloadedError, match="busy"):  # the queue is full
                await budget.acquire(20)
        assert 0.15 < time.monotonic() - started < 2
        assert (budget.used, budget.waiting) == (90, 0)  # the timed-out waiter left the queue
        await budget.acquire(10)  # and what fits still fits
        assert budget.used == 100

    anyio.run(main)


def test_what_can_never_fit_is_refused_at_once() -> None:
    async def main() -> None:
        budget = MemoryBudget(100, wait_s=5)
        with pytest.raises(OverloadedError, match="more than this server's whole budget"):
            await budget.acquire(101)
        mine = Reservation(budget)
        await mine.grow(70)
        # 40 more would need 110 with what this request already holds: never, not "later"
        with pytest.raises(OverloadedError, match="whole budget"):
            await mine.grow(40)
        mine.shrink(30)
        await mine.grow(40)
        assert (mine.held, budget.used) == (80, 80)
        mine.close()
        assert (mine.held, budget.used) == (0, 0)

    anyio.run(main)


# --- the app (in process) ---------------------------------------------------------------------
def make_client(fake: FakeDetector, **settings) -> TestClient:
    app = create_app(
        Settings(models_dir="/nonexistent", frontend_dist="/nonexistent", **settings), load=False
    )
    app.state.aidetect.ready = True
    app.dependency_overrides[get_detector] = lambda: fake
    return TestClient(app)


def test_a_batch_holds_its_files_and_one_image_at_a_time() -> None:
    fake = FakeDetector()
    files = [png(300, 200, seed=i) for i in range(4)] + [png(800, 600, seed=9)]
    with make_client(fake) as client:
        budget = client.app.state.aidetect.budget
        r = client.post(
            "/api/v1/detect/batch", files=[("files", (f"{i}.png", d)) for i, d in enumerate(files)]
        )
        assert r.status_code == 200 and all(x["ok"] for x in r.json()["results"])
        body = int(r.request.headers["content-length"])
        largest_image = 800 * 600 * WORKING_BYTES_PER_PIXEL
        # the body first, then at most the files plus the largest image's pixels; never the
        # sum of all images' pixels (which is what decoding the whole batch at once takes)
        assert body < budget.peak <= body + largest_image
        assert budget.peak < body + sum(working_bytes(d) for d in files)
        assert budget.used == 0  # everything given back


def test_a_chunked_upload_past_the_budget_gets_503() -> None:
    fake = FakeDetector()
    with make_client(fake, memory_budget_mb=64, memory_wait_s=0.2) as client:

        def chunks():
            for _ in range(80):
                yield b"x" * MB

        r = client.post(
            "/api/v1/detect", content=chunks(), headers={"content-type": "application/json"}
        )
        assert (r.status_code, r.json()["code"]) == (503, "overloaded")
        assert r.headers["retry-after"]
        assert client.app.state.aidetect.budget.used == 0
        # the server goes on: a normal upload is answered
        r = client.post("/api/v1/detect", files={"file": ("a.png", images.png())})
        assert r.status_code == 200


# --- a real server on loopback ----------------------------------------------------------------
def raw_post(port: int, path: str, headers: dict[str, str], body: bytes = b"") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    s.sendall(head.encode() + b"\r\n" + body)
    return s


def read_answer(s: socket.socket, timeout: float) -> bytes:
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        pass
    return data


@pytest.mark.slow
def test_loopback_budget_and_abandoned_batches(tiny_models, tmp_path) -> None:
    env = {"AIDETECT_MEMORY_BUDGET_MB": "64", "AIDETECT_LOG_LEVEL": "info"}
    with running_server(tiny_models, tmp_path, env) as srv:
        # A batch declared larger than the whole budget: 503 before a byte of body is sent.
        s = raw_post(
            srv["port"],
            "/api/v1/detect/batch",
            {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(100 * MB)},
        )
        answer = read_answer(s, timeout=10)
        s.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b'"code":"overloaded"' in answer and b"retry-after" in answer.lower()

        # A batch whose client hangs up right after sending it stops between images
        # (3 MP each: 46 MB of working memory, seconds of work for the whole batch).
        n = 32
        files = [
            ("files", (f"{i}.png", png(2000, 1500, seed=i, noise=False), "image/png"))
            for i in range(n)
        ]
        request = httpx.Request("POST", srv["url"] + "/api/v1/detect/batch", files=files)
        body = request.read()
        assert len(body) < 64 * MB
        headers = {
            "Content-Type": request.headers["content-type"],
            "Content-Length": str(len(body)),
        }
        s = raw_post(srv["port"], "/api/v1/detect/batch", headers, body)
        time.sleep(0.2)
        s.close()
        stopped = None
        deadline = time.monotonic() + 60
        while stopped is None and time.monotonic() < deadline:
            found = re.search(rb"batch stopped after (\d+) of (\d+) files", srv["log"].read_bytes())
            stopped = (int(found[1]), int(found[2])) if found else None
            time.sleep(0.2)
        assert stopped is not None, srv["log"].read_text()[-2000:]
        assert stopped[1] == n and stopped[0] < n
        # and the server answers the next client, with all of its budget back
        r = httpx.post(
            srv["url"] + "/api/v1/detect/batch",
            files=[("files", ("a.png", images.png())), ("files", ("b.jpg", images.jpeg()))],
            timeout=60,
        )
        assert r.status_code == 200 and all(x["ok"] for x in r.json()["results"])
