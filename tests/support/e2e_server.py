"""Start the real backend for browser tests: ``python -m tests.support.e2e_server --port P``.

Serves ``frontend/dist`` and real models: the committed ``models/`` when it holds
any (``--models committed``), else tiny models trained on the spot
(``--models tiny``, the default when ``models/`` is empty). Prints
``READY http://127.0.0.1:P`` once ``/readyz`` answers 200, then serves until killed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--models", choices=["auto", "committed", "tiny"], default="auto")
    args = parser.parse_args()

    from aidetect.registry import Registry

    models_dir = REPO / "models"
    use_tiny = args.models == "tiny" or (args.models == "auto" and not Registry(models_dir).names())
    tmp = None
    if use_tiny:
        from tests.support.tiny_models import build_all

        tmp = tempfile.TemporaryDirectory(prefix="aidetect-e2e-")
        models_dir = Path(tmp.name)
        build_all(models_dir)

    os.environ["AIDETECT_MODELS_DIR"] = str(models_dir)
    os.environ["AIDETECT_FRONTEND_DIST"] = str(REPO / "frontend" / "dist")
    import uvicorn

    config = uvicorn.Config(
        "aidetect_server.app.main:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    url = f"http://127.0.0.1:{args.port}"

    def announce() -> None:
        for _ in range(600):
            try:
                with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        print(f"READY {url}", flush=True)
                        return
            except OSError:
                pass
            time.sleep(0.2)
        print("NOT READY after 120 s", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
