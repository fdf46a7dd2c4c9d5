"""Leave one generator family out: retrain without a family (through ``aidetect
train``), test on it and on the families seen.

Two ways to retrain:

- ``--arch svm|cnn``: a fixed recipe (crops policy, 16 crops, seed 0) on a manifest
  written per held-out family (``lofo_split``), scored on the held-out family's test
  split and on the others' (``cmd_lofo``);
- ``--like MODEL``: the recipe a shipped model recorded (its metadata's ``command``),
  every option kept but ``--output``, ``--name`` and ``--families``, which names the
  families MODEL trained on minus the held-out one, on the corpus as given (the same
  splits); each model is scored by ``aidetect_training.heldout`` on every picture of
  the family it never saw against the real test crops (``cmd_lofo_like``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import aidetect
from aidetect.datasets import Sample, counts, family_of, list_samples, write_manifest
from aidetect.evaluation import summarise
from aidetect_training.experiments.shared import (
    FAMILIES,
    command,
    detector_for,
    kind_of,
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
    """Run a recorded ``aidetect train`` command with this Python's ``aidetect`` (the
    packages this process imported, also from a checkout that is not the installed one)."""
    exe = Path(sys.executable).parent / "aidetect"
    cmd = [str(exe) if exe.exists() else "aidetect", *shlex.split(shown)[1:], "--quiet"]
    cmd += ["--workers", str(a.workers)] if a.workers else []
    here = str(Path(aidetect.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    subprocess.run(cmd + (["--resume"] if resume else []), check=True, env=env)


def cmd_lofo(a: argparse.Namespace) -> dict[str, Any]:
    if a.like:
        return cmd_lofo_like(a)
    if a.docs:
        raise SystemExit("error: --docs writes the --like section; without --like use `report`")
    a.epochs = 6 if a.epochs is None else a.epochs
    a.image_size = 128 if a.image_size is None else a.image_size
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


# --- --like MODEL: a shipped model's own recipe, one family left out at a time -------------------
LIKE_START, LIKE_END = "<!-- lofo-like:start -->", "<!-- lofo-like:end -->"


def recipe(spec: str, models_dir: Path):
    """``(name, metadata, RunConfig)`` of the ``aidetect train`` run a model recorded
    (``spec``: a registry name in ``models_dir`` or an artifact folder)."""
    from aidetect.errors import AIDetectError
    from aidetect.registry import registry_for
    from aidetect_training.cli import parse_train

    try:
        registry, name = registry_for(spec, models_dir)
        assert name is not None
        meta = registry.metadata(name).model_dump(mode="json")
    except AIDetectError as exc:
        raise SystemExit(f"error: --like {spec}: {exc}") from exc
    argv = shlex.split(meta.get("command") or "")
    if argv[:2] != ["aidetect", "train"]:
        raise SystemExit(f"error: {name} records no `aidetect train` command in its metadata")
    return name, meta, parse_train(argv[2:])


def without_family(patterns: Sequence[str], families: Sequence[str], held: str) -> list[str]:
    """``--families`` for a run like one given ``patterns`` (none: every family of the
    corpus, ``families``) that never sees ``held``: a pattern that does not match
    ``held`` is kept as written (``esrgan-*`` stays a pattern), one that does is replaced
    by the other corpus families it matches."""
    out: list[str] = []
    for p in patterns or families:
        keep = (
            [p]
            if not fnmatchcase(held, p)
            else [f for f in families if f != held and fnmatchcase(f, p)]
        )
        out += [k for k in keep if k not in out]
    return out


def cmd_lofo_like(a: argparse.Namespace) -> dict[str, Any]:
    """Retrain ``--like``'s recorded recipe without each family in turn and score each
    model on the family it never saw (``aidetect_training.heldout``)."""
    from aidetect_training.heldout import evaluate_model, trained_families

    if a.epochs is not None or a.image_size is not None:
        raise SystemExit(
            "error: with --like the recipe is the model's own: no --epochs/--image-size"
        )
    name, meta, cfg = recipe(a.like, a.models_dir)
    samples = list_samples(a.data)
    corpus = sorted({s.family or s.generator for s in samples if s.label == 1})
    gen2fam = {s.generator: s.family for s in samples if s.label == 1 and s.family}
    trained = trained_families(meta, corpus, gen2fam)
    if a.families:
        held_out = [f.strip() for f in a.families.split(",") if f.strip()]
        unknown = [f for f in held_out if f not in trained]
        if unknown:
            raise SystemExit(
                f"error: {name} did not train on {', '.join(unknown)} in {a.data}: nothing to "
                f"leave out (it trained on {', '.join(trained) or 'none'})"
            )
    else:
        held_out = [f for f in trained if kind_of(f) == "text-to-image"]
    if not held_out:
        raise SystemExit(f"error: {name} trained on no text-to-image family of {a.data}")
    if Path(cfg.data) != Path(a.data):
        print(f"[lofo] {name} was trained on {cfg.data}; using --data {a.data}", flush=True)
    models_dir = a.out / "models"
    results: dict[str, Any] = {}
    for fam in held_out:
        model = f"lofo-{name}-{fam}"
        output = models_dir / model
        keep = without_family(cfg.families, corpus, fam)
        shown = replace(cfg, data=Path(a.data), output=output, name=model, families=tuple(keep))
        shown = shown.command_line()
        old = read_json(output / "metadata.json") or {}
        if a.force or "test" not in old.get("metrics", {}) or old.get("command") != shown:
            print(f"[lofo] training {model}: {shown}", flush=True)
            t0 = time.time()
            run_train(shown, a, a.resume and (output / "checkpoints").is_dir())
            write_json(a.out / fam / "train.json", {"command": shown, "seconds": time.time() - t0})
        else:
            print(f"[lofo] {model} is trained (same command): kept", flush=True)
        # the reals and the held-out family: every split of it is scored (never trained on)
        part = [s for s in samples if s.label == 0 or (s.family or s.generator) == fam]
        r = evaluate_model(detector_for(models_dir), model, part, a.out / "heldout")
        row = r["per_family"][fam]
        if not row["held_out"]:
            raise RuntimeError(f"{model} trained on {fam} ({r['trained_families']})")
        results[fam] = {
            "model": model,
            "train_command": shown,
            "train_seconds": (read_json(a.out / fam / "train.json") or {}).get("seconds"),
            "families": keep,
            "threshold": r["threshold"],
            "heldout": row,
            "real_test_crops": r["real_test_photos"],
            "false_positive_rate": r["false_positive_rate"],
        }
    aucs = [v for r in results.values() if (v := r["heldout"].get("roc_auc")) is not None]
    out = {
        "experiment": "lofo-like",
        "like": name,
        "like_command": meta["command"],
        "data": str(a.data),
        "command": command(a.argv),
        "families": results,
        "mean_heldout_auc": sum(aucs) / len(aucs) if aucs else None,
    }
    write_json(a.out / "results.json", out)
    section = lofo_like_section(out)
    (a.out / "results.md").write_text(section + "\n")
    print(lofo_like_table(out))
    if a.docs:
        from aidetect_training.heldout import write_docs

        write_docs(a.docs, section, (LIKE_START, LIKE_END))
    return out


def _pct(v: float | None, nd: int) -> str:
    return "n/a" if v is None else f"{v:.{nd}%}"


def lofo_like_table(res: dict[str, Any]) -> str:
    rows = res["families"].values()
    reals = sorted({r["real_test_crops"] for r in rows})
    on = f"{reals[0]} real test crops" if len(reals) == 1 else "the real test crops"
    lines = [
        f"| held-out family | n | ROC-AUC | AP | detected at its threshold | FPR on {on} |",
        "|---|---|---|---|---|---|",
    ]
    for fam, r in res["families"].items():
        h = r["heldout"]
        lines.append(
            f"| {fam} | {h['n']} | {num(h.get('roc_auc'), 3)} | "
            f"{num(h.get('average_precision'), 3)} | {_pct(h.get('detection_rate'), 0)} | "
            f"{_pct(r['false_positive_rate'], 1)} |"
        )
    fprs = sorted(r["false_positive_rate"] for r in rows if r["false_positive_rate"] is not None)
    spread = "" if not fprs else _pct(fprs[0], 1)
    if fprs and fprs[-1] != fprs[0]:
        spread = f"{fprs[0] * 100:.1f}-{_pct(fprs[-1], 1)}"
    lines.append(
        f"| **mean of {len(res['families'])}** | | **{num(res['mean_heldout_auc'], 3)}** "
        f"| | | {spread} |"
    )
    return "\n".join(lines)


def lofo_like_section(res: dict[str, Any]) -> str:
    """The section of docs/evaluation.md (between ``LIKE_START`` and ``LIKE_END``)."""
    fams = list(res["families"])
    rows = list(res["families"].values())
    kind = "text-to-image " if all(kind_of(f) == "text-to-image" for f in fams) else ""
    secs = [r["train_seconds"] for r in rows if r.get("train_seconds")]
    took = f" ({sum(secs) / len(secs) / 60:.1f} min of training per model here)" if secs else ""
    return "\n".join(
        [
            LIKE_START,
            f"## Leave one {kind}family out of `{res['like']}`'s recipe",
            "",
            f"`{res['like']}`'s recipe (the command in its metadata, every option the same but "
            f"`--output`, `--name` and `--families`) was retrained {len(fams)} times, each time "
            f"without one of the {kind}families below (`--families` naming every other family "
            "it trained on), and each model was scored through the serving path on every "
            "picture of the family it never saw against the same real test crops, at its own "
            f"threshold{took}.",
            "",
            lofo_like_table(res),
            "",
            "Commands (data and models outside the repository):",
            "",
            "```bash",
            res["command"],
            "# which runs, for each family:",
            *[r["train_command"] for r in rows],
            "```",
            LIKE_END,
        ]
    )
