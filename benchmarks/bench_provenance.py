"""How long ``aidetect.provenance.analyse`` adds to a 12-megapixel camera JPEG.

The detector already has the opened Pillow image and the decoded upright pixels,
so this times ``analyse(data, image, rgb)`` only: the container walk, EXIF, the
C2PA pre-check (no manifest here, so c2pa is not called) and the watermark
decoder on its bounded region. Budget: 20 ms at the median.

    .venv/bin/python benchmarks/bench_provenance.py [--runs 30]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from aidetect.provenance import analyse

BUDGET_MS = 20.0


def camera_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [
            128 + 60 * np.sin(xx / 97) + 40 * np.cos(yy / 63),
            110 + 50 * np.sin((xx + yy) / 151),
            90 + 70 * np.cos(xx / 59 - yy / 141),
        ],
        axis=-1,
    )
    rgb += rng.normal(0, 8, rgb.shape).astype(np.float32)
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "Canon EOS R6", "Firmware 1.8.1"
    exif[0x0112] = 1
    sub = exif.get_ifd(0x8769)
    sub[0x829A], sub[0x829D], sub[0x8827] = 1 / 250, 2.8, 400
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()

    data = camera_jpeg()
    image = Image.open(io.BytesIO(data))
    image.load()
    rgb = np.ascontiguousarray(ImageOps.exif_transpose(image).convert("RGB"))
    evidence = analyse(data, image, rgb)  # warm-up (imports, first c2pa/numpy calls)
    times = []
    for _ in range(max(args.runs, 20)):
        t = time.perf_counter()
        analyse(data, image, rgb)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        json.dumps(
            {
                "benchmark": "aidetect.provenance.analyse(data, image, rgb)",
                "image": f"{image.width}x{image.height} JPEG q90 with camera EXIF, in memory",
                "bytes": len(data),
                "runs": len(times),
                "median_ms": round(median, 2),
                "p95_ms": round(p95, 2),
                "min_ms": round(times[0], 2),
                "max_ms": round(times[-1], 2),
                "budget_median_ms": BUDGET_MS,
                "within_budget": median <= BUDGET_MS,
                "evidence": [f"{e.kind}/{e.signal}/{e.strength}" for e in evidence],
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpu_count": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
