"""The verdict: pixel score, threshold, uncertain band and provenance, in one place.

The rule (also in README.md, "How a verdict is reached"):

1. The pixel models give ``p`` = P(AI-generated). With the model's uncertain band
   ``[lo, hi]`` (``lo <= threshold <= hi``): ``p >= hi`` is ``ai_generated``,
   ``p <= lo`` is ``real``, anything between is ``uncertain``. A model without a
   band has ``lo == hi == threshold`` (then ``p >= threshold`` is ``ai_generated``).
2. Strong AI provenance (a C2PA action or IPTC DigitalSourceType declaring
   trainedAlgorithmicMedia, generator parameters embedded by the generator, a
   generator's invisible watermark) makes the verdict ``ai_generated`` whatever
   the pixels say.
3. Otherwise, strong real provenance (a valid C2PA manifest declaring camera
   capture) turns a borderline (``uncertain``) pixel verdict into ``real``.
4. Otherwise, moderate AI evidence turns an ``uncertain`` pixel verdict into
   ``ai_generated``.
5. Weak evidence (camera EXIF, for example, which anyone can write) is shown but
   never changes the verdict.

A JPEG or lossy WebP upload is also checked against what the model's robustness
measurements say about compression (``compression_note``): a JPEG's quality is estimated
from the file's tables and matched to the nearest quality the model's test pictures were
re-saved at; a lossy WebP (which records no quality) is matched to the mildest measured
WebP copy. Where re-saving that way cost the model more than half of its detections
(``MIN_KEPT_DETECTION``), a low score does not show that the picture is real: a pixel
verdict ``real`` is treated as ``uncertain`` (rule ``lossy_compression``), and steps 3
and 4 then apply to it as to any uncertain verdict. Scores above the band stay
``ai_generated``: compression makes the models miss AI pictures, it does not make real
photos look generated (the same measurements). A model without such measurements keeps
its verdict, and the answer says compression was not measured.

Before all of these, a picture outside what any pixel model can judge (the scope
check, ``aidetect.scope``: too small, a strip, flat, a drawing/chart/text, a smooth
gradient, pure noise) is ``out_of_scope`` with ``rule`` ``out_of_scope_<reason>``,
never ``real``; only strong AI provenance (step 2) still decides it.

``decision.conflicting_evidence`` is true when moderate or strong evidence points
the other way from the pixel verdict (AI evidence on ``real``/``uncertain`` pixels,
camera evidence on ``ai_generated``/``uncertain`` pixels), whatever rule decided:
the answer then says that the two kinds of evidence disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from aidetect.metadata import ModelScope
from aidetect.results import Compression, Decision, Evidence, PixelVerdict, Verdict
from aidetect.scope import OutOfScope

#: A low score on a JPEG or lossy WebP counts as "real" only where the model, on its test
#: pictures re-saved about that way, kept at least this share of its uncompressed detections.
MIN_KEPT_DETECTION = 0.5


def compression_note(
    scope: ModelScope | None, *, jpeg_quality: int | None = None, webp_lossy: bool | None = None
) -> Compression | None:
    """What lossy compression does to the model's answers (None: a lossless picture).

    A JPEG is matched to the nearest measured JPEG quality (a tie goes to the lower,
    harsher one). A WebP records no quality, so a lossy one is matched to the mildest
    (highest) measured WebP quality: if even that cost the model most of its detections,
    so does any harsher one."""
    if jpeg_quality is not None:
        fmt, what, key = "JPEG", f"a JPEG saved at about quality {jpeg_quality}", "jpeg_quality"
    elif webp_lossy:
        fmt, what, key = "WEBP", "a lossy WebP (the format records no quality)", "webp_quality"
    else:
        return None
    name = "JPEG" if fmt == "JPEG" else "lossy WebP"
    rows = [r for r in (scope.robustness if scope else []) if r.detection_rate is not None]
    original = next((r for r in rows if r.variant == "original"), None)
    measured = [r for r in rows if getattr(r, key) is not None]
    if original is None or not measured:
        return Compression(
            format=fmt,
            jpeg_quality=jpeg_quality,
            real_supported=True,
            summary=(
                f"The file is {what}. How {name} compression affects this model was not "
                f"measured; re-saving as {name} often erases the traces pixel detectors "
                "look for."
            ),
        )
    if fmt == "JPEG":
        near = min(measured, key=lambda r: (abs(r.jpeg_quality - jpeg_quality), r.jpeg_quality))
    else:
        near = max(measured, key=lambda r: r.webp_quality)
    quality = getattr(near, key)
    kept = near.detection_rate
    base = original.detection_rate
    supported = base == 0 or kept >= MIN_KEPT_DETECTION * base
    found = (
        f"On test pictures re-saved as {name} at quality {quality}, this model found "
        f"{kept:.0%} of the AI-generated ones ({base:.0%} before re-saving; "
        f"{near.n_ai} AI and {near.n_real} real test pictures)"
    )
    consequence = (
        ": a low score still counts as evidence that the picture is real."
        if supported
        else ": a low score here does not show that the picture is real."
    )
    return Compression(
        format=fmt,
        jpeg_quality=jpeg_quality,
        measured_quality=quality,
        detection_rate=kept,
        uncompressed_detection_rate=base,
        roc_auc=near.roc_auc,
        real_supported=supported,
        summary=f"The file is {what}. {found}{consequence}",
    )


def normalise_band(threshold: float, band: tuple[float, float] | None) -> tuple[float, float]:
    """Return ``(lo, hi)`` with ``lo <= threshold <= hi`` (no band: a single point)."""
    if band is None:
        return (threshold, threshold)
    lo, hi = float(band[0]), float(band[1])
    return (min(lo, threshold), max(hi, threshold))


def pixel_verdict(
    p: float, threshold: float, band: tuple[float, float] | None = None
) -> PixelVerdict:
    lo, hi = normalise_band(threshold, band)
    if lo == hi:
        return "ai_generated" if p >= threshold else "real"
    if p >= hi:
        return "ai_generated"
    if p <= lo:
        return "real"
    return "uncertain"


def decide(
    p: float,
    threshold: float,
    band: tuple[float, float] | None,
    evidence: Iterable[Evidence] = (),
    scope: OutOfScope | None = None,
    compression: Compression | None = None,
) -> tuple[Verdict, Decision]:
    """Combine the pixel probability, the scope check, compression and provenance into
    the verdict."""
    evidence = list(evidence)
    lo, hi = normalise_band(threshold, band)
    pixel = pixel_verdict(p, threshold, (lo, hi))

    def has(signal: str, strength: str) -> bool:
        return any(e.signal == signal and e.strength == strength for e in evidence)

    verdict: Verdict = pixel
    rule = "pixel_model"
    if pixel == "real" and compression is not None and not compression.real_supported:
        verdict, rule = "uncertain", "lossy_compression"
    if has("ai_generated", "strong"):
        verdict, rule = "ai_generated", "strong_ai_provenance"
    elif scope is not None:
        verdict, rule = "out_of_scope", f"out_of_scope_{scope.rule}"
    elif has("real", "strong") and verdict == "uncertain":
        verdict, rule = "real", "strong_real_provenance"
    elif has("ai_generated", "moderate") and verdict == "uncertain":
        verdict, rule = "ai_generated", "moderate_ai_provenance"
    return verdict, Decision(
        threshold=threshold,
        uncertain_band=(lo, hi),
        pixel_verdict=pixel,
        rule=rule,
        conflicting_evidence=conflicts(pixel, evidence),
        out_of_scope_reason=scope.reason if scope is not None else None,
        compression=compression,
    )


def conflicts(pixel: PixelVerdict, evidence: Iterable[Evidence]) -> bool:
    """Moderate or strong evidence that disagrees with the pixel verdict."""
    counted = [e.signal for e in evidence if e.strength in ("strong", "moderate")]
    return ("ai_generated" in counted and pixel != "ai_generated") or (
        "real" in counted and pixel != "real"
    )
