"""Shared by the serving benchmark, the load test and the large fuzz run.

Machine description, the benchmark models folder (a ResNet50 artifact built here when
none is installed, plus the tiny test models), synthetic JPEGs of given sizes, a real
``aidetect serve`` in a subprocess on 127.0.0.1, and rewriting one delimited section of
a Markdown file so that other people's sections survive regeneration.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_CACHE = Path(os.environ.get("AIDETECT_BENCH_CACHE", REPO / ".cache" / "bench"))
RESNET_NAME = "resnet50-bench"
TINY = ["tiny-cnn", "tiny-svm", "tiny-ensemble"]
ENSEMBLE_NAME = "bench-ensemble"


# --- machine ----------------------------------------------------------------------------------
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def machine() -> dict:
    import keras

    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "loadavg_start": loadavg(),
    }
    with contextlib.suppress(ImportError):
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    return info


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- statistics -------------------------------------------------------------------------------
def pct(values: Sequence[float], q: float) -> float:
    """Percentile by linear interpolation (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def summary_ms(seconds: Sequence[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(pct(ms, 95), 1) if ms else None,
        "min_ms": round(min(ms), 1) if ms else None,
    }


# --- models -----------------------------------------------------------------------------------
def build_resnet50(out: Path) -> None:
    """The seed's architecture, untrained: ResNet50 (no top) + preprocessing + GAP + sigmoid.

    Latency does not depend on the weights' values, only on the graph, so random
    initial weights measure exactly what a trained model of the same shape costs.
    """
    import keras

    from aidetect.layers import ResNetPreprocess
    from aidetect.registry import write_artifact

    keras.utils.set_random_seed(0)
    inp = keras.Input((200, 200, 3))
    x = ResNetPreprocess()(inp)
    base = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(200, 200, 3))
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out_ = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inp, out_, name="resnet50_bench")
    write_artifact(
        out / RESNET_NAME,
        {
            "name": RESNET_NAME,
            "architecture": "resnet50",
            "version": "0.0.0-bench",
            "description": "Untrained ResNet50 for latency benchmarks only; never a detector.",
            "input": {"policy": "resize", "size": 200, "scale": "raw"},
            "threshold": 0.5,
            "legacy": True,
        },
        keras_model=model,
    )


def has_resnet(root: Path) -> str | None:
    from aidetect.registry import Registry

    reg = Registry(root)
    for n in reg.names():
        with contextlib.suppress(Exception):
            if reg.metadata(n).architecture.lower().startswith("resnet"):
                return n
    return None


def prepare_models(models_dir: Path | None, cache: Path = DEFAULT_CACHE) -> tuple[Path, dict]:
    """A models folder for the benchmark and the names of its rows.

    The installed models (``--models-dir``) are copied in, a ResNet50 is built when none
    is installed, and the tiny test models are added when nothing else is, plus an
    ensemble of everything. The folder lives in the (git-ignored) cache and is reused.
    """
    import keras

    from aidetect.registry import Registry, write_artifact
    from tests.support import tiny_models

    root = cache / f"models-keras{keras.__version__}"
    root.mkdir(parents=True, exist_ok=True)
    installed: list[str] = []
    if models_dir is not None and Path(models_dir).is_dir():
        src = Registry(models_dir)
        for n in src.names():
            src.verify(n)
            if not (root / n).exists():
                shutil.copytree(src.root / n, root / n)
            installed.append(n)
    resnet = has_resnet(root) if installed else None
    if resnet is None:
        resnet = RESNET_NAME
        if not (root / RESNET_NAME / "metadata.json").is_file():
            print(f"[bench] building {RESNET_NAME} in {root}", file=sys.stderr)
            build_resnet50(root)
    singles = [n for n in installed if Registry(root).metadata(n).format != "ensemble"]
    if not installed:
        if not all((root / n / "metadata.json").is_file() for n in TINY):
            print(f"[bench] building the tiny test models in {root}", file=sys.stderr)
            tiny_models.build_all(root)
        singles = ["tiny-cnn", "tiny-svm"]
    members = sorted({resnet, *singles})
    ens_meta = root / ENSEMBLE_NAME / "metadata.json"
    if not ens_meta.is_file() or json.loads(ens_meta.read_text()).get("members") != [
        {"name": m, "weight": 1.0} for m in members
    ]:
        write_artifact(
            root / ENSEMBLE_NAME,
            {
                "name": ENSEMBLE_NAME,
                "architecture": "ensemble",
                "format": "ensemble",
                "members": [{"name": m, "weight": 1.0} for m in members],
                "threshold": 0.5,
            },
        )
    reg = Registry(root)
    names = [n for n in reg.names() if n in {resnet, *singles, *installed, ENSEMBLE_NAME}]
    if not installed:
        names = [resnet, "tiny-cnn", "tiny-svm", "tiny-ensemble", ENSEMBLE_NAME]
    sklearn = [n for n in singles if reg.metadata(n).format == "sklearn"]
    # throughput is measured for the model users get: the default, else a light one
    default = reg.default_name()
    light = default if default in installed else None
    return root, {
        "resnet": resnet,
        "rows": names,
        "light": light or ("tiny-svm" if "tiny-svm" in names else (sklearn or [resnet])[0]),
        "built_resnet": resnet == RESNET_NAME,
        "installed": installed,
    }


# --- images -----------------------------------------------------------------------------------
SIZES = {"0.3MP": (640, 480), "2MP": (1632, 1224), "12MP": (4000, 3000)}


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth colour structure plus sensor-like noise (JPEG sizes close to camera files)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [
            128 + 60 * np.sin(xx / 97 + seed) + 40 * np.cos(yy / 63),
            110 + 50 * np.sin((xx + yy) / 151),
            90 + 70 * np.cos(xx / 59 - yy / 141 + seed),
        ],
        axis=-1,
    )
    rgb += rng.normal(0, 6, rgb.shape).astype(np.float32)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def jpeg_bytes(width: int, height: int, seed: int = 0, quality: int = 90) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(photo(width, height, seed)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


# --- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(
    cmd: list[str], env: dict[str, str], log: Path, ready_path: str = "/readyz", timeout=300
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run a server command (its port in ``env['PORT']``) until it answers ``ready_path``."""
    import httpx

    port = env["PORT"]
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.time() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + ready_path, timeout=2).status_code == 200:
                        break
                if time.time() > deadline:
                    raise RuntimeError(f"server not ready: {log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def aidetect_server(models_root: Path, log: Path, **settings: str):
    """``aidetect serve`` on a free loopback port; extra ``AIDETECT_*`` settings by keyword."""
    port = str(free_port())
    env = {
        "PORT": port,
        "AIDETECT_MODELS_DIR": str(models_root),
        "AIDETECT_FRONTEND_DIST": "/nonexistent",
        "AIDETECT_LOG_LEVEL": "warning",
        **{f"AIDETECT_{k.upper()}": str(v) for k, v in settings.items()},
    }
    cmd = [sys.executable, "-m", "aidetect.cli", "serve", "--host", "127.0.0.1", "--port", port]
    return serve(cmd, env, log)


# --- docs -------------------------------------------------------------------------------------
def replace_section(path: Path, key: str, body: str, title_if_new: str = "") -> None:
    """Replace ``<!-- key:start -->...<!-- key:end -->`` in ``path`` (append when absent)."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else (title_if_new or "")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + ("\n\n" if text.strip() else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
