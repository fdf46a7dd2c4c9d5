"""Robustness: the test split transformed alike for both classes (JPEG, downscale,
centre crop), each copy scored by every finished model."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aidetect.datasets import Sample, evaluation_samples, list_samples
from aidetect.evaluation import summarise
from aidetect_training.experiments.shared import (
    command,
    detector_for,
    fingerprint,
    finished_models,
    kind_of,
    merge_results,
    num,
    read_json,
    run_evaluate,
)
from aidetect_training.variants import SCREENSHOT_WIDTH, VARIANTS, write_variant


def ensure_variants(data: Path, out: Path, variants: Sequence[str], force: bool) -> dict:
    """Transformed test sets in ``out/variants/<variant>/`` (reused when complete)."""
    test = evaluation_samples(data)
    sets: dict[str, list[Sample]] = {}
    for v in variants:
        root = out / "variants" / v
        manifest = root / "manifest.csv"
        if not force and manifest.is_file():
            existing = list_samples(manifest)
            if len(existing) == len(test) and all(Path(s.path).is_file() for s in existing):
                sets[v] = existing
                continue
        if root.exists():
            shutil.rmtree(root)
        sets[v] = write_variant(test, root, v)
        print(f"[variants] {v}: {len(sets[v])} images in {root}", flush=True)
    return sets


# --- 1. robustness ------------------------------------------------------------------------------
def cmd_robustness(a: argparse.Namespace) -> dict[str, Any]:
    variants = a.variants.split(",") if a.variants else list(VARIANTS)
    sets = ensure_variants(a.data, a.out, variants, a.force)
    detector = detector_for(a.models_dir)
    models = finished_models(a.models_dir, a.models.split(",") if a.models else None)
    results: dict[str, Any] = {}
    for name in models:
        per: dict[str, Any] = {}
        for v in variants:
            m = run_evaluate(
                detector,
                name,
                sets[v],
                a.out / name / v,
                a.force,
                {"variant": v, "command": command()},
            )
            per[v] = summarise(m)
            per[v]["by_kind"] = by_kind(a.out / name / v / "predictions.csv", m["threshold"])
        base = (per.get("original") or {}).get("roc_auc")
        for row in per.values():
            auc = row["roc_auc"]
            row["auc_drop"] = None if base is None or auc is None else base - auc
        base_kind = (per.get("original") or {}).get("by_kind") or {}
        for row in per.values():
            for kind, k_row in row["by_kind"].items():
                b, auc = (base_kind.get(kind) or {}).get("roc_auc"), k_row.get("roc_auc")
                k_row["auc_drop"] = None if b is None or auc is None else b - auc
        results[name] = {
            "fingerprint": fingerprint(detector, name),
            "command": command(),
            "variants": per,
        }
    out = {
        "experiment": "robustness",
        "data": str(a.data),
        "variants": variants,
        "variant_rules": {
            "original": "test PNG copied byte for byte",
            "jpeg95/90/75/50": "Pillow JPEG at that quality (default 4:2:0 chroma subsampling)",
            "webp80": "Pillow lossy WebP at quality 80 (its default quality and method)",
            "downscale50": "half width and height, Pillow LANCZOS (antialiased), PNG",
            "centrecrop": "centre crop of half width and height (128x128 of 256), PNG",
            "screenshot": f"bilinear resize to {SCREENSHOT_WIDTH} px wide (or to 75 % when "
            "narrower: a picture shown smaller on a screen), captured as PNG",
        },
        "command": command(),
        "models": results,
    }
    merge_results(a.out / "results.json", out)
    print(robustness_table(read_json(a.out / "results.json")))
    return out


def by_kind(predictions: Path, threshold: float) -> dict[str, dict[str, Any]]:
    """Per kind of fake in a scored set (``text-to-image``, ``super-resolution``,
    ``autoencoder``: ``kind_of`` each generator's family), that kind against every real
    image of the set (``aidetect.evaluation.against_reals``). A model that never trained
    on a kind (patchnet and text-to-image) is judged on unseen generators by its row."""
    import csv

    import numpy as np

    from aidetect.datasets import family_of
    from aidetect.evaluation import against_reals

    with open(predictions, newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r.get("error")]
    y = np.array([int(r["label"]) for r in rows])
    p = np.array([float(r["ai_probability"]) for r in rows])
    kind = np.array(
        [
            kind_of(family_of(r["generator"])).split(" ")[0] if r["label"] == "1" else ""
            for r in rows
        ],
        dtype=object,
    )
    return {k: against_reals(y, p, threshold, kind == k, y == 0) for k in sorted(set(kind) - {""})}


def _variant_rows(res: dict[str, Any], models: Sequence[str] | None):
    """``(model, variant, row)`` of a results file, only ``models``' when given."""
    for name, r in res["models"].items():
        if models and name not in models:
            continue
        for v, row in r["variants"].items():
            yield name, v, row


def robustness_kind_table(
    res: dict[str, Any], kind: str, models: Sequence[str] | None = None
) -> str:
    """``kind``'s fakes only (see ``by_kind``), against the same real images, per variant."""
    lines = [
        "| model | variant | n | ROC-AUC | detected at the threshold | AUC drop |",
        "|---|---|---|---|---|---|",
    ]
    for name, v, row in _variant_rows(res, models):
        k = (row.get("by_kind") or {}).get(kind)
        if k:
            lines.append(
                f"| {name} | {v} | {k['n']} | {num(k.get('roc_auc'))} | "
                f"{num(k['detection_rate'], 3)} | {num(k.get('auc_drop'))} |"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def robustness_commands(res: dict[str, Any], models: Sequence[str] | None = None) -> list[str]:
    """The distinct commands that measured ``models``' rows (a results file merges runs:
    its top-level command is only the last run's)."""
    out: list[str] = []
    for name, r in res["models"].items():
        if models and name not in models:
            continue
        cmd = r.get("command") or res.get("command", "")
        if cmd and cmd not in out:
            out.append(cmd)
    return out


def robustness_table(res: dict[str, Any], models: Sequence[str] | None = None) -> str:
    lines = [
        "| model | variant | ROC-AUC | accuracy | AP | FPR (reals) | recall | AUC drop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, v, row in _variant_rows(res, models):
        lines.append(
            f"| {name} | {v} | {num(row['roc_auc'])} | {num(row['accuracy'])} | "
            f"{num(row['average_precision'])} | {num(row['false_positive_rate'])} | "
            f"{num(row['recall'])} | {num(row.get('auc_drop'))} |"
        )
    return "\n".join(lines)
