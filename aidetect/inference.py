"""Inference: bytes or pixels in, detection results out.

``Detector`` is what the backend, the CLI and evaluation call. It decodes through
``aidetect.imaging``, preprocesses through ``aidetect.preprocess`` by each model's
policy, scores many images in one model call per member, reads provenance from
the original bytes and decides the verdict through ``aidetect.verdict``.
"""

from __future__ import annotations

import base64
import io
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from aidetect.errors import AIDetectError, NotReadyError
from aidetect.imaging import (
    DEFAULT_LIMITS,
    DecodedImage,
    DecodeLimits,
    decode_image,
    read_file_limited,
)
from aidetect.preprocess import aggregate, heatmap_boxes, preprocess
from aidetect.registry import Loaded, LoadedEnsemble, LoadedModel, Registry, members_of
from aidetect.results import (
    DetectionResult,
    Evidence,
    ImageInfo,
    ModelRef,
    ModelScore,
)
from aidetect.scope import check_scope
from aidetect.settings import Settings, read_trust_anchors
from aidetect.verdict import compression_note, decide, normalise_band

K = TypeVar("K")


@dataclass
class Score:
    """Pixel-model scores for one image."""

    ai_probability: float
    members: list[ModelScore]


def _score_members(loaded: Loaded, images: Sequence[np.ndarray]) -> list[list[float]]:
    """Per image, per member: P(AI), each member scoring all images' regions in one pass."""
    per_image: list[list[float]] = [[] for _ in images]
    for member, _weight in members_of(loaded):
        spec = member.spec
        batches, spans = [], []
        for pixels in images:
            batch, _ = preprocess(pixels, spec)
            spans.append(len(batch))
            batches.append(batch)
        probs = member.predict_ai_proba(np.concatenate(batches)) if batches else np.zeros(0)
        start = 0
        for i, n in enumerate(spans):
            per_image[i].append(aggregate(probs[start : start + n], spec))
            start += n
    return per_image


def combine_members(loaded: Loaded, member_probs: Sequence[float]) -> float:
    """One probability from the members' by the ensemble's rule (weighted mean or vote)."""
    members = members_of(loaded)
    weights = np.array([w for _, w in members], dtype=np.float64)
    probs = np.asarray(member_probs, dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    if isinstance(loaded, LoadedEnsemble) and loaded.metadata.ensemble_rule == "vote":
        votes = np.array(
            [p >= m.metadata.threshold for (m, _), p in zip(members, probs, strict=True)]
        )
        return float((weights * votes).sum() / weights.sum())
    return float((weights * probs).sum() / weights.sum())


def score_pixels(loaded: Loaded, images: Sequence[np.ndarray]) -> list[Score]:
    """Score upright RGB uint8 images with a model or an ensemble."""
    per_image = _score_members(loaded, images)
    members = members_of(loaded)
    out = []
    for probs in per_image:
        scores = [
            ModelScore(
                name=m.name,
                version=m.metadata.version,
                ai_probability=float(p),
                weight=float(w),
            )
            for (m, w), p in zip(members, probs, strict=True)
        ]
        out.append(Score(ai_probability=combine_members(loaded, probs), members=scores))
    return out


# --- heatmap ----------------------------------------------------------------------------------
def _heat_colour(p: np.ndarray) -> np.ndarray:
    """P(AI) to RGBA: blue (real) through transparent-ish grey to red (AI)."""
    p = np.clip(p, 0.0, 1.0)
    r = np.clip(2 * p, 0, 1) * 230
    b = np.clip(2 * (1 - p), 0, 1) * 230
    g = 60 * (1 - np.abs(2 * p - 1))
    a = 70 + 130 * np.abs(2 * p - 1)
    return np.stack([r, g, b, a], axis=-1).astype(np.uint8)


REGION_NAMES = (
    ("top left", "top", "top right"),
    ("left", "centre", "right"),
    ("bottom left", "bottom", "bottom right"),
)


COLUMN_NAMES = ("left side", "middle", "right side")
ROW_NAMES = ("top", "middle", "bottom")


def _name(cells: list[tuple[int, int]], best: tuple[int, int]) -> str:
    """A group of the 3x3 parts in words: a whole column or row when it is one."""
    rows, cols = {r for r, _ in cells}, {c for _, c in cells}
    if len(cols) == 1 and len(rows) == 3:
        return COLUMN_NAMES[next(iter(cols))]
    if len(rows) == 1 and len(cols) == 3:
        return ROW_NAMES[next(iter(rows))]
    return REGION_NAMES[best[0]][best[1]]


def describe_heat(heat: np.ndarray, covered: np.ndarray, tie: float = 0.05) -> str:
    """Which part of the picture scored highest and lowest, in words (3x3 parts)."""
    gh, gw = heat.shape
    means: dict[tuple[int, int], float] = {}
    for r, rows in enumerate(np.array_split(np.arange(gh), 3)):
        for c, cols in enumerate(np.array_split(np.arange(gw), 3)):
            cell = np.ix_(rows, cols)
            if rows.size and cols.size and covered[cell].any():
                means[(r, c)] = float(heat[cell][covered[cell]].mean())
    if not means:
        return "No region of the picture could be scored."
    hi_cell = max(means, key=lambda k: means[k])
    lo_cell = min(means, key=lambda k: means[k])
    hi, lo = means[hi_cell], means[lo_cell]
    if hi - lo < 0.1:
        return (
            f"Scores are similar across the picture ({lo:.0%} to {hi:.0%} "
            "likely AI-generated): no part stands out."
        )
    hot = _name([k for k, v in means.items() if v >= hi - tie], hi_cell)
    cold = _name([k for k, v in means.items() if v <= lo + tie], lo_cell)
    return f"The {hot} scored highest ({hi:.0%} likely AI-generated); the {cold} lowest ({lo:.0%})."


def heatmap_for(loaded: Loaded, pixels: np.ndarray, max_side: int = 64) -> str:
    """Per-region P(AI) as a small RGBA PNG data URL with the image's aspect ratio."""
    return heatmap_with_summary(loaded, pixels, max_side)[0]


def heatmap_with_summary(loaded: Loaded, pixels: np.ndarray, max_side: int = 64) -> tuple[str, str]:
    """The heatmap PNG data URL and, in words, which part scored highest.

    Each member scores its own regions (native crops, or resized tiles for
    ``resize`` models); overlapping regions and members are averaged by weight.
    """
    h, w = pixels.shape[:2]
    s = max_side / max(w, h)
    gw, gh = max(1, round(w * s)), max(1, round(h * s))
    total = np.zeros((gh, gw))
    weight_sum = np.zeros((gh, gw))
    for member, weight in members_of(loaded):
        boxes = heatmap_boxes(w, h, member.spec)
        batch, _ = preprocess(pixels, member.spec, boxes)
        probs = member.predict_ai_proba(batch)
        for (left, top, right, bottom), p in zip(boxes, probs, strict=True):
            x0, y0 = int(left * s), int(top * s)
            x1 = max(x0 + 1, int(np.ceil(min(right, w) * s)))
            y1 = max(y0 + 1, int(np.ceil(min(bottom, h) * s)))
            total[y0:y1, x0:x1] += weight * p
            weight_sum[y0:y1, x0:x1] += weight
    heat = total / np.maximum(weight_sum, 1e-9)
    rgba = _heat_colour(heat)
    rgba[weight_sum == 0, 3] = 0
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG", optimize=True)
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return url, describe_heat(heat, weight_sum > 0)


def image_info(image: DecodedImage) -> ImageInfo:
    """What an answer says about the picture's file."""
    return ImageInfo(
        width=image.width,
        height=image.height,
        format=image.format,
        jpeg_quality=image.jpeg_quality,
        webp_lossy=image.webp_lossy,
    )


# --- the detector -----------------------------------------------------------------------------
class Detector:
    """Models from a registry, ready to answer detection requests."""

    def __init__(
        self,
        registry: Registry,
        *,
        limits: DecodeLimits = DEFAULT_LIMITS,
        default_model: str | None = None,
        legacy_model: str | None = None,
        threshold_override: float | None = None,
        provenance: bool = True,
        decode_threads: int = 0,
        trust_anchors_pem: str | None = None,
    ):
        self.registry = registry
        self.limits = limits
        self.default_model = default_model or registry.default_name()
        # the seed's POST /: resolved once here, not per request (None: the default answers)
        self.legacy_model = legacy_model or registry.legacy_name()
        self.threshold_override = threshold_override
        self.provenance = provenance
        self.trust_anchors_pem = trust_anchors_pem
        # Pillow and the provenance readers release the GIL: decode batches in parallel.
        self.decode_threads = decode_threads or min(8, os.cpu_count() or 1)
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        registry: Registry | None = None,
        default_model: str | None = None,
        provenance: bool | None = None,
    ) -> Detector:
        """The detector the settings describe (the API server's, the CLI's).

        ``registry``, ``default_model`` and ``provenance`` override what the settings say
        (the CLI's ``--model PATH`` and ``--no-provenance``).
        """
        return cls(
            registry if registry is not None else Registry(settings.models_dir),
            limits=DecodeLimits(max_bytes=settings.max_bytes, max_pixels=settings.max_pixels),
            default_model=default_model or settings.default_model,
            legacy_model=settings.legacy_model,
            threshold_override=settings.threshold,
            provenance=settings.provenance if provenance is None else provenance,
            decode_threads=settings.decode_threads,
            trust_anchors_pem=read_trust_anchors(settings),
        )

    def load_all(self) -> dict[str, Loaded]:
        return self.registry.load_all()

    def warm_up(self) -> None:
        """Run every model once before the first request.

        Keras traces its inference function on the first call and again on the second
        batch shape (then it generalises): seconds on a CPU that would otherwise land on
        the first users' requests.
        """
        blank = np.full((64, 64, 3), 128, np.uint8)
        for loaded in self.registry.load_all().values():
            score_pixels(loaded, [blank])
            score_pixels(loaded, [blank, blank])

    def resolve(self, name: str | None) -> Loaded:
        target = name or self.default_model
        if target is None:
            raise NotReadyError("No model is installed.")
        return self.registry.load(target)

    def decision_params(self, loaded: Loaded) -> tuple[float, tuple[float, float] | None]:
        """The model's threshold and band, unless the settings override the threshold
        (then there is no band)."""
        meta = loaded.metadata
        if self.threshold_override is not None:
            return self.threshold_override, None
        return meta.threshold, meta.uncertain_band

    def decision(self, loaded: Loaded) -> tuple[float, tuple[float, float]]:
        """The threshold and the band ``decide`` applies (``verdict.normalise_band``)."""
        threshold, band = self.decision_params(loaded)
        return threshold, normalise_band(threshold, band)

    def evidence_for(self, data: bytes | None, image: DecodedImage) -> list[Evidence]:
        if not self.provenance or data is None:
            return []
        from aidetect.provenance import analyse

        return analyse(
            data, image=image.original, rgb=image.pixels, trust_anchors_pem=self.trust_anchors_pem
        )

    def result(
        self,
        loaded: Loaded,
        image: DecodedImage,
        score: Score,
        evidence: list[Evidence],
        started: float,
        heatmap: tuple[str, str] | None = None,
    ) -> DetectionResult:
        threshold, band = self.decision_params(loaded)
        scope = check_scope(image.pixels)  # a few ms; the pixels' score is kept regardless
        compression = compression_note(
            loaded.metadata.scope, jpeg_quality=image.jpeg_quality, webp_lossy=image.webp_lossy
        )
        verdict, decision = decide(
            score.ai_probability, threshold, band, evidence, scope, compression
        )
        return DetectionResult(
            verdict=verdict,
            ai_probability=score.ai_probability,
            model=ModelRef(name=loaded.name, version=loaded.metadata.version),
            models=score.members,
            evidence=evidence,
            decision=decision,
            image=image_info(image),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
            heatmap=heatmap[0] if heatmap else None,
            heatmap_summary=heatmap[1] if heatmap else None,
        )

    def detect(
        self, data: bytes, model: str | None = None, *, heatmap: bool = False
    ) -> DetectionResult:
        """One image from its file bytes."""
        started = time.perf_counter()
        loaded = self.resolve(model)
        image = decode_image(data, self.limits, keep_original=self.provenance)
        evidence = self.evidence_for(data, image)
        (score,) = score_pixels(loaded, [image.pixels])
        heat = heatmap_with_summary(loaded, image.pixels) if heatmap else None
        return self.result(loaded, image, score, evidence, started, heat)

    def _prepare(self, data: bytes) -> tuple[DecodedImage, list[Evidence]] | AIDetectError:
        try:
            image = decode_image(data, self.limits, keep_original=self.provenance)
            return image, self.evidence_for(data, image)
        except AIDetectError as exc:
            return exc

    def _map(self, fn, items: Sequence[bytes]) -> list:
        if len(items) <= 1 or self.decode_threads <= 1:
            return [fn(x) for x in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.decode_threads, thread_name_prefix="decode")
        return list(self._pool.map(fn, items))

    def detect_many(
        self, items: Sequence[bytes], model: str | None = None
    ) -> list[DetectionResult | AIDetectError]:
        """Many images, one model call per member; a bad item gets its error, not a failed batch."""
        started = time.perf_counter()
        loaded = self.resolve(model)
        out: list[DetectionResult | AIDetectError | None] = [None] * len(items)
        prepared = self._map(self._prepare, items)
        decoded: list[tuple[int, DecodedImage, list[Evidence]]] = []
        for i, item in enumerate(prepared):
            if isinstance(item, AIDetectError):
                out[i] = item
            else:
                decoded.append((i, *item))
        scores = score_pixels(loaded, [img.pixels for _, img, _ in decoded])
        for (i, image, evidence), score in zip(decoded, scores, strict=True):
            out[i] = self.result(loaded, image, score, evidence, started)
        return [r for r in out if r is not None]

    def read(self, path: Path) -> bytes | AIDetectError:
        """A file's bytes within the size limit, or the error that says why not."""
        try:  # a missing or unreadable file is a typed error (file_not_found, unreadable_file)
            return read_file_limited(path, self.limits.max_bytes)
        except AIDetectError as exc:
            return exc

    def score_files(
        self,
        paths: Iterable[str | os.PathLike[str]],
        model: str | None = None,
        *,
        batch_size: int = 64,
    ) -> Iterator[tuple[Path, DetectionResult | AIDetectError]]:
        """Score files in batches (one model call per member per batch), in input order.

        The one loop behind ``aidetect predict``, ``aidetect evaluate`` (with or without
        Ray), training's validation and test scoring and ensembles: a file that cannot be
        read or decoded yields its ``AIDetectError`` in place of a result, and the run goes on.
        """
        read = ((Path(raw), self.read(Path(raw))) for raw in paths)
        return self.score_read(read, model, batch_size=batch_size)

    def score_read(
        self,
        items: Iterable[tuple[K, bytes | AIDetectError]],
        model: str | None = None,
        *,
        batch_size: int = 64,
    ) -> Iterator[tuple[K, DetectionResult | AIDetectError]]:
        """``score_files`` for bytes read elsewhere (a URI): ``(key, bytes or the read
        error)`` in, ``(key, result or error)`` out, in order; ``items`` is read lazily,
        one batch at a time."""
        batch: list[tuple[K, bytes | AIDetectError]] = []

        def flush() -> list[tuple[K, DetectionResult | AIDetectError]]:
            blobs = [b for _, b in batch if isinstance(b, bytes)]
            results = iter(self.detect_many(blobs, model) if blobs else [])
            done = [(k, next(results) if isinstance(b, bytes) else b) for k, b in batch]
            batch.clear()
            return done

        for item in items:
            batch.append(item)
            if len(batch) >= batch_size:
                yield from flush()
        yield from flush()


__all__ = [
    "Detector",
    "LoadedModel",
    "Score",
    "combine_members",
    "heatmap_for",
    "heatmap_with_summary",
    "image_info",
    "score_pixels",
]
