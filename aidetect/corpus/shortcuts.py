"""Shortcut check: can a classifier tell the classes apart from file properties alone?

Feature sets, each judged on its own: file size in bytes; image width, height and mode;
the file format; for JPEG files, the quantisation tables; a content control, the 8x8 RGB
thumbnail (what the picture shows, with every fine trace averaged away: if it separates
the classes, a detector can learn subject matter instead of generator traces); and the
compression history of the pixels themselves (``blockiness``: how much stronger the
luminance steps are on one phase of the 8-pixel grid than on the others, the mark JPEG
and lossy WebP leave even in a file later stored as PNG; if it separates the classes,
"was compressed once" tells them apart, the shortcut that let a detector call every
re-saved picture real).
A gradient-boosting classifier and a logistic regression are cross-validated with folds
grouped by ``source_id`` (a photo never sits in both a training and a scoring fold); the worse
(further from 0.5) of the two ROC-AUCs is the score. A set passes when its AUC lies
within 0.5 +/- tolerance: such a property then carries no label information.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from aidetect.datasets import read_manifest

MODES = ("1", "L", "P", "RGB", "RGBA", "CMYK", "YCbCr", "I", "F", "LA", "I;16")
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "MPO")


def blockiness(pixels: np.ndarray) -> np.ndarray:
    """The compression-history features of RGB pixels: for each axis, the mean absolute
    luminance step between neighbouring columns (rows) at each of the 8 phases of an
    8-pixel grid, divided by their mean and sorted (a crop's grid offset is unknown);
    then the same for the 4-pixel grid of lossy WebP's transform. 24 values, all near
    1 for pixels that were never block-compressed."""
    y = pixels[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    out = []
    for period in (8, 4):
        for d in (np.abs(np.diff(y, axis=1)).mean(axis=0), np.abs(np.diff(y, axis=0)).mean(axis=1)):
            n = len(d) // period * period
            phases = d[:n].reshape(-1, period).mean(axis=0) if n else np.ones(period)
            out.append(np.sort(phases / max(phases.mean(), 1e-9)))
    return np.concatenate(out)


def file_features(path: Path) -> dict:
    with Image.open(path) as im:
        q = getattr(im, "quantization", None) or {}
        qt = np.zeros(128, dtype=np.float64)
        for i in range(min(2, len(q))):
            table = list(q.get(i, []))[:64]
            qt[i * 64 : i * 64 + len(table)] = table
        return {
            "file_size": path.stat().st_size,
            "width": im.width,
            "height": im.height,
            "mode": im.mode,
            "format": im.format,
            "qtables": qt,
            "is_jpeg": im.format in ("JPEG", "MPO"),
            "thumbnail": np.asarray(
                im.convert("RGB").resize((8, 8), Image.Resampling.BOX), dtype=np.float64
            ).ravel(),
            "blockiness": blockiness(np.asarray(im.convert("RGB"))),
        }


def _auc(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(np.unique(y)) < 2:
        return {"auc": None, "note": "only one class present"}
    if np.all(x == x[0]):  # a constant feature cannot separate anything
        return {"auc": 0.5, "auc_logreg": 0.5, "auc_gboost": 0.5, "note": "constant feature"}
    n_splits = int(min(5, np.bincount(y).min(), len(np.unique(groups))))
    if n_splits < 2:
        return {"auc": None, "note": "too few samples or photos for cross-validation"}
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    out = {}
    models = {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "gboost": HistGradientBoostingClassifier(max_iter=100, random_state=seed),
    }
    for name, model in models.items():
        p = cross_val_predict(model, x, y, groups=groups, cv=cv, method="predict_proba")[:, 1]
        out[f"auc_{name}"] = round(float(roc_auc_score(y, p)), 4)
    out["auc"] = max(out.values(), key=lambda a: abs(a - 0.5))
    return out


def check_shortcuts(
    data: str | Path,
    tolerance: float = 0.05,
    seed: int = 0,
    max_files: int | None = None,
    families: list[str] | None = None,
    write: bool = True,
    features: dict[Path, dict] | None = None,
) -> dict:
    """``families``: compare the real images with the fakes of these families only (the
    manifest's ``family`` column, else the generator; shell patterns allowed).
    ``features``: a dict to keep each file's properties in, shared by the calls of one
    per-family check so that every real crop is decoded once."""
    from fnmatch import fnmatchcase

    data = Path(data)
    rows = read_manifest(data / "manifest.csv")
    if families:
        rows = [
            r
            for r in rows
            if r.label == 0 or any(fnmatchcase(r.family or r.generator, f) for f in families)
        ]
    if max_files and len(rows) > max_files:
        rng = np.random.default_rng(seed)
        rows = [rows[i] for i in sorted(rng.choice(len(rows), max_files, replace=False))]
    cache: dict[Path, dict] = {} if features is None else features
    for s in rows:
        if s.path not in cache:
            cache[s.path] = file_features(s.path)
    feats = [cache[s.path] for s in rows]
    y = np.array([s.label for s in rows])
    groups = np.array([s.source_id for s in rows])
    sets: dict[str, np.ndarray] = {
        "file_size": np.array([[f["file_size"]] for f in feats], dtype=float),
        "image_size_mode": np.array(
            [
                [f["width"], f["height"], MODES.index(f["mode"]) if f["mode"] in MODES else -1]
                for f in feats
            ],
            dtype=float,
        ),
        "format": np.array(
            [[FORMATS.index(f["format"]) if f["format"] in FORMATS else -1] for f in feats],
            dtype=float,
        ),
        "content_thumbnail_8x8": np.stack([f["thumbnail"] for f in feats]),
        "compression_history": np.stack([f["blockiness"] for f in feats]),
    }
    jpeg = np.array([f["is_jpeg"] for f in feats])
    result: dict = {
        "data": str(data),
        "files": len(rows),
        "families": families or "all",
        "tolerance": tolerance,
        "feature_sets": {},
    }
    for name, x in sets.items():
        result["feature_sets"][name] = _auc(x, y, groups, seed)
    if jpeg.any():
        qt = np.stack([f["qtables"] for f in feats])
        result["feature_sets"]["jpeg_qtables"] = _auc(qt[jpeg], y[jpeg], groups[jpeg], seed)
        result["feature_sets"]["jpeg_qtables"]["files"] = int(jpeg.sum())
    else:
        result["feature_sets"]["jpeg_qtables"] = {"auc": None, "note": "no JPEG files"}
    failed = []
    for name, r in result["feature_sets"].items():
        auc = r.get("auc")
        r["pass"] = auc is None or abs(auc - 0.5) <= tolerance
        if not r["pass"]:
            failed.append(name)
    result["pass"] = not failed
    result["failed"] = failed
    if write:
        (data / "shortcut_check.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
