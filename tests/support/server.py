"""A real ``aidetect serve`` in a subprocess on 127.0.0.1, for tests that need real HTTP.

Start-up and shutdown are the benchmarks' (``benchmarks.common.serve``); this adds
what the tests watch: an empty TMPDIR of the server's own and its log file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from benchmarks.common import free_port, serve


@contextmanager
def running_server(
    models_dir: Path, workdir: Path, env: dict[str, str] | None = None, timeout_s: float = 180
) -> Iterator[dict]:
    """Yields ``{"url", "port", "tmpdir", "log"}``; the process is stopped on exit."""
    port = free_port()
    tmpdir = workdir / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "server.log"
    full_env = {
        "PORT": str(port),
        "AIDETECT_MODELS_DIR": str(models_dir),
        "AIDETECT_FRONTEND_DIST": "/nonexistent",
        "AIDETECT_LOG_LEVEL": "debug",
        "TMPDIR": str(tmpdir),
        **(env or {}),
    }
    cmd = [sys.executable, "-m", "aidetect.cli", "serve", "--port", str(port)]
    with ExitStack() as stack:
        try:
            url, _ = stack.enter_context(serve(cmd, full_env, log, timeout=timeout_s))
        except RuntimeError as exc:  # exited or never ready: the log is in the message
            pytest.fail(str(exc))
        yield {"url": url, "port": port, "tmpdir": tmpdir, "log": log}
