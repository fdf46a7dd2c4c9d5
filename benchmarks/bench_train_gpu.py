"""Benchmark: end-to-end training throughput (JPEG files on disk -> trained model).

Writes ``--n`` JPEG files of a CIFAKE-like size (32x32) and of an ArtiFact-like
size (200x200) to a temporary folder, then for each architecture (``cnn``,
``resnet50``) trains through the same code as ``aidetect train`` (the
``ImageDataset`` loader decoding in ``--workers`` processes, ``aidetect.preprocess``,
Keras ``fit``) and reports images per second:

- ``loader_images_per_second``: the data pipeline alone (decode + preprocess +
  augmentation), the ceiling it puts on training;
- ``train_images_per_second``: end to end, training rows over ``fit`` wall time
  (includes the first epoch's compilation; use ``--epochs 2`` or more on a GPU and
  read ``steady_images_per_second``, the last epoch alone).

Meant for the GPU machine (``KERAS_BACKEND=jax``, ``--mixed-precision``, large
batches); on a CPU use tiny counts only to check that it runs. ``--record``
appends a section to docs/benchmarks.md.

    KERAS_BACKEND=jax python benchmarks/bench_train_gpu.py --n 8192 --epochs 2 \\
        --batch-size 256 --mixed-precision --workers 16 --record
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_jpegs(root: Path, n: int, size: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for folder in ("REAL", "FAKE"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if i % 2:
            small = rng.normal(128, 40, (size // 2, size // 2, 3))
            img = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)
        else:
            img = rng.normal(128, 40, (size, size, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            root / ("FAKE" if i % 2 else "REAL") / f"{i:06d}.jpg", quality=90
        )


def epoch_timer():
    """A Keras callback recording each epoch's wall time in ``.times``."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    return EpochTimer()


def loader_rate(samples, spec, batch_size: int, workers: int, augment) -> float:
    from aidetect_training.data import ImageDataset, iterate

    ds = ImageDataset(samples, spec, batch_size, augment=augment, shuffle=True, workers=workers)
    t0 = time.perf_counter()
    n = sum(len(b[1]) for b in iterate(ds, workers))
    return n / (time.perf_counter() - t0)


def bench(arch: str, size: int, data: Path, args) -> dict:

    from aidetect_training import cnn, keras_fit, resnet50
    from aidetect_training.config import RunConfig
    from aidetect_training.run import load_splits, resolve

    options = resnet50.ResNetOptions(weights="none") if arch == "resnet50" else None
    cfg = resolve(RunConfig(
        data=data, arch=arch, output=data.parent / "models" / f"{arch}-{size}",
        image_size=size, epochs=args.epochs, batch_size=args.batch_size, workers=args.workers,
        mixed_precision=args.mixed_precision, augment=tuple(args.augment), val=0.0, test=0.0,
        arch_options=options, progress=False,
    ))  # fmt: skip
    splits = load_splits(cfg)
    spec = cfg.spec("raw")
    loader = loader_rate(splits.train, spec, args.batch_size, args.workers, cfg.augment)
    keras_fit.setup(cfg)
    try:
        if arch == "cnn":
            model = cnn.build_seed_cnn(size)
        else:
            model, _ = resnet50.build(size, None)
        keras_fit.compile_model(model, cfg, 1e-3)
        train_ds, _ = keras_fit.datasets(cfg, splits, spec)
        timer = epoch_timer()
        t0 = time.perf_counter()
        model.fit(train_ds, epochs=args.epochs, callbacks=[timer], verbose=0, shuffle=False)
        seconds = time.perf_counter() - t0
    finally:
        keras_fit.teardown()
    n = len(splits.train)
    return {
        "arch": arch,
        "size": size,
        "train_images": n,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "mixed_precision": args.mixed_precision,
        "augment": list(cfg.augment),
        "device": keras_fit.device(),
        "loader_images_per_second": round(loader, 1),
        "train_images_per_second": round(n * args.epochs / seconds, 1),
        "steady_images_per_second": round(n / timer.times[-1], 1) if args.epochs > 1 else None,
    }


def record(results: list[dict]) -> None:
    path = REPO / "docs" / "benchmarks.md"
    lines = [
        "",
        f"## Training throughput, end to end from JPEG files ({dt.date.today()})",
        "",
        "`python benchmarks/bench_train_gpu.py " + " ".join(sys.argv[1:]) + "`",
        "",
        "| arch | size | device | batch | workers | mixed precision | loader img/s | "
        "train img/s | steady img/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['arch']} | {r['size']} | {r['device']} | {r['batch_size']} | {r['workers']} | "
            f"{r['mixed_precision']} | {r['loader_images_per_second']} | "
            f"{r['train_images_per_second']} | {r['steady_images_per_second']} |"
        )
    path.parent.mkdir(exist_ok=True)
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    from aidetect_training.data import parse_augment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="images per size")
    parser.add_argument("--sizes", default="32,200")
    parser.add_argument("--archs", default="cnn,resnet50")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--augment", default="flip,jpeg", type=parse_augment)
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            data = tmp / f"data{size}"
            write_jpegs(data, args.n, size)
            for arch in args.archs.split(","):
                if arch == "resnet50" and size < 32:
                    continue
                results.append(bench(arch, size, data, args))
                print(json.dumps(results[-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"benchmark": "train-end-to-end", "results": results}, indent=2))
    if args.record:
        record(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
