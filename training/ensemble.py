"""Ensembles: several trained models answering together.

An ensemble artifact holds no model file, only ``metadata.json`` naming its
members (registry names in the same models folder) with weights, and a rule:

- ``vote`` (the seed's plan): each member votes AI when its P(AI) reaches its own
  threshold; the ensemble's score is the weighted share of AI votes (equal weights:
  a majority vote at threshold 0.5).
- ``mean``: the weighted mean of the members' P(AI). With ``--data``, weights are
  fitted on the validation split: the non-negative weights summing to 1 that
  minimise the log-loss of the weighted mean (so a weak or redundant member gets
  little weight); without data, weights are equal.

With ``--data`` the threshold and uncertain band are chosen on validation (as for
single models) and the test split is evaluated into ``<output>/report/``; the
split is the same hash-based one training uses (same ``--seed``, ``--val``,
``--test``), so members trained on the same data were not fitted on these images.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import numpy as np

from aidetect.datasets import list_samples
from aidetect.errors import AIDetectError
from aidetect.evaluation import compute_metrics, evaluate, summarise
from aidetect.inference import Detector, combine_members
from aidetect.registry import Registry, validate_name, write_artifact
from training.common import choose_threshold, describe_counts
from training.data import split_samples


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


def _score_members(detector: Detector, name: str, samples) -> tuple[np.ndarray, np.ndarray, list]:
    """Labels and per-member P(AI) (n x members), from one pass through the ensemble."""
    from aidetect.imaging import read_file_limited

    ys, rows, gens = [], [], []
    for start in range(0, len(samples), 64):
        chunk = samples[start : start + 64]
        blobs = [read_file_limited(s.path, detector.limits.max_bytes) for s in chunk]
        for s, res in zip(chunk, detector.detect_many(blobs, name), strict=True):
            if isinstance(res, AIDetectError):
                continue
            ys.append(s.label)
            rows.append([m.ai_probability for m in res.models])
            gens.append(s.generator or ("real" if s.label == 0 else "unknown"))
    return np.asarray(ys, dtype=int), np.asarray(rows, dtype=np.float64), gens


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
    write_artifact(out, meta_d)
    if data is None:
        meta_d["threshold_rule"] = "no data given: equal weights, threshold 0.5"
        return write_artifact(out, meta_d).model_dump(mode="json", exclude_none=True)

    samples = split_samples(list_samples(data), val, test, seed, root=data)
    parts = {k: [s for s in samples if s.split == k] for k in ("train", "val", "test")}
    if not parts["val"]:
        raise AIDetectError(f"{data}: no validation images to fit the ensemble on")
    detector = Detector(Registry(out.parent), provenance=False)
    y, p, gens = _score_members(detector, name, parts["val"])
    if rule == "mean":
        weights = fit_mean_weights(p, y)
        weight_rule = "simplex weights minimising validation log-loss of the weighted mean"
    else:
        weights = np.full(len(members), 1.0 / len(members))
        weight_rule = "equal weights (majority vote)"
    meta_d["members"] = [
        {"name": m, "weight": round(float(w), 6)} for m, w in zip(members, weights, strict=True)
    ]
    write_artifact(out, meta_d)
    loaded = Registry(out.parent).load(name)
    combined = np.array([combine_members(loaded, row) for row in p])
    t, band, rule_text = choose_threshold(y, combined, target_fpr)
    member_auc = {m: compute_metrics(y, p[:, i], 0.5)["roc_auc"] for i, m in enumerate(members)}
    meta_d.update(
        threshold=t,
        uncertain_band=band,
        threshold_rule=rule_text,
        weight_rule=weight_rule,
        training_data={
            "dataset": str(data),
            "splits": {
                k: {"total": len(v), "real": sum(s.label == 0 for s in v)} for k, v in parts.items()
            },
        },
    )
    meta_d["metrics"] = {
        "target_fpr": target_fpr,
        "validation": compute_metrics(y, combined, t, gens, band),
        "members_validation_auc": member_auc,
    }
    write_artifact(out, meta_d)
    test_samples = parts["test"]
    if test_samples:
        detector = Detector(Registry(out.parent), provenance=False)
        report = evaluate(
            detector,
            test_samples,
            out / "report",
            model=name,
            progress=progress,
            extra={"command": command, "split": "test"},
        )
        meta_d["metrics"]["test"] = summarise(report)
    card = _card(meta_d, parts)
    return write_artifact(out, meta_d, card=card).model_dump(mode="json", exclude_none=True)


def _card(meta: dict[str, Any], parts) -> str:
    from aidetect.datasets import counts

    m = meta["metrics"]
    val, test = m.get("validation") or {}, m.get("test") or {}
    band = meta.get("uncertain_band")

    def f(v):
        return "n/a" if v is None else f"{v:.4f}"

    lines = [
        f"# {meta['name']} (ensemble, v{meta['version']})",
        "",
        f"Rule `{meta['ensemble_rule']}` over: "
        + ", ".join(f"`{x['name']}` (weight {x['weight']:.3f})" for x in meta["members"]),
        f"; {meta['weight_rule']}.",
        "",
        "## Decision",
        "",
        f"- threshold **{meta['threshold']:.4f}** ({meta['threshold_rule']})",
        f"- uncertain band: {f'[{band[0]:.4f}, {band[1]:.4f}]' if band else 'none'}",
        "",
        "## Data",
        "",
        "```",
        describe_counts({k: counts(v) for k, v in parts.items() if v}),
        "```",
        "",
        "## Metrics",
        "",
        "| metric | validation | test |",
        "|---|---|---|",
    ]
    for k in ("n", "accuracy", "roc_auc", "average_precision", "false_positive_rate"):
        lines.append(
            f"| {k} | {val.get(k, 'n/a') if k == 'n' else f(val.get(k))} | "
            f"{test.get(k, 'n/a') if k == 'n' else f(test.get(k))} |"
        )
    lines += [
        "",
        "Members' validation AUC: "
        + ", ".join(f"{k} {f(v)}" for k, v in m["members_validation_auc"].items()),
        "",
        "## Reproduce",
        "",
        "```",
        meta["command"],
        "```",
        "",
    ]
    return "\n".join(lines)
