"""Benchmark: the scalable SVM (``aidetect train --arch svm``) on CIFAKE-size images.

Writes ``--n`` synthetic 32x32 PNGs to a temporary folder (half smooth noise =
"real", half 2x nearest-up-sampled noise = "AI", as in tests/support/tiny_models),
trains ``--svm-mode fast`` on the training split through the normal pipeline
(parallel decoding, streamed feature extraction, calibrated LinearSVC) and
scores validation and test through the serving path (Registry + Detector +
evaluate). Prints timing JSON. The target: 100,000 images in under 10 minutes
on a 2-core machine. With ``--n`` smaller than 100,000 the result also gives a
linear extrapolation (feature extraction and evaluation are linear in n; the
LinearSVC fit is close to linear): say so when quoting it.

    python benchmarks/bench_svm.py --n 100000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 100_000


def write_images(root: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for folder in ("REAL", "FAKE"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if i % 2:
            small = rng.normal(128, 40, (16, 16, 3))
            img = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)
        else:
            img = rng.normal(128, 40, (32, 32, 3))
        folder = "FAKE" if i % 2 else "REAL"
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            root / folder / f"{i:06d}.png", compress_level=1
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=TARGET, help="images to generate")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--keep", type=Path, help="use/keep the images in this folder")
    args = parser.parse_args(argv)

    from aidetect_training import svm
    from aidetect_training.config import RunConfig
    from aidetect_training.run import finish_run, load_splits, resolve

    tmp = Path(tempfile.mkdtemp(prefix="bench-svm-"))
    data = args.keep or tmp / "data"
    t0 = time.perf_counter()
    if not (data / "REAL").is_dir():
        write_images(data, args.n)
    t_gen = time.perf_counter() - t0
    cfg = resolve(RunConfig(
        data=data, arch="svm", output=tmp / "models" / "bench-svm", augment=(),
        workers=args.workers, batch_size=512, progress=False,
    ))  # fmt: skip
    t0 = time.perf_counter()
    splits = load_splits(cfg)
    t_list = time.perf_counter() - t0
    trained = svm.ARCHITECTURE.train(cfg, splits)
    t0 = time.perf_counter()
    meta = finish_run(cfg, splits, trained)
    t_eval = time.perf_counter() - t0
    n_train, n_scored = len(splits.train), len(splits.val) + len(splits.test)
    total = t_list + trained.train_seconds + t_eval
    scale = TARGET / args.n
    result = {
        "benchmark": "svm-fast",
        "images": args.n,
        "train_images": n_train,
        "scored_images": n_scored,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "seconds": {
            "generate_pngs": round(t_gen, 1),
            "list_and_split": round(t_list, 2),
            "features": trained.details["feature_seconds"],
            "fit": trained.details["fit_seconds"],
            "train_total": round(trained.train_seconds, 1),
            "validate_and_evaluate": round(t_eval, 1),
            "end_to_end": round(total, 1),
        },
        "train_images_per_second": round(n_train / trained.train_seconds, 1),
        "evaluation_images_per_second": round(n_scored / t_eval, 1),
        "test_accuracy": meta["metrics"]["test"]["accuracy"],
        "extrapolated_end_to_end_seconds_for_100k": None if scale == 1 else round(total * scale),
        "under_10_minutes": (total * scale) < 600,
    }
    print(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
