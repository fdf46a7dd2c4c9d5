"""The seed project's CIFAKE model, imported as served, on the same test split."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from aidetect.datasets import evaluation_samples
from aidetect.evaluation import summarise
from aidetect_training.experiments.shared import (
    command,
    detector_for,
    num,
    run_evaluate,
    write_json,
)


def cmd_seed(a: argparse.Namespace) -> dict[str, Any]:
    from aidetect.registry import import_legacy

    test = evaluation_samples(a.data)
    name = "seed-cifake-cnn"
    with tempfile.TemporaryDirectory(prefix="seed-models-") as tmp:
        meta = import_legacy(a.seed_model, Path(tmp) / name, name=name)
        detector = detector_for(Path(tmp))
        m = run_evaluate(detector, name, test, a.out / name, a.force, {"split": "test"})
    out = {
        "experiment": "seed",
        "data": str(a.data),
        "command": command(),
        "import_command": (
            f"aidetect models import-legacy {a.seed_model} --name {name} --models-dir TMPDIR"
        ),
        "model": {
            "name": name,
            "input": meta.input.model_dump() if meta.input else None,
            "output": meta.output,
            "threshold": meta.threshold,
            "sha256": meta.sha256,
        },
        "test": summarise(m),
    }
    write_json(a.out / "results.json", out)
    t = out["test"]
    print(f"seed-cifake-cnn on the test split: AUC {num(t['roc_auc'])}, acc {num(t['accuracy'])}")
    return out
