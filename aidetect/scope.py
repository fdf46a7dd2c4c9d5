"""Is this picture something a pixel model can judge at all? (the scope check)

The pixel models learned camera photographs and generators' imitations of them. A
picture that is neither (a 1x1 dot, a flat colour, a smooth gradient, a chart or a
drawn cartoon, pure noise) gets a score that means nothing: a flat square came out
"real", random noise "99.9% AI". ``check_scope`` looks at cheap statistics of the
decoded pixels *before* the model and names the reason when a picture is out of
scope; the verdict is then ``out_of_scope`` (``aidetect.verdict``), never ``real``.

The statistics are computed on a strided thumbnail of at most ``THUMB_SIDE`` px
(brightness spread, the share of the 4 most common colours, edges) and, for noise,
on at most ``TILES`` x ``TILES`` native-resolution tiles of ``TILE`` px, so a
12-megapixel photo costs a few milliseconds. The thresholds below come
from measurements on camera photographs, crops of them and real generated images
(``benchmarks/measure_scope.py``; the numbers are in docs/scope.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Fewer pixels than this on the short side: too small to judge.
MIN_SIDE = 64
#: Long side over short side beyond this: a strip, not a picture.
MAX_ASPECT = 8.0
#: Standard deviation of the luminance (0-255) below this: flat or nearly flat.
FLAT_STD = 3.0
#: Share of the thumbnail's pixels in its 4 most common exact colours above this: large
#: areas of one colour, as drawings, charts, text and screenshots have (photos: at most
#: 0.39 measured, generated images 0.27).
GRAPHIC_TOP4_SHARE = 0.6
#: 99th percentile of the thumbnail's absolute Laplacian below this: no edge anywhere,
#: a smooth gradient (photos: at least 15 measured, generated images 54).
GRADIENT_EDGES = 4.0
#: Largest correlation of horizontally adjacent luminance values over the tiles below
#: this: no part of the picture has a photograph's structure, pure noise (photos: at
#: least 0.74 measured for the whole-picture correlation).
NOISE_CORRELATION = 0.3
TILE = 128
TILES = 3
THUMB_SIDE = 256
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)

REASONS = {
    "too_small": "it is too small to judge",
    "extreme_aspect_ratio": "it is a thin strip, not a picture",
    "flat": "it is flat or nearly flat, one colour",
    "synthetic_graphic": "it looks like a drawing, chart, text or screenshot, not a photograph",
    "smooth_gradient": "it is a smooth gradient with no detail",
    "noise": "it looks like pure noise, not a photograph",
}


@dataclass(frozen=True)
class ScopeStats:
    """What the check measures (also what ``benchmarks/measure_scope.py`` records)."""

    width: int
    height: int
    luma_std: float
    top4_share: float
    edges: float
    max_tile_corr: float


@dataclass(frozen=True)
class OutOfScope:
    """Why a picture cannot be judged: ``rule`` is stable, ``reason`` is for people."""

    rule: str
    reason: str


def _tiles(h: int, w: int) -> list[tuple[int, int, int, int]]:
    """Up to TILES x TILES native-resolution windows spread evenly over the picture."""
    th, tw = min(TILE, h), min(TILE, w)
    ys = np.linspace(0, h - th, min(TILES, max(1, h // th))).round().astype(int)
    xs = np.linspace(0, w - tw, min(TILES, max(1, w // tw))).round().astype(int)
    return [(int(y), int(x), th, tw) for y in ys for x in xs]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    sa, sb = float(a.std()), float(b.std())
    if sa < 1e-6 or sb < 1e-6:
        return 1.0  # a flat tile is perfectly predictable, not noise
    return float(((a - a.mean()) * (b - b.mean())).mean() / (sa * sb))


def measure(pixels: np.ndarray) -> ScopeStats:
    """Statistics of an upright RGB uint8 ``(h, w, 3)`` array."""
    h, w = pixels.shape[:2]
    corrs = []
    for y, x, th, tw in _tiles(h, w):
        if tw > 1:
            luma = pixels[y : y + th, x : x + tw].astype(np.float32) @ _LUMA
            corrs.append(_corr(luma[:, :-1].ravel(), luma[:, 1:].ravel()))
    step = max(1, int(np.ceil(max(h, w) / THUMB_SIDE)))
    thumb = pixels[::step, ::step]
    packed = (
        (thumb[..., 0].astype(np.int32) << 16)
        | (thumb[..., 1].astype(np.int32) << 8)
        | thumb[..., 2].astype(np.int32)
    )
    counts = np.sort(np.unique(packed, return_counts=True)[1])[::-1]
    luma = thumb.astype(np.float32) @ _LUMA
    edges = 0.0
    if min(luma.shape) >= 3:
        lap = (
            luma[1:-1, 2:]
            + luma[1:-1, :-2]
            + luma[2:, 1:-1]
            + luma[:-2, 1:-1]
            - 4 * luma[1:-1, 1:-1]
        )
        edges = float(np.percentile(np.abs(lap), 99))
    return ScopeStats(
        width=w,
        height=h,
        luma_std=float(luma.std()),
        top4_share=float(counts[:4].sum() / packed.size),
        edges=edges,
        max_tile_corr=max(corrs) if corrs else 1.0,
    )


def judge(stats: ScopeStats) -> OutOfScope | None:
    """The first rule a picture breaks, or ``None`` when a pixel model can judge it."""
    w, h = stats.width, stats.height

    def out(rule: str, detail: str) -> OutOfScope:
        return OutOfScope(rule=rule, reason=f"{REASONS[rule]}: {detail}")

    if min(w, h) < MIN_SIDE:
        return out("too_small", f"{w}x{h} pixels; at least {MIN_SIDE}x{MIN_SIDE} are needed")
    if max(w, h) / min(w, h) > MAX_ASPECT:
        return out("extreme_aspect_ratio", f"{w}x{h} pixels; at most {MAX_ASPECT:g}:1")
    if stats.luma_std < FLAT_STD:
        return out("flat", f"its brightness varies by {stats.luma_std:.1f} levels of 255")
    if stats.top4_share > GRAPHIC_TOP4_SHARE:
        return out("synthetic_graphic", f"{stats.top4_share:.0%} of it is in 4 flat colours")
    if stats.edges < GRADIENT_EDGES:
        return out("smooth_gradient", "no edges or texture anywhere")
    if stats.max_tile_corr < NOISE_CORRELATION:
        return out(
            "noise", f"neighbouring pixels are uncorrelated (correlation {stats.max_tile_corr:.2f})"
        )
    return None


def check_scope(pixels: np.ndarray) -> OutOfScope | None:
    """``judge(measure(pixels))``: why the picture is out of scope, or ``None``."""
    return judge(measure(pixels))
