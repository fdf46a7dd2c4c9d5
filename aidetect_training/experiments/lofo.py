"""Leave one generator family out: retrain without a family (through ``aidetect
train``), test on it and on the families seen."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aidetect.datasets import Sample, counts, family_of, list_samples, write_manifest
from aidetect.evaluation import summarise
from aidetect_training.experiments.shared import (
    FAMILIES,
    command,
    detector_for,
    num,
    read_json,
    run_evaluate,
    write_json,
)


def lofo_split(samples: Sequence[Sample], family: str) -> tuple[list[Sample], list[Sample]]:
    """(training manifest rows, in-distribution test rows) for held-out ``family``.

    Training manifest: every real image and the fakes of the other families in train
    and val (splits as given), plus a test split of the test reals and the test fakes
    of ``family`` only. In-distribution: the test reals and the test fakes of the
    other families.
    """
    rows, seen = [], []
    for s in samples:
        fam = s.family or family_of(s.generator)
        if s.split in ("train", "val"):
            if s.label == 0 or fam != family:
                rows.append(s)
        elif s.split == "test":
            if s.label == 0 or fam == family:
                rows.append(s)
            if s.label == 0 or fam != family:
                seen.append(s)
    return rows, seen


def lofo_train_command(arch: str, manifest: Path, output: Path, a: argparse.Namespace) -> str:
    """The ``aidetect train`` run for one held-out family, every option spelled out by
    ``RunConfig.command_line`` (the command its artifact records)."""
    from aidetect_training.cli import parse_train

    argv = ["--data", str(manifest), "--arch", arch, "--output", str(output)]
    argv += ["--policy", "crops", "--image-size", str(a.image_size), "--max-crops", "16"]
    argv += ["--seed", "0", "--epochs", str(a.epochs), "--batch-size", "32"]
    if arch == "cnn":
        argv += ["--cnn-variant", "improved"]
    return parse_train(argv).command_line()


def run_train(shown: str, a: argparse.Namespace, resume: bool) -> None:
    """Run a recorded ``aidetect train`` command with this Python's ``aidetect``."""
    exe = Path(sys.executable).parent / "aidetect"
    cmd = [str(exe) if exe.exists() else "aidetect", *shlex.split(shown)[1:], "--quiet"]
    cmd += ["--workers", str(a.workers)] if a.workers else []
    subprocess.run(cmd + (["--resume"] if resume else []), check=True)


def cmd_lofo(a: argparse.Namespace) -> dict[str, Any]:
    samples = list_samples(a.data)
    families = a.families.split(",") if a.families else list(FAMILIES)
    models_dir = a.out / "models"
    results: dict[str, Any] = {}
    for fam in families:
        rows, seen = lofo_split(samples, fam)
        fdir = a.out / fam
        manifest = write_manifest(fdir / "manifest.csv", rows)
        seen_manifest = write_manifest(fdir / "seen-test" / "manifest.csv", seen)
        name = f"lofo-{a.arch}-{fam}"
        output = models_dir / name
        shown = lofo_train_command(a.arch, manifest, output, a)
        meta = read_json(output / "metadata.json") or {}
        done = "test" in meta.get("metrics", {})
        if a.force or not done or (read_json(fdir / "train.json") or {}).get("command") != shown:
            print(f"[lofo] training {name}: {shown}", flush=True)
            t0 = time.time()
            resume = a.resume and (output / "checkpoints").is_dir()
            run_train(shown, a, resume)
            write_json(fdir / "train.json", {"command": shown, "seconds": time.time() - t0})
        train_info = read_json(fdir / "train.json") or {}
        detector = detector_for(models_dir)
        held = [s for s in list_samples(manifest) if s.split == "test"]
        m_held = run_evaluate(detector, name, held, fdir / "heldout", a.force, {"family": fam})
        m_seen = run_evaluate(
            detector, name, list_samples(seen_manifest), fdir / "seen", a.force, {"family": fam}
        )
        tr = [s for s in rows if s.split in ("train", "val")]
        results[fam] = {
            "model": name,
            "train_command": shown,
            "train_seconds": train_info.get("seconds"),
            "counts": {
                "train_val": counts(tr),
                "heldout_test": counts(held),
                "seen_test": counts(list_samples(seen_manifest)),
            },
            "heldout": summarise(m_held),
            "seen": summarise(m_seen),
        }
    aucs = [r["heldout"]["roc_auc"] for r in results.values() if r["heldout"]["roc_auc"]]
    seen_aucs = [r["seen"]["roc_auc"] for r in results.values() if r["seen"]["roc_auc"]]
    out = {
        "experiment": "lofo",
        "arch": a.arch,
        "data": str(a.data),
        "command": command(),
        "families": results,
        "mean_heldout_auc": sum(aucs) / len(aucs) if aucs else None,
        "mean_seen_auc": sum(seen_aucs) / len(seen_aucs) if seen_aucs else None,
    }
    write_json(a.out / "results.json", out)
    print(lofo_table(out))
    return out


def lofo_table(res: dict[str, Any]) -> str:
    lines = [
        "| arch | held-out family | train+val images (real / AI) | held-out test (real / AI) "
        "| held-out ROC-AUC | held-out AP | held-out recall @ t | FPR @ t "
        "| in-distribution ROC-AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fam, r in res["families"].items():
        tv = r["counts"]["train_val"]["per_class"]
        ht = r["counts"]["heldout_test"]["per_class"]
        h, s = r["heldout"], r["seen"]
        lines.append(
            f"| {res['arch']} | {fam} | {tv.get('real', 0)} / {tv.get('ai_generated', 0)} | "
            f"{ht.get('real', 0)} / {ht.get('ai_generated', 0)} | {num(h['roc_auc'])} | "
            f"{num(h['average_precision'])} | {num(h['recall'])} | "
            f"{num(h['false_positive_rate'])} | {num(s['roc_auc'])} |"
        )
    lines.append(
        f"| {res['arch']} | **mean ({len(res['families'])} of {len(FAMILIES)} families)** | | | "
        f"**{num(res['mean_heldout_auc'])}** | | | | "
        f"{num(res['mean_seen_auc'])} |"
    )
    return "\n".join(lines)
