"""The one preprocessing function, by input policy.

Serving, evaluation and training all turn pixels into model input here, so a
model sees at prediction time exactly what it saw in training (the seed fed
ResNet50 pixels scaled by 1/255 without its own preprocessing: that class of bug
is what this module exists to prevent).

Policies (declared in each model's ``metadata.json``):

``resize``
    The whole image (or a region of it) resized to ``size x size``: the seed's
    behaviour, kept for CIFAKE-style models and imported seed models.
``crops``
    Several ``size x size`` crops at native resolution, never resized; images
    smaller than a crop are padded by mirroring. Crops sit on an even grid that
    covers the image (at most ``max_crops``); the model scores each crop and the
    scores are aggregated (mean of logits by default; ``top_logit``: the mean logit of
    the most AI-looking quarter of the crops).

Scaling: ``raw`` hands float32 pixels in 0..255 to the model (which normalises
inside itself, e.g. ResNet50's ``preprocess_input`` layer); ``unit`` divides by
255 (the seed's convention).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

Box = tuple[int, int, int, int]  # (left, top, right, bottom) in image pixels

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}


AGGREGATES = ("mean_logit", "mean_prob", "max", "top_logit")


class CropSpec(BaseModel):
    max_crops: int = Field(16, ge=1, le=256)
    #: how per-crop P(AI) become one: mean of logits, mean of probabilities, the largest,
    #: or ``top_logit``: the mean logit of the ``top_fraction`` most AI-looking crops
    aggregate: Literal["mean_logit", "mean_prob", "max", "top_logit"] = "mean_logit"
    top_fraction: float = Field(0.25, gt=0.0, le=1.0)


class InputSpec(BaseModel):
    policy: Literal["resize", "crops"]
    size: int = Field(ge=8, le=4096, description="Model input height and width")
    scale: Literal["raw", "unit"] = "raw"
    resample: Literal["nearest", "bilinear", "bicubic", "lanczos", "box"] = "bilinear"
    crops: CropSpec = Field(default_factory=CropSpec)


# --- where the model looks --------------------------------------------------------------------
def _starts(length: int, window: int, count: int) -> list[int]:
    """``count`` window starts spread evenly over ``length`` (first at 0, last at the end)."""
    if length <= window or count <= 1:
        return [max(0, (length - window) // 2)] if count <= 1 and length > window else [0]
    span = length - window
    return sorted({round(i * span / (count - 1)) for i in range(count)})


def grid_boxes(width: int, height: int, window: int, max_boxes: int) -> list[Box]:
    """Boxes of ``window x window`` on an even grid covering the image, at most ``max_boxes``.

    A box may extend past a side shorter than ``window``; the crop is padded there.
    """
    nx = max(1, math.ceil(width / window))
    ny = max(1, math.ceil(height / window))
    while nx * ny > max_boxes:
        # drop a column or a row from the denser direction, keeping coverage even
        if nx / max(width, 1) >= ny / max(height, 1) and nx > 1:
            nx -= 1
        elif ny > 1:
            ny -= 1
        else:
            nx -= 1
    xs = _starts(width, window, nx)
    ys = _starts(height, window, ny)
    return [(x, y, x + window, y + window) for y in ys for x in xs]


def model_boxes(width: int, height: int, spec: InputSpec) -> list[Box]:
    """The regions a model scores for a verdict under its policy."""
    if spec.policy == "resize":
        return [(0, 0, width, height)]
    return grid_boxes(width, height, spec.size, spec.crops.max_crops)


def heatmap_boxes(width: int, height: int, spec: InputSpec, cells: int = 8) -> list[Box]:
    """Regions for a heatmap: native crops for ``crops``, a tile grid for ``resize`` models."""
    if spec.policy == "crops":
        return grid_boxes(width, height, spec.size, max(64, spec.crops.max_crops))
    tile = max(8, math.ceil(max(width, height) / cells))
    nx, ny = max(1, math.ceil(width / tile)), max(1, math.ceil(height / tile))
    boxes = []
    for j in range(ny):
        for i in range(nx):
            left, top = i * tile, j * tile
            boxes.append((left, top, min(width, left + tile), min(height, top + tile)))
    return boxes


# --- pixels to model input --------------------------------------------------------------------
def _crop_padded(pixels: np.ndarray, box: Box) -> np.ndarray:
    """Cut ``box`` out of ``pixels``; parts outside the image are filled by mirroring."""
    h, w = pixels.shape[:2]
    left, top, right, bottom = box
    region = pixels[max(top, 0) : min(bottom, h), max(left, 0) : min(right, w)]
    pad_bottom = max(0, bottom - h)
    pad_right = max(0, right - w)
    if pad_bottom or pad_right:
        region = np.pad(region, ((0, pad_bottom), (0, pad_right), (0, 0)), mode="symmetric")
    return region


def _resize(region: np.ndarray, size: int, resample: str) -> np.ndarray:
    if region.shape[0] == size and region.shape[1] == size:
        return region
    img = Image.fromarray(region).resize((size, size), _RESAMPLE[resample])
    return np.asarray(img)


def scale_pixels(batch: np.ndarray, spec: InputSpec) -> np.ndarray:
    """uint8 (n, h, w, 3) to the float32 input the model expects."""
    out = batch.astype(np.float32)
    if spec.scale == "unit":
        out *= np.float32(1.0 / 255.0)
    return out


def preprocess(
    pixels: np.ndarray, spec: InputSpec, boxes: list[Box] | None = None
) -> tuple[np.ndarray, list[Box]]:
    """Turn an upright RGB uint8 image into a model batch.

    Returns ``(batch, boxes)``: ``batch`` is float32 ``(len(boxes), size, size, 3)``
    and ``boxes`` the image regions its rows came from (default: ``model_boxes``).
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected (h, w, 3) uint8 pixels, got {pixels.shape} {pixels.dtype}")
    h, w = pixels.shape[:2]
    if boxes is None:
        boxes = model_boxes(w, h, spec)
    rows = [_resize(_crop_padded(pixels, b), spec.size, spec.resample) for b in boxes]
    return scale_pixels(np.stack(rows), spec), boxes


# --- scores back to one number ----------------------------------------------------------------
def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def aggregate(probabilities: np.ndarray, spec: InputSpec) -> float:
    """Combine per-crop P(AI) into one probability by the model's stated rule."""
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.size == 1:
        return float(probs[0])
    rule = spec.crops.aggregate
    if rule == "mean_prob":
        return float(probs.mean())
    if rule == "max":
        return float(probs.max())
    z = logit(probs)
    if rule == "top_logit":
        k = max(1, math.ceil(z.size * spec.crops.top_fraction))
        z = np.sort(z)[-k:]
    return float(sigmoid(z.mean()))
