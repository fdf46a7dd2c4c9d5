"""Copies of images as people pass them on: re-saved as JPEG, downscaled, centre-cropped,
shown on a screen and captured. One definition for the robustness experiment (both
classes of the test split) and for training's ``--threshold-variants`` (validation reals).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from aidetect.datasets import Sample, write_manifest

VARIANTS = (
    "original",
    "jpeg95",
    "jpeg90",
    "jpeg75",
    "jpeg50",
    "webp80",
    "downscale50",
    "centrecrop",
    "screenshot",
)
#: a screenshot of a picture shown on a screen: displayed this wide (or at 75 %), saved as PNG
SCREENSHOT_WIDTH = 1080


def _quality(prefix: str, variant: str) -> int | None:
    m = re.fullmatch(prefix + r"(\d{1,3})", variant)
    return int(m.group(1)) if m and 1 <= int(m.group(1)) <= 100 else None


def jpeg_quality_of_variant(variant: str) -> int | None:
    """The quality of a ``jpegNN`` variant (``jpeg75`` -> 75), else None."""
    return _quality("jpeg", variant)


def webp_quality_of_variant(variant: str) -> int | None:
    """The quality of a lossy ``webpNN`` variant (``webp80`` -> 80), else None."""
    return _quality("webp", variant)


def transform(img: Image.Image, variant: str) -> tuple[Image.Image, str, dict[str, Any]]:
    """The transformed image, the format to save it in and the save options."""
    img = img.convert("RGB")
    w, h = img.size
    quality = jpeg_quality_of_variant(variant)
    if quality is not None:
        return img, "JPEG", {"quality": quality}
    webp = webp_quality_of_variant(variant)
    if webp is not None:  # lossy (Pillow's default method 4), like most WebP encoders
        return img, "WEBP", {"quality": webp, "lossless": False}
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
        if jpeg_quality_of_variant(variant) is not None:
            suffix = ".jpg"
        elif webp_quality_of_variant(variant) is not None:
            suffix = ".webp"
        else:
            suffix = src.suffix.lower() or ".png"
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


def parse_variants(text: Any) -> tuple[str, ...]:
    """``"jpeg75,screenshot"`` to variant names for ``--threshold-variants`` (``original``
    is the reals as given, always used); ValueError names an unknown one."""
    names = tuple(v.strip() for v in (text or "").split(",") if v.strip())
    unknown = [v for v in names if v not in VARIANTS or v == "original"]
    if unknown:
        raise ValueError(
            f"unknown threshold variant {', '.join(unknown)}; choose from "
            + ", ".join(v for v in VARIANTS if v != "original")
        )
    return names
