"""``aidetect serve`` (registered in the ``aidetect.commands`` entry-point group)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from aidetect import __version__
from aidetect.cli import NO_MODEL_HELP, _settings


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from aidetect.registry import Registry

    registry = Registry(settings.models_dir)
    if not registry.names():
        sys.stderr.write(NO_MODEL_HELP.format(models_dir=registry.root))
        return 2
    for n in registry.names():  # fail now, with the reason, rather than serve a broken model
        registry.verify(n)
    # Uvicorn workers import the app afresh: hand them the settings through the environment.
    env = {
        "AIDETECT_MODELS_DIR": str(settings.models_dir),
        "AIDETECT_HOST": args.host or settings.host,
        "AIDETECT_PORT": str(args.port or settings.port),
    }
    os.environ.update(env)
    import logging

    import uvicorn

    from aidetect_server.protocol import GuardedH11Protocol

    # the app's own messages (ready, memory budget, batches stopped) beside uvicorn's
    logging.basicConfig(format="%(levelname)s:     %(name)s: %(message)s")
    logging.getLogger("aidetect").setLevel(settings.log_level.upper())

    host, port = env["AIDETECT_HOST"], int(env["AIDETECT_PORT"])
    workers = args.workers or settings.workers
    print(f"aidetect {__version__}: serving {registry.root} on http://{host}:{port}", flush=True)
    uvicorn.run(
        "aidetect_server.app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        access_log=False,  # paths only would be harmless, but keep logs free of client data
        timeout_graceful_shutdown=10,
        http=GuardedH11Protocol,  # header/body deadlines and a connection bound
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the API and the web page")
    p.add_argument("--host", help="bind address (AIDETECT_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (AIDETECT_PORT, default 8000)")
    p.add_argument("--workers", type=int, help="worker processes (AIDETECT_WORKERS)")
    p.add_argument("--models-dir", type=Path, help="models folder (AIDETECT_MODELS_DIR)")
    p.set_defaults(func=cmd_serve)
