"""Measure CPU throughput of the super-resolution fake generators (crops per second, one
process): the ESRGAN families and Real-ESRGAN (``--families realesrgan-x4plus``).

    nice -n 10 .venv/bin/python aidetect_training/generators/benchmark_esrgan.py \
        --crop 256 --repeats 5

Each timing covers the whole fake: bicubic downscale of a crop by s, the network's x s
upscale, the centre crop back to the crop size. The first call per model (graph tracing)
is excluded. TensorFlow threads default to 1 per process, as in ``aidetect corpus build``;
Real-ESRGAN (ncnn) uses its own default thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--families", default="esrgan-slim,esrgan-medium,esrgan-thick")
    ap.add_argument("--npm-cache", default=None)
    args = ap.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import sklearn.datasets
    import tensorflow as tf

    from aidetect.corpus.build import DEFAULT_NPM_CACHE, expand_generators, load_upscaler, make_fake

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    npm_cache = Path(args.npm_cache or DEFAULT_NPM_CACHE)
    china = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"
    img = np.asarray(Image.open(china).convert("RGB"))
    c = args.crop
    crop = np.ascontiguousarray(img[:c, :c])
    results = {}
    for gen in expand_generators(args.families):
        up = load_upscaler(gen, npm_cache)
        make_fake(crop, up)  # warm-up (tracing)
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            make_fake(crop, up)
        dt = (time.perf_counter() - t0) / args.repeats
        results[gen] = {"s_per_crop": round(dt, 3), "crops_per_s": round(1 / dt, 2)}
        print(gen, results[gen], flush=True)
    print(json.dumps({"crop": c, "threads": args.threads, "results": results}, indent=2))


if __name__ == "__main__":
    main()
