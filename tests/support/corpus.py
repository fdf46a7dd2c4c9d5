"""Checks shared by the corpus builder's super-resolution tests."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


def check_sr_fakes(
    root: Path,
    rows: list[dict[str, str]],
    generators: Iterable[str],
    crop: int,
    scale_of: Callable[[str], int],
) -> int:
    """Every fake of ``generators`` in a manifest: beside its real crop, same split, source
    and encoding, a faithful but not bicubic copy of it. Returns how many were checked."""
    generators = set(generators)
    by_stem = {Path(r["path"]).stem: r for r in rows if r["label"] == "0"}
    n = 0
    for r in (r for r in rows if r["generator"] in generators):
        n += 1
        assert r["label"] == "1" and r["path"].startswith(f"{r['split']}/FAKE/")
        real = by_stem[Path(r["path"]).stem.rsplit("_", 1)[0]]
        assert (real["split"], real["source_id"]) == (r["split"], r["source_id"])
        encodings = set()
        for row in (r, real):
            with Image.open(io.BytesIO((root / row["path"]).read_bytes())) as im:
                encodings.add((im.format, im.mode, im.size, tuple(sorted(im.info))))
        assert encodings == {("PNG", "RGB", (crop, crop), ())}
        fake, orig = pixels(root / r["path"]), pixels(root / real["path"])
        assert psnr(fake, orig) > 18, r["path"]  # the same crop, super-resolved
        scale = scale_of(r["generator"])
        low = Image.fromarray(orig.astype(np.uint8)).resize((-(-crop // scale),) * 2, Image.BICUBIC)
        bicubic = np.asarray(low.resize((low.width * scale,) * 2, Image.BICUBIC), np.float64)
        off = (bicubic.shape[0] - crop) // 2
        bicubic = bicubic[off : off + crop, off : off + crop]
        assert np.abs(fake - bicubic).mean() > 1.0  # the network did the upscaling
    return n
