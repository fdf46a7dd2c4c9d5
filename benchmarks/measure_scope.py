"""Measure the scope check (``aidetect/scope.py``) on real pictures: its false
out-of-scope rate on camera photographs, on generated images, on the synthetic
out-of-scope examples, and its cost on a 12-megapixel photo.

    .venv/bin/python benchmarks/measure_scope.py \\
        --real ~/.cache/aidetect/sources/photos --real-crops ~/data/corpus-v1 \\
        --generated /path/to/generated [--out scope.json]

``--real``: folders of camera photographs (searched recursively; the corpus builder
leaves the photos it extracted from packages in ``~/.cache/aidetect/sources/photos``,
``aidetect corpus build --sources installed|minimal|all``). ``--real-crops``: a
corpus folder with ``manifest.csv``: its label-0 (camera) crops are measured too.
``--generated``: folders of generated images (never committed). Prints and writes
one JSON object: per set, how many pictures, how many the check calls out of scope
and why, the files it called out of scope, and low percentiles of each statistic.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from aidetect.imaging import IMAGE_SUFFIXES, DecodeLimits, decode_file
from aidetect.scope import judge, measure
from tests.support.images import out_of_scope_examples

LIMITS = DecodeLimits(max_bytes=200 * 1024 * 1024, max_pixels=200_000_000)


def files_under(folders: list[Path]) -> list[Path]:
    return sorted(p for f in folders for p in f.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def summarise(name: str, items: list[tuple[str, np.ndarray]]) -> dict:
    stats, flagged, rules = [], [], {}
    for label, pixels in items:
        s = measure(pixels)
        stats.append(s)
        verdict = judge(s)
        if verdict is not None:
            rules[verdict.rule] = rules.get(verdict.rule, 0) + 1
            flagged.append({"file": label, "rule": verdict.rule, "reason": verdict.reason})
    n = len(items)

    def pct(field: str, q: float) -> float:
        return round(float(np.percentile([getattr(s, field) for s in stats], q)), 3)

    fields = ("luma_std", "top4_share", "edges", "max_tile_corr")
    return {
        "set": name,
        "n": n,
        "out_of_scope": len(flagged),
        "out_of_scope_rate": round(len(flagged) / n, 4) if n else None,
        "rules": rules,
        "flagged": flagged,
        "percentiles": {
            f: {
                "min": pct(f, 0),
                "p1": pct(f, 1),
                "p50": pct(f, 50),
                "p99": pct(f, 99),
                "max": pct(f, 100),
            }
            for f in fields
        }
        if stats
        else {},
    }


def load(paths: list[Path]) -> list[tuple[str, np.ndarray]]:
    out = []
    for p in paths:
        try:
            out.append((str(p), decode_file(p, LIMITS).pixels))
        except Exception as exc:  # an unreadable file is reported, not measured
            print(f"skipped {p}: {exc}", file=sys.stderr)
    return out


def crops_of(corpus: Path) -> list[Path]:
    with open(corpus / "manifest.csv", newline="") as f:
        return [corpus / r["path"] for r in csv.DictReader(f) if r["label"] == "0"]


def cost_ms(runs: int = 20) -> float:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:3000, 0:4000].astype(np.float32)
    rgb = np.stack([128 + 60 * np.sin(xx / 97), 110 + 50 * np.cos(yy / 63), 100 + 0 * xx], -1)
    photo = np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        judge(measure(photo))
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", type=Path, action="append", default=[])
    ap.add_argument("--real-crops", type=Path, action="append", default=[])
    ap.add_argument("--generated", type=Path, action="append", default=[])
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    sets = []
    if args.real:
        sets.append(summarise("camera photographs", load(files_under(args.real))))
    for corpus in args.real_crops:
        sets.append(summarise(f"camera crops ({corpus.name})", load(crops_of(corpus))))
    if args.generated:
        sets.append(summarise("generated images", load(files_under(args.generated))))
    examples = out_of_scope_examples()
    synthetic = summarise("synthetic out-of-scope", [(k, a) for k, (_, a) in examples.items()])
    synthetic["expected_rules_met"] = all(
        f["rule"] == examples[f["file"]][0] for f in synthetic["flagged"]
    ) and synthetic["out_of_scope"] == len(examples)
    sets.append(synthetic)
    report = {"median_ms_12mp": cost_ms(), "sets": sets}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
