"""From a fitted model to its artifact, written once (training runs and ensembles).

``finish_artifact`` stages the model in the registry with provisional metadata
(``Registry.stage``: its file is already in the output folder, its
``metadata.json`` not yet), scores the validation split through the serving path
(``Detector.score_files``), chooses the threshold and uncertain band with the
pure ``choose_threshold``, evaluates the test split into ``<output>/report/``, and
only then writes ``metadata.json`` and the model card (``aidetect.cards``), once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aidetect.datasets import Sample, counts
from aidetect.evaluation import (
    Scored,
    compute_metrics,
    evaluate,
    score_samples,
    summarise,
    threshold_for_fpr,
)
from aidetect.inference import Detector, combine_members
from aidetect.metadata import ModelMetadata
from aidetect.registry import Registry, complete_metadata, write_artifact
from aidetect_training.checks import run_warnings, shout

#: The uncertain band's edges: thresholds for these false-positive rates on validation reals.
BAND_FPRS = (0.10, 0.01)

#: Fits parameters on the scored validation split (an ensemble's weights); returns metadata.
Fitter = Callable[[Scored, dict[str, Any]], dict[str, Any]]


def choose_threshold(
    y: np.ndarray, p: np.ndarray, target_fpr: float
) -> tuple[float, tuple[float, float] | None, str]:
    """Threshold for ``target_fpr`` on validation reals, and the uncertain band.

    The band runs from the threshold that allows 10 % false positives to the one
    that allows 1 % (widened to contain the threshold): below it the model says
    real, above it AI-generated, inside it uncertain.
    """
    if not (y == 0).any():
        return 0.5, None, "no real images in validation: default threshold 0.5, no band"
    t = threshold_for_fpr(y, p, target_fpr)
    lo = min(threshold_for_fpr(y, p, BAND_FPRS[0]), t)
    hi = max(threshold_for_fpr(y, p, BAND_FPRS[1]), t)
    rule = (
        f"threshold: lowest with false-positive rate <= {target_fpr} on {int((y == 0).sum())} "
        f"validation reals; uncertain band: thresholds for FPR {BAND_FPRS[0]} and {BAND_FPRS[1]}"
    )
    return t, (lo, hi), rule


def choose_threshold_with_variants(
    y: np.ndarray, p: np.ndarray, target_fpr: float, variant_reals: dict[str, np.ndarray]
) -> tuple[float, tuple[float, float] | None, str]:
    """``choose_threshold``, with transformed copies of the validation reals
    (``variant_reals``: variant -> scores of the reals' copies) taken into account.

    The threshold is raised until ``target_fpr`` also holds on every variant, the worst
    one deciding: the promise about false alarms keeps for photos passed on in any of
    those ways. The uncertain band's edges are the thresholds for their rates over all
    the reals together, originals and copies pooled: a band edge is a 1 % or 10 % point,
    and on a few hundred reals per variant the worst variant's 1 % point rests on two or
    three pictures (often crops of one photo), which would make the band as wide as
    that photo's score. The band is then widened to contain the threshold.
    """
    t, band, rule = choose_threshold(y, p, target_fpr)
    if band is None or not variant_reals:
        return t, band, rule
    copies = list(variant_reals.values())
    worst = [threshold_for_fpr(np.zeros(len(v), int), v, target_fpr) for v in copies]
    t = max([t, *worst])
    pooled = np.concatenate([p[y == 0], *copies])
    zeros = np.zeros(len(pooled), int)
    lo = min(threshold_for_fpr(zeros, pooled, BAND_FPRS[0]), t)
    hi = max(threshold_for_fpr(zeros, pooled, BAND_FPRS[1]), t)
    rule += (
        "; the threshold also on the same reals as " + ", ".join(variant_reals) + " copies "
        "(aidetect_training.variants), the worst one deciding; the band's edges on the "
        f"{len(pooled)} originals and copies pooled"
    )
    return t, (lo, hi), rule


def score_variant_reals(
    detector: Detector, staged: Any, name: str, reals: list[Sample], variants: Sequence[str]
) -> dict[str, np.ndarray]:
    """P(AI) of transformed copies of ``reals`` (written to a temporary folder, scored
    through the serving path, then deleted), per variant."""
    import tempfile

    from aidetect_training.variants import write_variant

    out: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="aidetect-variants-") as tmp:
        for v in variants:
            copies = write_variant(reals, Path(tmp) / v, v)
            scored = score_samples(detector, copies, name, desc=v)
            out[v] = np.array([combine_members(staged, r) for r in scored.member_probabilities])
    return out


def data_meta(dataset: str | Path, parts: dict[str, list[Sample]]) -> dict[str, Any]:
    """``training_data``: the data set and counts per split, class and generator."""
    everything = [s for v in parts.values() for s in v]
    return {
        "dataset": str(dataset),
        "counts": counts(everything),
        "splits": {k: counts(v) for k, v in parts.items()},
    }


def serving_marks(output: Path) -> dict[str, bool]:
    """``default`` / ``legacy`` of the artifact a run is about to replace (those set only).

    Retraining into the served model's folder replaces that model, so the new one is served
    in its place; without this, the new metadata said ``"default": false`` and the server
    fell back to another model (it happened: patchnet-aligned 1.2.0 and 1.3.0 were not
    served by default until 7bf3116)."""
    try:
        old = json.loads((output / "metadata.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: True for k in ("default", "legacy") if isinstance(old, dict) and old.get(k) is True}


def finish_artifact(
    out: Path,
    meta: dict[str, Any],
    parts: dict[str, list[Sample]],
    *,
    target_fpr: float,
    progress: bool = True,
    fit: Fitter | None = None,
    test_note: str | None = None,
    threshold_variants: Sequence[str] = (),
) -> ModelMetadata:
    """Threshold on ``parts["val"]``, report on ``parts["test"]``, then write the artifact.

    ``meta`` is complete but for the threshold and metrics; a model's file is already
    in ``out`` (``model_file`` and ``sha256`` in ``meta``). ``test_note`` marks a
    report made on another split when there is no test split. ``threshold_variants``
    makes the threshold hold on transformed copies of the validation reals too and takes
    the band on the originals and copies pooled (``choose_threshold_with_variants``);
    the copies' false-positive rates at the chosen threshold go to
    ``metrics.validation.variant_fpr``.
    """
    name = meta["name"]
    registry = Registry(out.parent)
    staged = registry.stage(complete_metadata(meta))
    estimator = getattr(staged, "estimator", None)
    detector = Detector(registry, provenance=False, default_model=name)
    val, test = parts.get("val") or [], parts.get("test") or []
    val_metrics: dict[str, Any] | None = None
    if val:
        scored = score_samples(detector, val, name, progress=progress, desc="validation")
        if fit is not None:
            meta = fit(scored, meta)
            staged = registry.stage(complete_metadata(meta), estimator)
        y = scored.labels
        p = np.array([combine_members(staged, row) for row in scored.member_probabilities])
        reals = [s for s, _ in scored.ok if s.label == 0]  # those that decoded
        variant_reals = (
            score_variant_reals(detector, staged, name, reals, threshold_variants)
            if threshold_variants and reals
            else {}
        )
        t, band, rule = choose_threshold_with_variants(y, p, target_fpr, variant_reals)
        val_metrics = compute_metrics(y, p, t, scored.generators, band)
        if variant_reals:
            val_metrics["variant_fpr"] = {
                v: {"n": len(q), "false_positive_rate": float((q >= t).mean())}
                for v, q in variant_reals.items()
            }
    else:
        t, band, rule = 0.5, None, "no validation split: default threshold 0.5"
    meta = {**meta, "threshold": t, "uncertain_band": band, "threshold_rule": rule}
    meta["metrics"] = {**meta.get("metrics", {}), "target_fpr": target_fpr}
    meta["metrics"]["validation"] = val_metrics
    if test:
        registry.stage(complete_metadata(meta), estimator)
        report = evaluate(
            detector,
            test,
            out / "report",
            model=name,
            progress=progress,
            extra={"command": meta.get("command"), "split": "test" if not test_note else "val"},
        )
        test_metrics = summarise(report)
        test_metrics["report"] = "report/metrics.json"
        if test_note:
            test_metrics["note"] = test_note
        meta["metrics"]["test"] = test_metrics
    else:
        meta["metrics"]["test"] = None
    meta["warnings"] = run_warnings(target_fpr, val_metrics, meta["metrics"]["test"])
    shout(meta["warnings"])
    return write_artifact(out, meta)
