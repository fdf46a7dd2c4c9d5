"""Evaluation: stream a labelled folder through the serving code, write a report.

``evaluate()`` scores images in batches through ``Detector.detect_many`` (the same
decoding, preprocessing, model and verdict code that answers API requests), never
holding more than one batch of pixels in memory, and writes ``metrics.json``,
``predictions.csv`` and plots (confusion matrix, ROC, precision-recall,
reliability). ``compute_metrics()`` is shared with training.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aidetect.datasets import Sample, counts
from aidetect.errors import AIDetectError
from aidetect.inference import Detector
from aidetect.results import DetectionResult

#: The headline entries of a ``metrics.json`` kept in model metadata and summaries.
SUMMARY_KEYS = (
    "n",
    "threshold",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
    "confusion_matrix",
    "false_positive_rate",
    "expected_calibration_error",
    "counts",
    "uncertain_band",
    "uncertain_rate",
    "per_generator",
    "verdicts",
    "failures",
)


def training_data_warning(
    training_data: dict[str, Any] | None, data: str | os.PathLike[str], samples: Sequence[Any]
) -> str | None:
    """Warn when the data has no test split and is the data the model was trained on.

    With a split (manifest or train/test folders) evaluation scores the test split only;
    a plain REAL/FAKE folder is scored whole, so the images the model learned from are
    scored too and the figures come out optimistic.
    """
    if any(getattr(s, "split", "") == "test" for s in samples):
        return None
    trained_on = (training_data or {}).get("dataset")
    if not trained_on:
        return None
    a, b = Path(trained_on).expanduser().resolve(), Path(data).expanduser().resolve()
    if a.suffix.lower() == ".csv":
        a = a.parent
    if b.suffix.lower() == ".csv":
        b = b.parent
    if not (a == b or a in b.parents or b in a.parents):
        return None
    return (
        f"{data} has no test split and the model was trained on {trained_on}: every image "
        "is scored, including the ones it learned from, so these figures are optimistic. "
        "Give it a manifest.csv with a split column, or data it has not seen"
    )


def summarise(metrics: dict[str, Any]) -> dict[str, Any]:
    """The ``SUMMARY_KEYS`` entries of an evaluation's metrics (plots, file lists dropped)."""
    return {k: metrics[k] for k in SUMMARY_KEYS if k in metrics}


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(ece)


def compute_metrics(
    y_true: Sequence[int],
    p_ai: Sequence[float],
    threshold: float = 0.5,
    generators: Sequence[str] | None = None,
    band: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, ROC-AUC, AP, confusion matrix, calibration."""
    from sklearn import metrics as skm

    y = np.asarray(y_true, dtype=int)
    p = np.asarray(p_ai, dtype=np.float64)
    pred = (p >= threshold).astype(int)
    both = len(set(y.tolist())) == 2
    out: dict[str, Any] = {
        "n": len(y),
        "threshold": float(threshold),
        "accuracy": float(skm.accuracy_score(y, pred)) if len(y) else None,
        "precision": float(skm.precision_score(y, pred, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, zero_division=0)),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(y, p)) if both else None,
        "average_precision": float(skm.average_precision_score(y, p)) if both else None,
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "confusion_matrix_labels": ["real", "ai_generated"],
        "false_positive_rate": float(((pred == 1) & (y == 0)).sum() / max(1, (y == 0).sum())),
        "expected_calibration_error": expected_calibration_error(y, p) if len(y) else None,
        "counts": {"real": int((y == 0).sum()), "ai_generated": int((y == 1).sum())},
    }
    if band is not None:
        lo, hi = band
        out["uncertain_band"] = [float(lo), float(hi)]
        out["uncertain_rate"] = float(((p > lo) & (p < hi)).mean()) if len(p) else 0.0
    if generators is not None:
        gens = np.asarray(generators, dtype=object)
        per: dict[str, Any] = {}
        for g in sorted({str(x) for x, lab in zip(gens, y, strict=True) if lab == 1}):
            group = against_reals(y, p, threshold, (gens == g) & (y == 1), y == 0)
            entry: dict[str, Any] = {"n": group["n"], "detection_rate": group["detection_rate"]}
            if "roc_auc" in group:
                entry["roc_auc_vs_real"] = group["roc_auc"]
            per[g] = entry
        out["per_generator"] = per
    return out


def against_reals(
    y: np.ndarray, p: np.ndarray, threshold: float, group: np.ndarray, reals: np.ndarray
) -> dict[str, Any]:
    """One group of AI images (a generator, a family, a kind of fake: the mask ``group``)
    against the real images ``reals`` of the same scored set: how many of each, the share
    of the group detected at ``threshold``, and the ROC-AUC and AP of the group against
    those reals (absent without reals; only ``n`` and ``n_real`` for an empty group)."""
    from sklearn import metrics as skm

    n = int(group.sum())
    out: dict[str, Any] = {"n": n, "n_real": int(reals.sum())}
    if n == 0:
        return out
    out["detection_rate"] = float((p[group] >= threshold).mean())
    if reals.any():
        sel = group | reals
        out["roc_auc"] = float(skm.roc_auc_score(y[sel], p[sel]))
        out["average_precision"] = float(skm.average_precision_score(y[sel], p[sel]))
    return out


def threshold_for_fpr(y_true: Sequence[int], p_ai: Sequence[float], max_fpr: float) -> float:
    """The lowest threshold that calls at most ``max_fpr`` of the real images AI-generated."""
    y = np.asarray(y_true, dtype=int)
    reals = np.sort(np.asarray(p_ai, dtype=np.float64)[y == 0])
    if len(reals) == 0:
        return 0.5
    k = int(np.floor(max_fpr * len(reals)))  # reals allowed at or above the threshold
    if k >= len(reals):
        return float(reals[0])
    t = float(np.nextafter(reals[len(reals) - 1 - k], 1.0))
    return min(max(t, 1e-6), 1.0)


def write_plots(
    report_dir: Path, y: np.ndarray, p: np.ndarray, metrics: dict[str, Any]
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn import metrics as skm

    written = []
    fig, ax = plt.subplots(figsize=(4, 4))
    cm = np.asarray(metrics["confusion_matrix"])
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="black")
    ax.set_xticks([0, 1], ["real", "AI"])
    ax.set_yticks([0, 1], ["real", "AI"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix (t={metrics['threshold']:.3f})")
    fig.tight_layout()
    fig.savefig(report_dir / "confusion_matrix.png", dpi=100)
    plt.close(fig)
    written.append("confusion_matrix.png")
    if len(set(y.tolist())) == 2:
        fpr, tpr, _ = skm.roc_curve(y, p)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot(fpr, tpr, label=f"AUC {metrics['roc_auc']:.3f}")
        ax.plot([0, 1], [0, 1], "--", color="grey")
        ax.set_xlabel("false positive rate (real called AI)")
        ax.set_ylabel("true positive rate")
        ax.legend(loc="lower right")
        ax.set_title("ROC")
        fig.tight_layout()
        fig.savefig(report_dir / "roc.png", dpi=100)
        plt.close(fig)
        prec, rec, _ = skm.precision_recall_curve(y, p)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot(rec, prec, label=f"AP {metrics['average_precision']:.3f}")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.legend(loc="lower left")
        ax.set_title("Precision-recall")
        fig.tight_layout()
        fig.savefig(report_dir / "precision_recall.png", dpi=100)
        plt.close(fig)
        written += ["roc.png", "precision_recall.png"]
    edges = np.linspace(0, 1, 11)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, 9)
    xs, ys = [], []
    for b in range(10):
        m = idx == b
        if m.any():
            xs.append(p[m].mean())
            ys.append(y[m].mean())
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.plot(xs, ys, "o-")
    ax.set_xlabel("predicted P(AI)")
    ax.set_ylabel("observed fraction AI")
    ax.set_title(f"Reliability (ECE {metrics['expected_calibration_error']:.3f})")
    fig.tight_layout()
    fig.savefig(report_dir / "reliability.png", dpi=100)
    plt.close(fig)
    written.append("reliability.png")
    return written


@dataclass
class Scored:
    """Samples and what the detector said about each, in input order."""

    rows: list[tuple[Sample, DetectionResult | AIDetectError]]

    @property
    def ok(self) -> list[tuple[Sample, DetectionResult]]:
        return [(s, r) for s, r in self.rows if not isinstance(r, AIDetectError)]

    @property
    def failures(self) -> list[tuple[Sample, AIDetectError]]:
        return [(s, r) for s, r in self.rows if isinstance(r, AIDetectError)]

    @property
    def labels(self) -> np.ndarray:
        return np.asarray([s.label for s, _ in self.ok], dtype=int)

    @property
    def probabilities(self) -> np.ndarray:
        return np.asarray([r.ai_probability for _, r in self.ok], dtype=np.float64)

    @property
    def member_probabilities(self) -> np.ndarray:
        """n x members: each member's P(AI) (an ensemble's members; one column otherwise)."""
        return np.asarray([[m.ai_probability for m in r.models] for _, r in self.ok])

    @property
    def generators(self) -> list[str]:
        return [s.generator or ("real" if s.label == 0 else "unknown") for s, _ in self.ok]


def score_samples(
    detector: Detector,
    samples: Sequence[Sample],
    model: str | None = None,
    *,
    batch_size: int = 64,
    progress: bool = False,
    desc: str = "evaluate",
) -> Scored:
    """Labelled samples through ``Detector.score_files``; unreadable files become failures."""
    from tqdm import tqdm

    rows: list[tuple[Sample, DetectionResult | AIDetectError]] = []
    with tqdm(total=len(samples), unit="img", disable=not progress, desc=desc) as bar:
        scored = detector.score_files((s.path for s in samples), model, batch_size=batch_size)
        for s, (_, res) in zip(samples, scored, strict=True):
            rows.append((s, res))
            bar.update(1)
    return Scored(rows)


def evaluate(
    detector: Detector,
    samples: Sequence[Sample],
    report_dir: str | os.PathLike[str],
    *,
    model: str | None = None,
    batch_size: int = 64,
    progress: bool = True,
    extra: dict[str, Any] | None = None,
    scored: Scored | None = None,
) -> dict[str, Any]:
    """Score ``samples`` in batches and write the report; returns ``metrics.json``'s content.

    ``scored``: the samples already scored elsewhere (``evaluate --engine ray``)."""
    report = Path(report_dir)
    report.mkdir(parents=True, exist_ok=True)
    loaded = detector.resolve(model)
    threshold, band = detector.decision_params(loaded)
    if scored is None:
        scored = score_samples(detector, samples, model, batch_size=batch_size, progress=progress)
    failures = [{"path": str(s.path), "error": f"{e.code}: {e.detail}"} for s, e in scored.failures]
    verdicts: dict[str, int] = {}
    with open(report / "predictions.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label", "generator", "ai_probability", "verdict", "error"])
        for s, res in scored.rows:
            if isinstance(res, AIDetectError):
                writer.writerow([s.path, s.label, s.generator, "", "", res.code])
                continue
            verdicts[res.verdict] = verdicts.get(res.verdict, 0) + 1
            writer.writerow(
                [s.path, s.label, s.generator, f"{res.ai_probability:.6f}", res.verdict, ""]
            )
    ys, ps, gens = scored.labels, scored.probabilities, scored.generators
    if not len(ys):
        raise AIDetectError("No image in the data set could be scored.")
    metrics = compute_metrics(ys, ps, threshold, gens, band)
    metrics.update(
        {
            "model": {"name": loaded.name, "version": loaded.metadata.version},
            "verdicts": dict(sorted(verdicts.items())),
            "failures": len(failures),
            "failed_files": failures[:100],
            "data": counts(samples),
        }
    )
    if extra:
        metrics.update(extra)
    metrics["plots"] = write_plots(report, np.asarray(ys), np.asarray(ps), metrics)
    (report / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
