"""Tiny labelled data sets in every layout the trainer reads (made per test session).

Images are 32x32 (ArtiFact-like ones 40x36, to exercise native-resolution crops):
"real" = smooth noise, "AI" = 2x nearest-up-sampled noise (tests.support.tiny_models).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.tiny_models import toy_images


def _save(img: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return path


def make_folders(root: Path, n: int = 32, seed: int = 0) -> Path:
    x, y = toy_images(n, 32, seed)
    for i, (img, lab) in enumerate(zip(x, y, strict=True)):
        _save(img, root / ("FAKE" if lab else "REAL") / f"{i:03d}.png")
    return root


def make_cifake(root: Path, n: int = 40, seed: int = 1) -> Path:
    x, y = toy_images(n, 32, seed)
    for i, (img, lab) in enumerate(zip(x, y, strict=True)):
        split = "test" if i % 5 == 4 else "train"
        _save(img, root / split / ("FAKE" if lab else "REAL") / f"{i:03d}.png")
    return root


def make_manifest(root: Path, n: int = 40, seed: int = 2) -> Path:
    """Pairs of images share a source_id (a real photo and "its" fake)."""
    x, y = toy_images(n, 32, seed)
    rows = []
    for i, (img, lab) in enumerate(zip(x, y, strict=True)):
        rel = f"img/{i:03d}.png"
        _save(img, root / rel)
        gen = "" if lab == 0 else ("gen-a" if i % 4 == 1 else "gen-b")
        rows.append({"path": rel, "label": int(lab), "generator": gen, "source_id": f"s{i // 2}"})
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "label", "generator", "source_id"])
        w.writeheader()
        w.writerows(rows)
    return root


def make_artifact(root: Path, n: int = 36, seed: int = 3) -> Path:
    """ArtiFact: <source>/metadata.csv with image_path and target (0 = real)."""
    rng = np.random.default_rng(seed)
    x, y = toy_images(n, 40, seed)
    sources = {0: "coco", 1: "stylegan"}
    rows: dict[str, list[dict[str, str]]] = {"coco": [], "stylegan": []}
    for i, (img, lab) in enumerate(zip(x, y, strict=True)):
        src = sources[int(lab)]
        crop = img[: 36 + int(rng.integers(0, 4)), :]  # sizes differ a little
        rel = f"images/{i:03d}.png"
        _save(np.ascontiguousarray(crop), root / src / rel)
        rows[src].append({"image_path": rel, "target": str(int(lab) * 3)})
    for src, rs in rows.items():
        with open(root / src / "metadata.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["image_path", "target"])
            w.writeheader()
            w.writerows(rs)
    return root


@pytest.fixture(scope="session")
def datasets(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("data")
    return {
        "folders": make_folders(base / "folders"),
        "cifake": make_cifake(base / "cifake"),
        "manifest": make_manifest(base / "manifest"),
        "artifact": make_artifact(base / "artifact"),
    }


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")
