"""Calibration and thresholds: each model's shipped threshold and band against the
test split (FPR on reals, ECE, logit slope), and a source-format shortcut probe."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aidetect.datasets import evaluation_samples
from aidetect.evaluation import summarise
from aidetect_training.experiments.shared import (
    GOALS,
    band_text,
    command,
    detector_for,
    fingerprint,
    finished_models,
    merge_results,
    num,
    read_json,
    run_evaluate,
)


def cmd_calibration(a: argparse.Namespace) -> dict[str, Any]:
    test = evaluation_samples(a.data)
    detector = detector_for(a.models_dir)
    models = finished_models(a.models_dir, a.models.split(",") if a.models else None)
    results: dict[str, Any] = {}
    for name in models:
        meta = detector.registry.metadata(name)
        m = run_evaluate(
            detector, name, test, a.out / name, a.force, {"split": "test", "command": command()}
        )
        val = (meta.metrics or {}).get("validation") or {}
        results[name] = {
            "fingerprint": fingerprint(detector, name),
            "architecture": meta.architecture,
            "threshold": meta.threshold,
            "uncertain_band": list(meta.uncertain_band) if meta.uncertain_band else None,
            "threshold_rule": getattr(meta, "threshold_rule", None),
            "target_fpr": (meta.metrics or {}).get("target_fpr"),
            "validation_fpr": val.get("false_positive_rate"),
            "test_fpr": m["false_positive_rate"],
            "test_fpr_ok": m["false_positive_rate"] <= GOALS["test_fpr"],
            "ece": m["expected_calibration_error"],
            "logit_slope": logit_slope(a.out / name / "predictions.csv"),
            "reliability_plot": str(a.out / name / "reliability.png"),
            "test": summarise(m),
            "training_command": meta.command,
        }
    out = {
        "experiment": "calibration",
        "data": str(a.data),
        "command": command(),
        "models": results,
    }
    merge_results(a.out / "results.json", out)
    print(calibration_table(read_json(a.out / "results.json")))
    return out


def logit_slope(predictions_csv: Path) -> float | None:
    """Diagnostic: slope ``a`` of ``P(y=1) = sigmoid(a * logit(p) + b)`` fitted on a report's
    predictions. ``a > 1``: the scores are under-confident (squashed towards 0.5), ``a < 1``:
    over-confident. Fitted on the data it describes, so not a recalibration to ship.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    ys, ps = [], []
    with open(predictions_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["ai_probability"]:
                ys.append(int(row["label"]))
                ps.append(float(row["ai_probability"]))
    if len(set(ys)) < 2:
        return None
    p = np.clip(np.asarray(ps), 1e-6, 1 - 1e-6)
    z = np.log(p / (1 - p)).reshape(-1, 1)
    lr = LogisticRegression(C=1e6).fit(z, np.asarray(ys))
    return float(lr.coef_[0][0])


def calibration_table(res: dict[str, Any], models: Sequence[str] | None = None) -> str:
    lines = [
        "| model | threshold | uncertain band | FPR val (target) | FPR test reals | "
        "uncertain rate (test) | ECE (test) | logit slope | reliability plot |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in res["models"].items():
        if models and name not in models:
            continue
        band_s = band_text(r["uncertain_band"])
        ok = "" if r["test_fpr_ok"] else " (over 5 %)"
        lines.append(
            f"| {name} | {r['threshold']:.4f} | {band_s} | {num(r['validation_fpr'])} "
            f"({num(r['target_fpr'], 2)}) | {num(r['test_fpr'])}{ok} | "
            f"{num(r['test'].get('uncertain_rate'))} | {num(r['ece'])} | "
            f"{num(r.get('logit_slope'), 2)} | "
            f"`{r['reliability_plot']}` |"
        )
    return "\n".join(lines)
