"""A real ``aidetect serve`` in a subprocess on 127.0.0.1, for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(
    models_dir: Path, workdir: Path, env: dict[str, str] | None = None, timeout_s: float = 180
) -> Iterator[dict]:
    """Start the server with its own empty TMPDIR and a log file under ``workdir``.

    Yields ``{"url", "port", "tmpdir", "log"}``; the process is stopped on exit.
    """
    port = free_port()
    tmpdir = workdir / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "server.log"
    full_env = {
        **os.environ,
        "AIDETECT_MODELS_DIR": str(models_dir),
        "AIDETECT_FRONTEND_DIST": "/nonexistent",
        "AIDETECT_LOG_LEVEL": "debug",
        "TMPDIR": str(tmpdir),
        **(env or {}),
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aidetect.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + timeout_s
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None:
                    pytest.fail(f"server exited: {log.read_text()}")
                if time.time() > deadline:
                    pytest.fail(f"server not ready after {timeout_s:g} s: {log.read_text()}")
                time.sleep(0.3)
            yield {"url": url, "port": port, "tmpdir": tmpdir, "log": log}
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
