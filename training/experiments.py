"""Evaluation experiments for the shipped models: robustness, leave-one-family-out,
calibration, the seed model side by side, and the report (``docs/evaluation.md``).

Every number is measured through the serving path (``Registry`` + ``Detector``) by
``aidetect.evaluation.evaluate`` (metrics from ``compute_metrics``); images are listed
with ``aidetect.datasets.list_samples``. Nothing here preprocesses pixels or computes
a metric of its own: it only writes transformed copies of test images, manifests,
and tables.

    python -m training.experiments robustness  --data CORPUS --models-dir models --out DIR
    python -m training.experiments lofo        --data CORPUS --arch svm --out DIR
    python -m training.experiments calibration --data CORPUS --models-dir models --out DIR
    python -m training.experiments seed        --data CORPUS --out DIR
    python -m training.experiments report      --out DIR --doc docs/evaluation.md

Each command writes ``DIR/results.json``; ``report`` reads ``OUT/{robustness,
calibration,seed,lofo-svm,lofo-cnn}/results.json`` (whichever exist). Reruns are
cheap: a report whose model fingerprint (SHA-256, creation time) is unchanged is
reused, a LOFO model already trained with the same command is kept (``--force``
redoes both). Transformed images and LOFO models belong outside the repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from aidetect.datasets import (
    Sample,
    counts,
    evaluation_samples,
    family_of,
    list_samples,
    write_manifest,
)
from aidetect.evaluation import summarise

VARIANTS = ("original", "jpeg90", "jpeg75", "jpeg50", "downscale50", "centrecrop")
FAMILIES = ("esrgan-slim", "esrgan-medium", "esrgan-thick")
SEED_MODEL = Path("/work/shared/peers/seed-cifake-cnn/my_model.keras")
GOALS = {"test_auc": 0.99, "lofo_mean_auc": 0.90, "jpeg75_drop": 0.03, "test_fpr": 0.05}


def _command() -> str:
    return shlex.join(["python", "-m", "training.experiments", *sys.argv[1:]])


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=str) + "\n")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


# --- 1. robustness: transformed copies of the test split ----------------------------------------
def transform(img: Image.Image, variant: str) -> tuple[Image.Image, str, dict[str, Any]]:
    """The transformed image, the format to save it in and the save options."""
    img = img.convert("RGB")
    w, h = img.size
    if variant.startswith("jpeg"):
        return img, "JPEG", {"quality": int(variant[4:])}
    if variant == "downscale50":
        # Pillow's LANCZOS widens its kernel by the scale factor when reducing: antialiased
        small = img.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS)
        return small, "PNG", {}
    if variant == "centrecrop":
        cw, ch = max(1, w // 2), max(1, h // 2)
        left, top = (w - cw) // 2, (h - ch) // 2
        return img.crop((left, top, left + cw, top + ch)), "PNG", {}
    if variant == "original":
        return img, "PNG", {}
    raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


def write_variant(samples: Sequence[Sample], root: Path, variant: str) -> list[Sample]:
    """``root/{REAL,FAKE}/`` copies of ``samples`` under ``variant`` plus ``root/manifest.csv``
    (generators and source ids kept, split ``test``); returns the new samples.

    ``original`` copies the files byte for byte.
    """
    out: list[Sample] = []
    used: set[Path] = set()
    for s in samples:
        folder = root / ("FAKE" if s.label else "REAL")
        folder.mkdir(parents=True, exist_ok=True)
        src = Path(s.path)
        suffix = ".jpg" if variant.startswith("jpeg") else src.suffix.lower() or ".png"
        dst = folder / (src.stem + suffix)
        k = 1
        while dst in used:
            dst = folder / f"{src.stem}_{k}{suffix}"
            k += 1
        used.add(dst)
        if variant == "original":
            shutil.copyfile(src, dst)
        else:
            with Image.open(src) as im:
                img, fmt, opts = transform(im, variant)
                img.save(dst, fmt, **opts)
        out.append(Sample(dst.resolve(), s.label, s.generator, s.source_id, "test"))
    write_manifest(root / "manifest.csv", out)
    return out


def ensure_variants(data: Path, out: Path, variants: Sequence[str], force: bool) -> dict:
    """Transformed test sets in ``out/variants/<variant>/`` (reused when complete)."""
    test = evaluation_samples(data)
    sets: dict[str, list[Sample]] = {}
    for v in variants:
        root = out / "variants" / v
        manifest = root / "manifest.csv"
        if not force and manifest.is_file():
            existing = list_samples(manifest)
            if len(existing) == len(test) and all(Path(s.path).is_file() for s in existing):
                sets[v] = existing
                continue
        if root.exists():
            shutil.rmtree(root)
        sets[v] = write_variant(test, root, v)
        print(f"[variants] {v}: {len(sets[v])} images in {root}", flush=True)
    return sets


# --- evaluation through the serving path --------------------------------------------------------
def _detector(models_dir: Path):
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
    """Models whose training finished (test metrics written); a run still in progress
    already has a provisional metadata.json and is skipped."""
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
        if "test" in meta.metrics or no_data_ensemble:
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
    old = _read_json(report_dir / "metrics.json")
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


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    return summarise(m)


# --- 1. robustness ------------------------------------------------------------------------------
def cmd_robustness(a: argparse.Namespace) -> dict[str, Any]:
    variants = a.variants.split(",") if a.variants else list(VARIANTS)
    sets = ensure_variants(a.data, a.out, variants, a.force)
    detector = _detector(a.models_dir)
    models = finished_models(a.models_dir, a.models.split(",") if a.models else None)
    results: dict[str, Any] = {}
    for name in models:
        per: dict[str, Any] = {}
        for v in variants:
            m = run_evaluate(
                detector,
                name,
                sets[v],
                a.out / name / v,
                a.force,
                {"variant": v, "command": _command()},
            )
            per[v] = _summary(m)
        base = (per.get("original") or {}).get("roc_auc")
        for row in per.values():
            auc = row["roc_auc"]
            row["auc_drop"] = None if base is None or auc is None else base - auc
        results[name] = {"fingerprint": fingerprint(detector, name), "variants": per}
    out = {
        "experiment": "robustness",
        "data": str(a.data),
        "variants": variants,
        "variant_rules": {
            "original": "test PNG copied byte for byte",
            "jpeg90/75/50": "Pillow JPEG at that quality (default 4:2:0 chroma subsampling)",
            "downscale50": "half width and height, Pillow LANCZOS (antialiased), PNG",
            "centrecrop": "centre crop of half width and height (128x128 of 256), PNG",
        },
        "command": _command(),
        "models": results,
    }
    _merge_results(a.out / "results.json", out)
    print(robustness_table(_read_json(a.out / "results.json")))
    return out


def _merge_results(path: Path, new: dict[str, Any]) -> None:
    """Keep earlier models' rows when a rerun evaluates only some models."""
    old = _read_json(path) or {}
    models = {**old.get("models", {}), **new.get("models", {})}
    _write_json(path, {**new, "models": models})


def _band(band: Sequence[float] | None) -> str:
    return f"[{band[0]:.4f}, {band[1]:.4f}]" if band else "none"


def _f(v: Any, nd: int = 4) -> str:
    return "n/a" if v is None else f"{v:.{nd}f}"


def robustness_table(res: dict[str, Any], models: Sequence[str] | None = None) -> str:
    lines = [
        "| model | variant | ROC-AUC | accuracy | AP | FPR (reals) | recall | AUC drop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in res["models"].items():
        if models and name not in models:
            continue
        for v, row in r["variants"].items():
            lines.append(
                f"| {name} | {v} | {_f(row['roc_auc'])} | {_f(row['accuracy'])} | "
                f"{_f(row['average_precision'])} | {_f(row['false_positive_rate'])} | "
                f"{_f(row['recall'])} | {_f(row.get('auc_drop'))} |"
            )
    return "\n".join(lines)


# --- 2. leave one generator family out ----------------------------------------------------------
def lofo_split(samples: Sequence[Sample], family: str) -> tuple[list[Sample], list[Sample]]:
    """(training manifest rows, in-distribution test rows) for held-out ``family``.

    Training manifest: every real image and the fakes of the other families in train
    and val (splits as given), plus a test split of the test reals and the test fakes
    of ``family`` only. In-distribution: the test reals and the test fakes of the
    other families.
    """
    rows, seen = [], []
    for s in samples:
        fam = family_of(s.generator)
        if s.split in ("train", "val"):
            if s.label == 0 or fam != family:
                rows.append(s)
        elif s.split == "test":
            if s.label == 0 or fam == family:
                rows.append(s)
            if s.label == 0 or fam != family:
                seen.append(s)
    return rows, seen


def lofo_train_command(arch: str, manifest: Path, output: Path, a: argparse.Namespace) -> list:
    aidetect = Path(sys.executable).parent / "aidetect"
    cmd = [
        str(aidetect) if aidetect.exists() else "aidetect",
        "train",
        "--data",
        str(manifest),
        "--arch",
        arch,
        "--output",
        str(output),
        "--policy",
        "crops",
        "--image-size",
        str(a.image_size),
        "--max-crops",
        "16",
        "--seed",
        "0",
        "--quiet",
    ]
    if arch == "cnn":
        cmd += ["--cnn-variant", "improved", "--epochs", str(a.epochs), "--batch-size", "32"]
    if a.workers:
        cmd += ["--workers", str(a.workers)]
    return cmd


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
        cmd = lofo_train_command(a.arch, manifest, output, a)
        shown = shlex.join(["aidetect", *cmd[1:]])
        meta = _read_json(output / "metadata.json") or {}
        done = "test" in meta.get("metrics", {})
        if a.force or not done or (_read_json(fdir / "train.json") or {}).get("command") != shown:
            print(f"[lofo] training {name}: {shown}", flush=True)
            t0 = time.time()
            resume = a.resume and (output / "checkpoints").is_dir()
            subprocess.run(cmd + (["--resume"] if resume else []), check=True)
            _write_json(fdir / "train.json", {"command": shown, "seconds": time.time() - t0})
        train_info = _read_json(fdir / "train.json") or {}
        detector = _detector(models_dir)
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
            "heldout": _summary(m_held),
            "seen": _summary(m_seen),
        }
    aucs = [r["heldout"]["roc_auc"] for r in results.values() if r["heldout"]["roc_auc"]]
    seen_aucs = [r["seen"]["roc_auc"] for r in results.values() if r["seen"]["roc_auc"]]
    out = {
        "experiment": "lofo",
        "arch": a.arch,
        "data": str(a.data),
        "command": _command(),
        "families": results,
        "mean_heldout_auc": sum(aucs) / len(aucs) if aucs else None,
        "mean_seen_auc": sum(seen_aucs) / len(seen_aucs) if seen_aucs else None,
    }
    _write_json(a.out / "results.json", out)
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
            f"{ht.get('real', 0)} / {ht.get('ai_generated', 0)} | {_f(h['roc_auc'])} | "
            f"{_f(h['average_precision'])} | {_f(h['recall'])} | "
            f"{_f(h['false_positive_rate'])} | {_f(s['roc_auc'])} |"
        )
    lines.append(
        f"| {res['arch']} | **mean ({len(res['families'])} of {len(FAMILIES)} families)** | | | "
        f"**{_f(res['mean_heldout_auc'])}** | | | | "
        f"{_f(res['mean_seen_auc'])} |"
    )
    return "\n".join(lines)


# --- 3. calibration and thresholds --------------------------------------------------------------
def cmd_calibration(a: argparse.Namespace) -> dict[str, Any]:
    test = evaluation_samples(a.data)
    detector = _detector(a.models_dir)
    models = finished_models(a.models_dir, a.models.split(",") if a.models else None)
    results: dict[str, Any] = {}
    for name in models:
        meta = detector.registry.metadata(name)
        m = run_evaluate(
            detector, name, test, a.out / name, a.force, {"split": "test", "command": _command()}
        )
        val = (meta.metrics or {}).get("validation") or {}
        results[name] = {
            "fingerprint": fingerprint(detector, name),
            "architecture": meta.architecture,
            "threshold": meta.threshold,
            "uncertain_band": list(meta.uncertain_band) if meta.uncertain_band else None,
            "threshold_rule": getattr(meta, "threshold_rule", None),
            "target_fpr": (meta.metrics or {}).get("target_fpr"),
            "validation_fpr": val.get("false_positive_rate"),
            "test_fpr": m["false_positive_rate"],
            "test_fpr_ok": m["false_positive_rate"] <= GOALS["test_fpr"],
            "ece": m["expected_calibration_error"],
            "logit_slope": logit_slope(a.out / name / "predictions.csv"),
            "reliability_plot": str(a.out / name / "reliability.png"),
            "test": _summary(m),
            "training_command": meta.command,
        }
    out = {
        "experiment": "calibration",
        "data": str(a.data),
        "command": _command(),
        "models": results,
    }
    _merge_results(a.out / "results.json", out)
    print(calibration_table(_read_json(a.out / "results.json")))
    return out


def logit_slope(predictions_csv: Path) -> float | None:
    """Diagnostic: slope ``a`` of ``P(y=1) = sigmoid(a * logit(p) + b)`` fitted on a report's
    predictions. ``a > 1``: the scores are under-confident (squashed towards 0.5), ``a < 1``:
    over-confident. Fitted on the data it describes, so not a recalibration to ship.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    ys, ps = [], []
    with open(predictions_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["ai_probability"]:
                ys.append(int(row["label"]))
                ps.append(float(row["ai_probability"]))
    if len(set(ys)) < 2:
        return None
    p = np.clip(np.asarray(ps), 1e-6, 1 - 1e-6)
    z = np.log(p / (1 - p)).reshape(-1, 1)
    lr = LogisticRegression(C=1e6).fit(z, np.asarray(ys))
    return float(lr.coef_[0][0])


def calibration_table(res: dict[str, Any], models: Sequence[str] | None = None) -> str:
    lines = [
        "| model | threshold | uncertain band | FPR val (target) | FPR test reals | "
        "uncertain rate (test) | ECE (test) | logit slope | reliability plot |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in res["models"].items():
        if models and name not in models:
            continue
        band_s = _band(r["uncertain_band"])
        ok = "" if r["test_fpr_ok"] else " (over 5 %)"
        lines.append(
            f"| {name} | {r['threshold']:.4f} | {band_s} | {_f(r['validation_fpr'])} "
            f"({_f(r['target_fpr'], 2)}) | {_f(r['test_fpr'])}{ok} | "
            f"{_f(r['test'].get('uncertain_rate'))} | {_f(r['ece'])} | "
            f"{_f(r.get('logit_slope'), 2)} | "
            f"`{r['reliability_plot']}` |"
        )
    return "\n".join(lines)


# --- 4. the seed's CIFAKE model -----------------------------------------------------------------
def cmd_seed(a: argparse.Namespace) -> dict[str, Any]:
    from aidetect.registry import import_legacy

    test = evaluation_samples(a.data)
    name = "seed-cifake-cnn"
    with tempfile.TemporaryDirectory(prefix="seed-models-") as tmp:
        meta = import_legacy(a.seed_model, Path(tmp) / name, name=name)
        detector = _detector(Path(tmp))
        m = run_evaluate(detector, name, test, a.out / name, a.force, {"split": "test"})
    out = {
        "experiment": "seed",
        "data": str(a.data),
        "command": _command(),
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
        "test": _summary(m),
    }
    _write_json(a.out / "results.json", out)
    t = out["test"]
    print(f"seed-cifake-cnn on the test split: AUC {_f(t['roc_auc'])}, acc {_f(t['accuracy'])}")
    return out


# --- 5. the report ------------------------------------------------------------------------------
def _cm(cm: list[list[int]] | None) -> str:
    if not cm:
        return "n/a"
    (tn, fp), (fn, tp) = cm
    return f"TN {tn} / FP {fp} / FN {fn} / TP {tp}"


def test_metrics_table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| model | n | threshold | accuracy | precision | recall | F1 | ROC-AUC | AP | "
        "confusion (real/AI) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, t in rows.items():
        lines.append(
            f"| {name} | {t['n']} | {_f(t['threshold'])} | {_f(t['accuracy'])} | "
            f"{_f(t['precision'])} | {_f(t['recall'])} | {_f(t['f1'])} | {_f(t['roc_auc'])} | "
            f"{_f(t['average_precision'])} | {_cm(t['confusion_matrix'])} |"
        )
    return "\n".join(lines)


def per_family_table(rows: dict[str, dict[str, Any]]) -> str:
    """Detection rate and AUC vs real per generator, from ``compute_metrics``' per_generator."""
    gens = sorted({g for t in rows.values() for g in (t.get("per_generator") or {})})
    if not gens:
        return ""
    names = list(rows)
    lines = [
        "| generator | n | " + " | ".join(f"{n} (det. rate / AUC)" for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for g in gens:
        cells, n = [], ""
        for name in names:
            e = (rows[name].get("per_generator") or {}).get(g)
            if e:
                n = e["n"]
                cells.append(f"{e['detection_rate']:.2f} / {_f(e.get('roc_auc_vs_real'), 3)}")
            else:
                cells.append("n/a")
        lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def data_section(data: Path) -> list[str]:
    samples = list_samples(data)
    splits = ("train", "val", "test")
    gens = sorted({s.generator or "real" for s in samples})
    lines = [
        f"Corpus: `{data}` (`manifest.csv`: `path,label,generator,source_id,split`).",
        "",
        "| split | real | AI | photos (source ids) |",
        "|---|---|---|---|",
    ]
    for sp in splits:
        ss = [s for s in samples if s.split == sp]
        lines.append(
            f"| {sp} | {sum(s.label == 0 for s in ss)} | {sum(s.label == 1 for s in ss)} | "
            f"{len({s.source_id for s in ss})} |"
        )
    lines += ["", "| generator | " + " | ".join(splits) + " | total |", "|---|---|---|---|---|"]
    for g in gens:
        c = [sum((s.generator or "real") == g and s.split == sp for s in samples) for sp in splits]
        lines.append(f"| {g} | " + " | ".join(map(str, c)) + f" | {sum(c)} |")
    # leaks: a source id (photo) in more than one split
    by_src: dict[str, set[str]] = {}
    for s in samples:
        by_src.setdefault(s.source_id, set()).add(s.split)
    leaks = sorted(k for k, v in by_src.items() if len(v) > 1)
    lines += [
        "",
        f"Split check: {len(by_src)} source ids; "
        + (
            f"**{len(leaks)} appear in more than one split**: {', '.join(leaks[:10])}"
            if leaks
            else "none appears in more than one split (a real photo and its fakes share a split)."
        ),
    ]
    sc = _read_json(data / "shortcut_check.json")
    if sc:
        lines += [
            "",
            "Shortcut check (`aidetect corpus check-shortcuts`, grouped 5-fold CV; AUC of a "
            "classifier that sees only the named metadata feature; pass = within "
            f"{sc.get('tolerance')} of 0.5):",
            "",
            "| feature set | AUC | pass | note |",
            "|---|---|---|---|",
        ]
        for k, v in sc.get("feature_sets", {}).items():
            auc, note = _f(v.get("auc"), 3), v.get("note", "")
            lines.append(f"| {k} | {auc} | {v.get('pass')} | {note} |")
        verdict = "pass" if sc.get("pass") else "FAIL"
        lines.append(f"\nOverall: {verdict} ({sc.get('files')} files).")
    return lines


def source_format_check(data: Path, cal: dict[str, Any]) -> list[str]:
    """Scores of test images by the file format of their source photo (``sources.csv``).

    Most reals are crops of JPEG/WebP photos and carry lossy-compression traces that
    the fakes (re-synthesised pixels) lose: if a model had learnt "compression traces =
    real", reals from lossless sources (PNG/PPM) would be called AI-generated more often.
    Read from each model's ``predictions.csv``; no new scoring.
    """
    src_csv = data / "sources.csv"
    if not src_csv.is_file() or not cal:
        return []
    with open(src_csv, newline="") as f:
        fmt = {r["source_id"]: r["file"].rsplit(".", 1)[-1].lower() for r in csv.DictReader(f)}
    by_path = {Path(s.path).resolve(): s for s in list_samples(data)}
    lines = [
        "| model | class | source format | n | mean P(AI) | called AI at threshold |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in cal.items():
        pred = Path(r["reliability_plot"]).parent / "predictions.csv"
        if not pred.is_file():
            continue
        groups: dict[tuple[int, str], list[float]] = {}
        with open(pred, newline="") as f:
            for row in csv.DictReader(f):
                s = by_path.get(Path(row["path"]).resolve())
                if s is None or not row["ai_probability"]:
                    continue
                kind = "lossless" if fmt.get(s.source_id) in ("png", "ppm") else "lossy"
                groups.setdefault((s.label, kind), []).append(float(row["ai_probability"]))
        for (label, kind), ps in sorted(groups.items()):
            called = sum(p >= r["threshold"] for p in ps) / len(ps)
            what = "lossless (PNG/PPM)" if kind == "lossless" else "lossy (JPEG/WebP/MPO)"
            lines.append(
                f"| {name} | {'AI' if label else 'real'} | {what} | {len(ps)} | "
                f"{sum(ps) / len(ps):.3f} | {called:.3f} |"
            )
    return lines


def _corpus_size(data: Path) -> str:
    samples = list_samples(data)
    per = {
        sp: (
            sum(s.split == sp and s.label == 0 for s in samples),
            sum(s.split == sp and s.label == 1 for s in samples),
        )
        for sp in ("train", "val", "test")
    }
    photos = len({s.source_id for s in samples})
    return (
        f"{per['train'][0]} real and {per['train'][1]} AI training images, "
        f"{per['val'][0]} / {per['val'][1]} in validation, {per['test'][0]} / {per['test'][1]} "
        f"in test, cut from {photos} photos (256x256 crops)."
    )


def observations(res: dict[str, Any]) -> list[str]:
    """Plain statements read off the numbers (so they stay true when the report is rerun)."""
    out = []
    rob = (res.get("robustness") or {}).get("models", {})
    for name, r in rob.items():
        v = r["variants"]
        o = v.get("original")
        if not o:
            continue
        for key in ("jpeg90", "jpeg75", "jpeg50", "downscale50", "centrecrop"):
            t = v.get(key)
            if not t or t["recall"] is None or o["recall"] is None:
                continue
            if key == "centrecrop" and t["auc_drop"] is not None and abs(t["auc_drop"]) < 0.02:
                out.append(
                    f"- `{name}` / `centrecrop`: ROC-AUC {t['roc_auc']:.3f} vs {o['roc_auc']:.3f} "
                    "on the full crop: no sign of a cue at the image borders (the fakes are "
                    "centre-cropped after up-sampling, x3 goes 258 -> 256)."
                )
                continue
            d_rec = o["recall"] - t["recall"]
            d_fpr = t["false_positive_rate"] - o["false_positive_rate"]
            if d_rec >= 0.15 and d_fpr <= 0.05:
                out.append(
                    f"- `{name}` / `{key}`: recall falls from {o['recall']:.2f} to "
                    f"{t['recall']:.2f}, FPR on reals {o['false_positive_rate']:.2f} -> "
                    f"{t['false_positive_rate']:.2f}: mostly fakes now look real (the traces "
                    "the model relies on are removed), rather than reals looking fake."
                )
            elif d_fpr > 0.05:
                out.append(
                    f"- `{name}` / `{key}`: FPR on reals rises from "
                    f"{o['false_positive_rate']:.2f} to {t['false_positive_rate']:.2f} "
                    f"(recall {o['recall']:.2f} -> {t['recall']:.2f})."
                )
    for arch, lr in res["lofo"].items():
        h, s = lr.get("mean_heldout_auc"), lr.get("mean_seen_auc")
        if s is not None and s < 0.75:
            out.append(
                f"- LOFO `{arch}`: **inconclusive** - the retrained models reach only ROC-AUC "
                f"{s:.3f} on the families they *did* see, so they did not learn (too few "
                "epochs for this CPU budget?); the held-out number "
                f"({_f(h, 3)}) measures nothing about generalisation. Rerun with more "
                "epochs (the shipped recipe's count) before reading it."
            )
            continue
        if h is not None and s is not None:
            out.append(
                f"- LOFO `{arch}`: held-out mean ROC-AUC {h:.3f} vs in-distribution {s:.3f} "
                f"(gap {s - h:+.3f}). The families are sizes of one kind of network (RDN/RRDN "
                "super-resolution), so a small gap is expected and says little about unseen "
                "*kinds* of generator. Held-out AP is lower than AUC partly because the "
                "held-out test has about 3 reals per fake (AP depends on prevalence)."
            )
    for name, r in (res.get("calibration") or {}).get("models", {}).items():
        a = r.get("logit_slope")
        if r["ece"] is not None and r["ece"] > 0.05 and a is not None:
            kind = "under-confident (squashed towards 0.5)" if a > 1 else "over-confident"
            out.append(
                f"- `{name}`: ECE {r['ece']:.3f}; scores are {kind}, logit slope {a:.2f}. "
                "See the reliability plot."
            )
        if not r["test_fpr_ok"]:
            n_real = r["test"]["confusion_matrix"][0]
            out.append(
                f"- `{name}`: FPR on test reals {r['test_fpr']:.3f} ({n_real[1]} of "
                f"{sum(n_real)}) is over the 5 % target met on validation "
                f"({_f(r['validation_fpr'], 3)}); within sampling noise for {sum(n_real)} "
                "reals (standard error about 0.02), but the target is not guaranteed."
            )
    seed = res.get("seed")
    if seed and seed["test"]["roc_auc"] is not None:
        out.append(
            f"- The seed's CIFAKE model scores ROC-AUC {seed['test']['roc_auc']:.3f} on this test "
            "split (chance level): it was trained on 32x32 whole CIFAR/Stable-Diffusion images "
            "and does not transfer to 256x256 super-resolution crops."
        )
    return out


def _load_all(out: Path) -> dict[str, Any]:
    res = {
        "robustness": _read_json(out / "robustness" / "results.json"),
        "calibration": _read_json(out / "calibration" / "results.json"),
        "seed": _read_json(out / "seed" / "results.json"),
        "lofo": {},
    }
    for arch in ("svm", "cnn", "resnet50"):
        r = _read_json(out / f"lofo-{arch}" / "results.json")
        if r:
            res["lofo"][arch] = r
    return res


def _arch_of(res: dict[str, Any], model: str) -> str | None:
    cal = (res.get("calibration") or {}).get("models", {}).get(model)
    return cal["architecture"] if cal else None


def goals_section(res: dict[str, Any]) -> list[str]:
    cal = (res.get("calibration") or {}).get("models", {})
    rob = (res.get("robustness") or {}).get("models", {})
    lines = [
        "| goal | model | measured | reached? |",
        "|---|---|---|---|",
    ]
    for name, r in cal.items():
        auc = r["test"]["roc_auc"]
        ok = auc is not None and auc >= GOALS["test_auc"]
        lines.append(
            f"| test ROC-AUC >= {GOALS['test_auc']} | {name} | {_f(auc)} | "
            f"{'reached' if ok else 'missed'} |"
        )
    for arch, lr in res["lofo"].items():
        mean = lr.get("mean_heldout_auc")
        ok = mean is not None and mean >= GOALS["lofo_mean_auc"]
        n = len(lr["families"])
        part = "" if n == len(FAMILIES) else f" (partial: {n} of {len(FAMILIES)} families)"
        seen = lr.get("mean_seen_auc")
        verdict = "reached" if ok else "missed"
        if seen is not None and seen < 0.75:
            verdict = "inconclusive (the LOFO models did not learn, see Observations)"
        lines.append(
            f"| LOFO mean ROC-AUC >= {GOALS['lofo_mean_auc']} | {arch} (LOFO retrains) | "
            f"{_f(mean)} | {verdict}{part} |"
        )
    for name, r in rob.items():
        drop = r["variants"].get("jpeg75", {}).get("auc_drop")
        ok = drop is not None and drop <= GOALS["jpeg75_drop"]
        lines.append(
            f"| AUC drop after JPEG 75 <= {GOALS['jpeg75_drop']} | {name} | {_f(drop)} | "
            f"{'reached' if ok else 'missed'} |"
        )
    for name, r in cal.items():
        lines.append(
            f"| FPR on test reals <= {GOALS['test_fpr']} at the shipped threshold | {name} | "
            f"{_f(r['test_fpr'])} | {'reached' if r['test_fpr_ok'] else 'missed'} |"
        )
    return lines


def model_card_snippet(res: dict[str, Any], name: str) -> str:
    """Markdown for ``models/<name>/README.md``: test metrics, LOFO, robustness, calibration."""
    cal = (res.get("calibration") or {}).get("models", {}).get(name)
    rob = (res.get("robustness") or {}).get("models", {}).get(name)
    lines = ["## Evaluation (from `docs/evaluation.md`)", ""]
    if cal:
        t = cal["test"]
        lines += [
            f"Test split of corpus-v1 ({t['n']} images), scored through the serving path at the "
            f"shipped threshold {cal['threshold']:.4f}:",
            "",
            test_metrics_table({name: t}),
            "",
            "| threshold | uncertain band | FPR on test reals | uncertain rate | ECE |",
            "|---|---|---|---|---|",
            f"| {cal['threshold']:.4f} | {_band(cal['uncertain_band'])} | {_f(cal['test_fpr'])} | "
            f"{_f(t.get('uncertain_rate'))} | {_f(cal['ece'])} |",
            "",
        ]
    arch = _arch_of(res, name)
    lofo = res["lofo"].get(arch) if arch else None
    if lofo:
        lines += [
            f"Leave one generator family out (same recipe as this model, `{arch}`, retrained "
            "without the family; held-out test = test reals + that family's test fakes):",
            "",
            lofo_table(lofo),
            "",
        ]
    if rob:
        lines += [
            "Robustness (test split transformed, both classes alike):",
            "",
            robustness_table(res["robustness"], [name]),
            "",
        ]
    lines += [
        "Only super-resolution (ESRGAN/RDN) fakes, content-matched to small real crops: the "
        "numbers say nothing about text-to-image generators. See `docs/evaluation.md`.",
        "",
    ]
    return "\n".join(lines)


def cmd_report(a: argparse.Namespace) -> dict[str, Any]:
    res = _load_all(a.out)
    cal = (res.get("calibration") or {}).get("models", {})
    rob = res.get("robustness")
    seed = res.get("seed")
    L: list[str] = [
        "# Evaluation of the shipped models",
        "",
        "Generated by `python -m training.experiments report` from the JSON results in "
        f"`{a.out}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Every number "
        "is measured through the serving path (`Registry` + `Detector`, "
        "`aidetect.evaluation.evaluate`), at each model's shipped threshold.",
        "",
        "## Read this first",
        "",
        "- **One kind of generator.** Every fake in corpus-v1 is a super-resolution output "
        "(ESRGAN/RDN/RRDN from UpscalerJS, three network sizes x four scales) of a real crop "
        "of the same photo: content-matched, differing only in fine texture. The three "
        "'families' of the leave-one-family-out test are network sizes of the same kind of "
        "model, so LOFO here measures generalisation to a *related* generator, not to a "
        "text-to-image model (Stable Diffusion, DALL-E, Midjourney), which none of these "
        "numbers cover.",
        f"- **Small corpus.** {_corpus_size(a.data)} With 111 test reals one false positive "
        "moves the FPR by 0.9 points; the per-generator test rows have 3-14 images, and a "
        "ROC-AUC on 222 images has a standard error of roughly 0.01.",
        "- **No GPU was available**: every model was trained on a shared 2-core CPU. Only "
        "the SVM is shipped: the improved CNN (10 epochs, 96 px crops) stayed at validation "
        "ROC-AUC 0.46-0.56, and ResNet50 (no ImageNet weights here, so from random "
        "initialisation) was not attempted at CPU speed.",
        "",
        "## Data",
        "",
        *data_section(a.data),
        "",
    ]
    if cal:
        L += [
            "## Test metrics per model",
            "",
            f"Test split ({next(iter(cal.values()))['test']['n']} images), shipped thresholds.",
            "",
            test_metrics_table({n: r["test"] for n, r in cal.items()}),
            "",
        ]
        if seed:
            L += [
                "The seed project's CIFAKE model on the same test split, side by side "
                "(imported, whole image resized to "
                f"{seed['model']['input']['size']}px, threshold {seed['model']['threshold']}):",
                "",
                test_metrics_table(
                    {**{n: r["test"] for n, r in cal.items()}, "seed-cifake-cnn": seed["test"]}
                ),
                "",
            ]
        L += [
            "Per generator (test; detection rate at the threshold / ROC-AUC of that "
            "generator's fakes against all test reals):",
            "",
            per_family_table({n: r["test"] for n, r in cal.items()}),
            "",
            "Reports (metrics.json, predictions.csv, ROC, PR, confusion, reliability plots): "
            f"`{a.out}/calibration/<model>/`.",
            "",
        ]
    elif seed:
        L += ["## Seed model", "", test_metrics_table({"seed-cifake-cnn": seed["test"]}), ""]
    if res["lofo"]:
        L += [
            "## Leave one generator family out (LOFO)",
            "",
            "For each family F of {esrgan-slim, esrgan-medium, esrgan-thick} a model is "
            "retrained (same recipe as the shipped model of that architecture) on all reals "
            "plus the fakes of the other two families (train and val splits of the corpus), "
            "its threshold chosen on that validation split, and tested on the test reals plus "
            "the test fakes of F only. 'In-distribution' is the same model on the test reals "
            "plus the test fakes of the two families it saw.",
            "",
        ]
        for arch, lr in res["lofo"].items():
            L += [f"### {arch}", "", lofo_table(lr), "", "Training commands:", "", "```"]
            L += [r["train_command"] for r in lr["families"].values()]
            L += ["```", ""]
            shipped = [
                f"`{n}`: `{r['training_command']}`"
                for n, r in cal.items()
                if r["architecture"] == arch and r.get("training_command")
            ]
            if shipped:
                L += [
                    "Shipped model(s) of this architecture, for comparison of the recipe "
                    "(LOFO runs may use fewer epochs to fit the CPU budget):",
                    "",
                    *[f"- {x}" for x in shipped],
                    "",
                ]
    if rob:
        L += [
            "## Robustness",
            "",
            "The test split, transformed identically for both classes, written to "
            f"`{a.out}/robustness/variants/<variant>/` and scored by each model:",
            "",
            *[f"- `{k}`: {v}" for k, v in rob["variant_rules"].items()],
            "",
            robustness_table(rob),
            "",
            "AUC drop = ROC-AUC on `original` minus ROC-AUC on the variant. Accuracy and FPR "
            "are at the shipped threshold, chosen on untransformed validation images.",
            "",
        ]
    if cal:
        L += [
            "## Calibration and thresholds",
            "",
            "Threshold and uncertain band from each model's metadata.json (chosen on "
            "validation for a false-positive rate of at most 5 %, band = thresholds for 10 % "
            "and 1 %); FPR measured on the 111 test reals at that threshold; ECE = expected "
            "calibration error (10 bins) on the test split. Logit slope (diagnostic, fitted "
            "on the test predictions themselves): a in P(AI) = sigmoid(a logit(p) + b); "
            "a > 1 means under-confident scores (squashed towards 0.5), a < 1 over-confident. "
            "A temperature fitted on the validation split (image-level, after crop "
            "aggregation) would be the fix; the ranking (AUC) would not change.",
            "",
            calibration_table(res["calibration"]),
            "",
        ]
        fmt_lines = source_format_check(a.data, cal)
        if fmt_lines:
            L += [
                "### Shortcut probe: source photo format",
                "",
                "About 90 % of the real crops come from JPEG/WebP photos, so reals carry "
                "lossy-compression traces that the re-synthesised fakes lose. If a model "
                "had learnt 'compression traces = real', reals cut from lossless (PNG/PPM) "
                "photos would score high. Test images by the format of their source photo "
                "(from each model's test predictions; few lossless sources, so indicative "
                "only):",
                "",
                *fmt_lines,
                "",
            ]
    obs = observations(res)
    if obs:
        L += ["## Observations", "", *obs, ""]
    L += ["## Goals", "", *goals_section(res), "", *GAP_NOTES, ""]
    L += ["## Commands that produced these numbers", "", "```"]
    L += [f"# models: {r['training_command']}" for r in cal.values() if r.get("training_command")]
    for key in ("robustness", "calibration", "seed"):
        if res.get(key):
            L.append(res[key]["command"])
    if seed:
        L.append(f"# seed import (same function): {seed['import_command']}")
    for lr in res["lofo"].values():
        L.append(lr["command"])
    L += [_command(), "```", ""]
    doc = "\n".join(L)
    Path(a.doc).parent.mkdir(parents=True, exist_ok=True)
    Path(a.doc).write_text(doc)
    print(f"wrote {a.doc}")
    for name in cal:
        snippet = model_card_snippet(res, name)
        (a.out / f"card-{name}.md").write_text(snippet)
        print(f"wrote {a.out / f'card-{name}.md'}")
        if a.print_cards:
            print(snippet)
    return {"doc": str(a.doc)}


GAP_NOTES = [
    "What would close the gaps:",
    "",
    "- **Test ROC-AUC**: more data (the corpus has 694 training images per class; the "
    "build is CPU-bound, about 40 minutes for 1,342 pairs, so a corpus 10x larger is a "
    "matter of machine time); ImageNet-pretrained features (`--weights imagenet`) instead "
    "of a ResNet50 trained from scratch on 1,388 images; longer CNN training on a GPU.",
    "- **LOFO** (generalisation to an unseen generator): more and more different "
    "generator families in training - the GPU-trained GANs/diffusion models and the "
    "self-trained autoencoder (`ae8`) of `training/generators/README.md` - and "
    "text-to-image fakes; features less tied to one up-sampler's fingerprint.",
    "- **JPEG robustness**: the shipped models already train with JPEG re-compression "
    "(quality 60-95, half the images); a stronger schedule (quality down to 30-50, every "
    "image), JPEG-compressed test/validation data, and choosing the threshold on "
    "re-compressed validation images. Super-resolution traces are high-frequency texture, "
    "which is exactly what JPEG quantisation removes, so some loss is inherent.",
    "- **Resizing** (`downscale50`): the up-sampling traces live at the pixel scale, and a "
    "2x downscale moves or erases them. Training with random downscaling of both classes "
    "(the `zoom` augmentation covers only +-10 %) and multi-scale crops would help; so "
    "would fakes made at more scales.",
    "- **Thresholds**: the 5 % target is met on validation by construction; on 111 test "
    "reals the measured FPR has a standard error of about 2 points, so a larger validation "
    "split (or calibration on a held-out real-only set) is needed for a tight guarantee.",
]


# --- CLI ----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.experiments", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, models: bool = True):
        sp.add_argument("--data", type=Path, default=Path("/work/data/corpus-v1"))
        sp.add_argument("--out", type=Path, required=True)
        sp.add_argument("--force", action="store_true", help="redo reports (and LOFO models)")
        if models:
            sp.add_argument("--models-dir", type=Path, default=Path("models"))
            sp.add_argument("--models", help="comma list (default: every finished model)")

    r = sub.add_parser("robustness", help="evaluate on JPEG/downscaled/cropped test copies")
    common(r)
    r.add_argument("--variants", help=f"comma list (default: {','.join(VARIANTS)})")
    r.set_defaults(func=cmd_robustness)

    lo = sub.add_parser("lofo", help="leave one generator family out: retrain and test")
    common(lo, models=False)
    lo.add_argument("--arch", choices=("svm", "cnn"), required=True)
    lo.add_argument("--epochs", type=int, default=6)
    lo.add_argument("--image-size", type=int, default=128)
    lo.add_argument("--workers", type=int, default=0, help="aidetect train --workers")
    lo.add_argument("--families", help=f"comma list (default: {','.join(FAMILIES)})")
    lo.add_argument(
        "--resume", action="store_true", help="continue interrupted trainings (aidetect --resume)"
    )
    lo.set_defaults(func=cmd_lofo)

    c = sub.add_parser("calibration", help="ECE, reliability, threshold and test FPR per model")
    common(c)
    c.set_defaults(func=cmd_calibration)

    s = sub.add_parser("seed", help="the seed's CIFAKE model on the same test split")
    common(s, models=False)
    s.add_argument("--seed-model", type=Path, default=SEED_MODEL)
    s.set_defaults(func=cmd_seed)

    rp = sub.add_parser("report", help="write docs/evaluation.md and model-card snippets")
    rp.add_argument("--out", type=Path, required=True, help="folder holding the results")
    rp.add_argument("--data", type=Path, default=Path("/work/data/corpus-v1"))
    rp.add_argument("--doc", type=Path, default=Path("docs/evaluation.md"))
    rp.add_argument("--print-cards", action="store_true", help="also print the card snippets")
    rp.set_defaults(func=cmd_report)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
