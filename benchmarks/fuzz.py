"""The hostile-image corpus at scale: ``scripts/bench --fuzz [--count N] [--seed S]``.

Runs ``N`` seeded mutations (default 20,000) plus every hand-made hostile case through
``Detector.detect`` (decode, provenance, the tiny CNN), recording crashes (anything
but a typed ``AIDetectError``), the slowest files and the largest peak RSS. Writes
``benchmarks/results/fuzz.json``; exits 1 on any crash.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from benchmarks.common import REPO, machine, prepare_models


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    from aidetect.inference import Detector
    from aidetect.registry import Registry
    from tests.fuzz.corpus import corpus
    from tests.fuzz.runner import run_core

    root, _ = prepare_models(None)
    det = Detector(Registry(root), default_model="tiny-cnn", decode_threads=1)
    det.load_all()
    t = time.perf_counter()
    rows = corpus(args.count, args.seed)
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    report = run_core(det, rows, "tiny-cnn")
    run_s = time.perf_counter() - t
    out = {
        "machine": machine(),
        "count": len(rows),
        "seed": args.seed,
        "generate_s": round(gen_s, 1),
        "run_s": round(run_s, 1),
        "results": dict(report.results().most_common()),
        "crashes": [asdict(o) for o in report.crashes],
        "slowest": [asdict(o) for o in report.slowest(10)],
        "largest_peak_rss": [asdict(o) for o in report.hungriest(10)],
    }
    path = REPO / "benchmarks" / "results" / "fuzz.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: out[k] for k in ("count", "run_s", "results")}, indent=2))
    for o in report.crashes[:20]:
        print("CRASH", o.category, o.name, o.result)
    return 1 if report.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
