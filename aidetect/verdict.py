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

from aidetect.results import Decision, Evidence, PixelVerdict, Verdict
from aidetect.scope import OutOfScope


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
) -> tuple[Verdict, Decision]:
    """Combine the pixel probability, the scope check and provenance into the verdict."""
    evidence = list(evidence)
    lo, hi = normalise_band(threshold, band)
    pixel = pixel_verdict(p, threshold, (lo, hi))

    def has(signal: str, strength: str) -> bool:
        return any(e.signal == signal and e.strength == strength for e in evidence)

    verdict: Verdict = pixel
    rule = "pixel_model"
    if has("ai_generated", "strong"):
        verdict, rule = "ai_generated", "strong_ai_provenance"
    elif scope is not None:
        verdict, rule = "out_of_scope", f"out_of_scope_{scope.rule}"
    elif has("real", "strong") and pixel == "uncertain":
        verdict, rule = "real", "strong_real_provenance"
    elif has("ai_generated", "moderate") and pixel == "uncertain":
        verdict, rule = "ai_generated", "moderate_ai_provenance"
    return verdict, Decision(
        threshold=threshold,
        uncertain_band=(lo, hi),
        pixel_verdict=pixel,
        rule=rule,
        conflicting_evidence=conflicts(pixel, evidence),
        out_of_scope_reason=scope.reason if scope is not None else None,
    )


def conflicts(pixel: PixelVerdict, evidence: Iterable[Evidence]) -> bool:
    """Moderate or strong evidence that disagrees with the pixel verdict."""
    counted = [e.signal for e in evidence if e.strength in ("strong", "moderate")]
    return ("ai_generated" in counted and pixel != "ai_generated") or (
        "real" in counted and pixel != "real"
    )
