"""Robustness: the test split transformed alike for both classes (JPEG, downscale,
centre crop), each copy scored by every finished model."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from aidetect.datasets import Sample, evaluation_samples, list_samples, write_manifest
from aidetect.evaluation import summarise
from aidetect_training.experiments.shared import (
    command,
    detector_for,
    fingerprint,
    finished_models,
    merge_results,
    num,
    read_json,
    run_evaluate,
)

VARIANTS = (
    "original",
    "jpeg90",
    "jpeg75",
    "jpeg50",
    "downscale50",
    "centrecrop",
    "screenshot",
)
#: a screenshot of a picture shown on a screen: displayed this wide (or at 75 %), saved as PNG
SCREENSHOT_WIDTH = 1080


def transform(img: Image.Image, variant: str) -> tuple[Image.Image, str, dict[str, Any]]:
    """The transformed image, the format to save it in and the save options."""
    img = img.convert("RGB")
    w, h = img.size
    if variant.startswith("jpeg"):
        return img, "JPEG", {"quality": int(variant[4:])}
    if variant == "downscale50":
        # Pillow's LANCZOS widens its kernel by the scale factor when reducing: antialiased
        small = img.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS)
        return small, "PNG", {}
    if variant == "centrecrop":
        cw, ch = max(1, w // 2), max(1, h // 2)
        left, top = (w - cw) // 2, (h - ch) // 2
        return img.crop((left, top, left + cw, top + ch)), "PNG", {}
    if variant == "screenshot":
        # the browser or viewer's bilinear scaling, then a lossless capture
        nw = SCREENSHOT_WIDTH if w > SCREENSHOT_WIDTH else max(1, round(w * 0.75))
        nh = max(1, round(h * nw / w))
        return img.resize((nw, nh), Image.Resampling.BILINEAR), "PNG", {}
    if variant == "original":
        return img, "PNG", {}
    raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


def write_variant(samples: Sequence[Sample], root: Path, variant: str) -> list[Sample]:
    """``root/{REAL,FAKE}/`` copies of ``samples`` under ``variant`` plus ``root/manifest.csv``
    (generators and source ids kept, split ``test``); returns the new samples.

    ``original`` copies the files byte for byte.
    """
    out: list[Sample] = []
    used: set[Path] = set()
    for s in samples:
        folder = root / ("FAKE" if s.label else "REAL")
        folder.mkdir(parents=True, exist_ok=True)
        src = Path(s.path)
        suffix = ".jpg" if variant.startswith("jpeg") else src.suffix.lower() or ".png"
        dst = folder / (src.stem + suffix)
        k = 1
        while dst in used:
            dst = folder / f"{src.stem}_{k}{suffix}"
            k += 1
        used.add(dst)
        if variant == "original":
            shutil.copyfile(src, dst)
        else:
            with Image.open(src) as im:
                img, fmt, opts = transform(im, variant)
                img.save(dst, fmt, **opts)
        out.append(replace(s, path=dst.resolve(), split="test"))
    write_manifest(root / "manifest.csv", out)
    return out


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
        base = (per.get("original") or {}).get("roc_auc")
        for row in per.values():
            auc = row["roc_auc"]
            row["auc_drop"] = None if base is None or auc is None else base - auc
        results[name] = {"fingerprint": fingerprint(detector, name), "variants": per}
    out = {
        "experiment": "robustness",
        "data": str(a.data),
        "variants": variants,
        "variant_rules": {
            "original": "test PNG copied byte for byte",
            "jpeg90/75/50": "Pillow JPEG at that quality (default 4:2:0 chroma subsampling)",
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


def robustness_table(res: dict[str, Any], models: Sequence[str] | None = None) -> str:
    lines = [
        "| model | variant | ROC-AUC | accuracy | AP | FPR (reals) | recall | AUC drop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in res["models"].items():
        if models and name not in models:
            continue
        for v, row in r["variants"].items():
            lines.append(
                f"| {name} | {v} | {num(row['roc_auc'])} | {num(row['accuracy'])} | "
                f"{num(row['average_precision'])} | {num(row['false_positive_rate'])} | "
                f"{num(row['recall'])} | {num(row.get('auc_drop'))} |"
            )
    return "\n".join(lines)
