"""Ensembles: several trained models answering together.

An ensemble artifact holds no model file, only ``metadata.json`` naming its
members (registry names in the same models folder) with weights, and a rule:

- ``vote`` (the seed's plan): each member votes AI when its P(AI) reaches its own
  threshold; the ensemble's score is the weighted share of AI votes (equal weights:
  a majority vote at threshold 0.5).
- ``mean``: the weighted mean of the members' P(AI). With ``--data``, weights are
  fitted on the validation split: the non-negative weights summing to 1 that
  minimise the log-loss of the weighted mean (so a weak or redundant member gets
  little weight); without data, or with ``--equal-weights``, weights are equal
  (fitting picks the member best on the *trained* families, which need not be the one
  that generalises: docs/evaluation.md, "Frozen EfficientNet-Lite features").

With ``--data`` the threshold and uncertain band are chosen on validation (as for
single models) and the test split is evaluated into ``<output>/report/``; the
split is the same hash-based one training uses (same ``--seed``, ``--val``,
``--test``), so members trained on the same data were not fitted on these images.
``--families`` keeps the AI images of those families only, exactly as ``aidetect train
--families`` does: an ensemble of members that never saw a family must not be fitted
on it either, or the held-out evaluation (``aidetect_training.heldout``) would judge it
on a family its weights and threshold were chosen with.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aidetect.datasets import list_samples
from aidetect.errors import AIDetectError
from aidetect.evaluation import Scored, compute_metrics
from aidetect.registry import Registry, validate_name, write_artifact
from aidetect_training.artifact import data_meta, finish_artifact, serving_marks


def fit_mean_weights(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Simplex weights minimising the log-loss of ``p @ w`` (p: n x members)."""
    from scipy.optimize import minimize

    k = p.shape[1]
    if k == 1 or len(set(y.tolist())) < 2:
        return np.full(k, 1.0 / k)
    eps = 1e-6

    def loss(z: np.ndarray) -> float:
        w = np.exp(z - z.max())
        w /= w.sum()
        q = np.clip(p @ w, eps, 1 - eps)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))

    res = minimize(loss, np.zeros(k), method="Nelder-Mead" if k <= 2 else "Powell")
    w = np.exp(res.x - res.x.max())
    return w / w.sum()


def build_ensemble(
    members: list[str],
    output: str | Path,
    *,
    rule: str = "mean",
    data: str | Path | None = None,
    seed: int = 0,
    val: float = 0.15,
    test: float = 0.15,
    target_fpr: float = 0.05,
    families: Sequence[str] = (),
    equal_weights: bool = False,
    threshold_variants: Sequence[str] = (),
    version: str = "1.0.0",
    progress: bool = True,
    command: str | None = None,
) -> dict[str, Any]:
    out = Path(output)
    name = validate_name(out.name)
    registry = Registry(out.parent)
    if len(set(members)) != len(members) or not members:
        raise AIDetectError("--members needs distinct model names")
    for m in members:
        if m == name:
            raise AIDetectError("an ensemble cannot list itself")
        meta = registry.metadata(m)  # UnknownModelError lists what is there
        if meta.format == "ensemble":
            raise AIDetectError(f"{m} is an ensemble; nested ensembles are not supported")
    if command is None:
        args = ["aidetect", "ensemble", "--members", *members, "--output", str(out)]
        args += ["--rule", rule, "--seed", str(seed), "--target-fpr", str(target_fpr)]
        if data is not None:
            args += ["--data", str(data), "--val", str(val), "--test", str(test)]
            args += ["--families", ",".join(families)] if families else []
            args += ["--equal-weights"] if equal_weights else []
            if threshold_variants:
                args += ["--threshold-variants", ",".join(threshold_variants)]
        command = shlex.join(args)
    meta_d: dict[str, Any] = {
        "name": name,
        "architecture": "ensemble",
        "version": version,
        "format": "ensemble",
        "description": f"{rule} of {', '.join(members)}",
        "members": [{"name": m, "weight": 1.0} for m in members],
        "ensemble_rule": rule,
        "threshold": 0.5,
        "command": command,
    }
    meta_d.update(serving_marks(out))  # replacing the served ensemble: it stays served
    if data is None:
        meta_d["threshold_rule"] = "no data given: equal weights, threshold 0.5"
        meta_d["weight_rule"] = "equal weights"
        return write_artifact(out, meta_d).model_dump(mode="json", exclude_none=True)

    from aidetect_training.data import split_samples
    from aidetect_training.run import family_selected

    samples = split_samples(list_samples(data), val, test, seed, root=data)
    if families:
        samples = [s for s in samples if s.label == 0 or family_selected(s, families)]
    parts = {k: [s for s in samples if s.split == k] for k in ("train", "val", "test")}
    if not parts["val"]:
        raise AIDetectError(f"{data}: no validation images to fit the ensemble on")

    def fit(scored: Scored, meta: dict[str, Any]) -> dict[str, Any]:
        y, p = scored.labels, scored.member_probabilities
        if rule == "mean" and not equal_weights:
            weights = fit_mean_weights(p, y)
            weight_rule = "simplex weights minimising validation log-loss of the weighted mean"
        else:
            weights = np.full(len(members), 1.0 / len(members))
            weight_rule = "equal weights (majority vote)" if rule == "vote" else "equal weights"
        auc = {m: compute_metrics(y, p[:, i], 0.5)["roc_auc"] for i, m in enumerate(members)}
        return {
            **meta,
            "members": [
                {"name": m, "weight": round(float(w), 6)}
                for m, w in zip(members, weights, strict=True)
            ],
            "weight_rule": weight_rule,
            "metrics": {"members_validation_auc": auc},
        }

    meta_d["training_data"] = {**data_meta(data, parts), "families": list(families) or "all"}
    final = finish_artifact(
        out,
        meta_d,
        {"val": parts["val"], "test": parts["test"]},
        target_fpr=target_fpr,
        progress=progress,
        fit=fit,
        threshold_variants=threshold_variants,
    )
    return final.model_dump(mode="json", exclude_none=True)
