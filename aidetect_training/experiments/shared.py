"""What the experiments share: JSON results, evaluation through the serving path with
reports reused while the model is unchanged, and number formatting."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aidetect.corpus.realesrgan import FAMILIES as REALESRGAN_FAMILIES
from aidetect.datasets import Sample

FAMILIES = ("esrgan-slim", "esrgan-medium", "esrgan-thick")
KIND = {"taef2": "autoencoder (aligned round trips)", "ae8": "autoencoder (self-trained)"}


def kind_of(family: str) -> str:
    """What made a family's fakes: ``autoencoder (...)``, ``super-resolution`` or
    ``text-to-image`` (every family the corpus builder does not make itself)."""
    if family in KIND:
        return KIND[family]
    if family.startswith("esrgan") or family in REALESRGAN_FAMILIES:
        return "super-resolution"
    return "text-to-image"


GOALS = {"test_auc": 0.99, "lofo_mean_auc": 0.90, "jpeg75_drop": 0.03, "test_fpr": 0.05}


def command(argv: Sequence[str] | None = None) -> str:
    """This run as a shell command (``argv``: its arguments, default ``sys.argv``)."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", "aidetect_training.experiments", *args])


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=str) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def detector_for(models_dir: Path):
    from aidetect.inference import Detector
    from aidetect.registry import Registry

    return Detector(Registry(models_dir), provenance=False)


def fingerprint(detector, name: str) -> dict[str, Any]:
    meta = detector.registry.metadata(name)
    fp = {"sha256": meta.sha256, "created": meta.created, "version": meta.version}
    if meta.members:
        fp["members"] = {m.name: fingerprint(detector, m.name) for m in meta.members}
    return fp


def finished_models(models_dir: Path, wanted: Sequence[str] | None) -> list[str]:
    """Models whose training finished (test metrics written), and models that were not
    made by ``aidetect train`` at all (imported with ``aidetect models import-legacy``:
    nothing to wait for); a folder whose metadata.json cannot be read, or an ``aidetect
    train`` run with no test metrics yet, is skipped."""
    from aidetect.registry import Registry

    reg = Registry(models_dir)
    names = list(wanted) if wanted else reg.names()
    ready = []
    for n in names:
        try:
            meta = reg.metadata(n)
        except Exception as exc:  # a half-written artifact
            print(f"[skip] {n}: {exc}", flush=True)
            continue
        no_data_ensemble = meta.format == "ensemble" and "validation" not in meta.metrics
        trained_here = (meta.command or "").startswith("aidetect train")
        if "test" in meta.metrics or no_data_ensemble or not trained_here:
            ready.append(n)
        else:
            print(f"[skip] {n}: no test metrics yet (still training?)", flush=True)
    return ready


def run_evaluate(
    detector,
    name: str,
    samples: Sequence[Sample],
    report_dir: Path,
    force: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``aidetect.evaluation.evaluate`` unless an up-to-date report is already there."""
    from aidetect.evaluation import evaluate

    fp = fingerprint(detector, name)
    old = read_json(report_dir / "metrics.json")
    if not force and old and old.get("model_fingerprint") == fp and old.get("n") is not None:
        return old
    t0 = time.time()
    m = evaluate(
        detector,
        samples,
        report_dir,
        model=name,
        progress=False,
        extra={**(extra or {}), "model_fingerprint": fp},
    )
    print(
        f"[evaluate] {name} -> {report_dir}: AUC {m['roc_auc']}, acc {m['accuracy']:.4f} "
        f"({time.time() - t0:.0f} s)",
        flush=True,
    )
    return m


def merge_results(path: Path, new: dict[str, Any]) -> None:
    """Keep earlier models' rows when a rerun evaluates only some models."""
    old = read_json(path) or {}
    models = {**old.get("models", {}), **new.get("models", {})}
    write_json(path, {**new, "models": models})


def band_text(band: Sequence[float] | None) -> str:
    return f"[{band[0]:.4f}, {band[1]:.4f}]" if band else "none"


def num(v: Any, nd: int = 4) -> str:
    return "n/a" if v is None else f"{v:.{nd}f}"
