"""aidetect_training/experiments/: the robustness variants and the LOFO manifests (no training)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect.compression import webp_is_lossy
from aidetect.datasets import family_of, list_samples, write_manifest
from aidetect_training.experiments.lofo import lofo_split
from aidetect_training.experiments.shared import FAMILIES
from aidetect_training.variants import VARIANTS, transform, write_variant


def _tiny_corpus(root: Path, size: int = 64) -> Path:
    """A corpus-v1 lookalike: per split and family, real/fake pairs sharing a source id."""
    rng = np.random.default_rng(0)
    rows = []
    i = 0
    for split in ("train", "val", "test"):
        for fam in FAMILIES:
            for scale in ("x2", "x4"):
                src = f"photo{i}"
                for label, gen in ((0, "real"), (1, f"{fam}-{scale}")):
                    folder = "FAKE" if label else "REAL"
                    rel = f"{split}/{folder}/{src}_{gen}.png"
                    (root / split / folder).mkdir(parents=True, exist_ok=True)
                    pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                    Image.fromarray(pixels).save(root / rel)
                    rows.append([rel, label, gen, src, split])
                i += 1
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "generator", "source_id", "split"])
        w.writerows(rows)
    return root


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    return _tiny_corpus(tmp_path / "corpus")


def test_family_of() -> None:
    assert family_of("esrgan-thick-x4") == "esrgan-thick"
    assert family_of("esrgan-slim-x8") == "esrgan-slim"
    assert family_of("real") == "real"
    assert family_of("ae8-selftrained") == "ae8"
    assert family_of("") == "unknown"


@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_sizes_formats_both_classes(corpus: Path, tmp_path: Path, variant: str) -> None:
    test = [s for s in list_samples(corpus) if s.split == "test"]
    out = write_variant(test, tmp_path / "v" / variant, variant)
    assert len(out) == len(test)
    assert {s.label for s in out} == {0, 1}
    assert sum(s.label == 0 for s in out) == sum(s.label == 1 for s in out)
    # both class folders, and a manifest that lists the same images with their generators
    root = tmp_path / "v" / variant
    assert len(list((root / "REAL").iterdir())) == len(list((root / "FAKE").iterdir())) > 0
    again = list_samples(root / "manifest.csv")
    assert [(s.label, s.generator, s.split) for s in again] == [
        (s.label, s.generator, "test") for s in test
    ]
    expect = {"downscale50": (32, 32), "centrecrop": (32, 32), "screenshot": (48, 48)}.get(
        variant, (64, 64)
    )
    for s in out:
        with Image.open(s.path) as im:
            assert im.size == expect
            fmt = {"jpeg": "JPEG", "webp": "WEBP"}.get(variant[:4], "PNG")
            assert im.format == fmt
            if fmt == "JPEG":
                assert s.path.suffix == ".jpg"
                assert s.path.read_bytes()[:2] == b"\xff\xd8"  # really a JPEG stream
            if fmt == "WEBP":  # lossy, as the robustness row says
                assert s.path.suffix == ".webp" and webp_is_lossy(s.path.read_bytes())
    if variant == "original":  # byte-for-byte copies
        for a, b in zip(test, out, strict=True):
            assert Path(a.path).read_bytes() == Path(b.path).read_bytes()


def test_jpeg_quality_changes_the_pixels() -> None:
    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    _, fmt, opts = transform(img, "jpeg50")
    assert (fmt, opts) == ("JPEG", {"quality": 50})
    _, fmt, opts = transform(img, "webp80")
    assert (fmt, opts) == ("WEBP", {"quality": 80, "lossless": False})
    centre, _, _ = transform(img, "centrecrop")
    assert np.array_equal(np.asarray(centre), np.asarray(img)[16:48, 16:48])
    with pytest.raises(ValueError):
        transform(img, "sepia")


@pytest.mark.parametrize("family", FAMILIES)
def test_lofo_manifest_holds_out_one_family(corpus: Path, tmp_path: Path, family: str) -> None:
    samples = list_samples(corpus)
    rows, seen = lofo_split(samples, family)
    manifest = write_manifest(tmp_path / "lofo" / "manifest.csv", rows)
    back = list_samples(manifest)
    assert len(back) == len(rows)
    trval = [s for s in back if s.split in ("train", "val")]
    test = [s for s in back if s.split == "test"]
    # the held-out family: absent from train and val, the only fakes in test
    assert not any(family_of(s.generator) == family for s in trval)
    assert {family_of(s.generator) for s in test if s.label} == {family}
    # every real of every split is kept
    for split in ("train", "val", "test"):
        n_real = sum(s.label == 0 and s.split == split for s in samples)
        assert sum(s.label == 0 and s.split == split for s in back) == n_real > 0
    # the other families' fakes are in train and val
    others = set(FAMILIES) - {family}
    assert {family_of(s.generator) for s in trval if s.label} == others
    # in-distribution test: test reals + the other families' test fakes
    assert {family_of(s.generator) for s in seen if s.label} == others
    assert all(s.split == "test" for s in seen)
    assert sum(s.label == 0 for s in seen) == sum(s.label == 0 for s in test)
    assert all(Path(s.path).is_absolute() and Path(s.path).is_file() for s in back)


def _metrics(auc: float, recall: float, fpr: float) -> dict:
    return {
        "n": 8,
        "threshold": 0.5,
        "accuracy": 0.9,
        "precision": 0.9,
        "recall": recall,
        "f1": 0.9,
        "roc_auc": auc,
        "average_precision": auc,
        "confusion_matrix": [[4, 0], [1, 3]],
        "false_positive_rate": fpr,
        "expected_calibration_error": 0.1,
        "uncertain_band": [0.4, 0.6],
        "uncertain_rate": 0.1,
        "per_generator": {
            "esrgan-slim-x2": {"n": 2, "detection_rate": 0.5, "roc_auc_vs_real": 0.9}
        },
    }


def test_report_from_results(corpus: Path, tmp_path: Path) -> None:
    """``report`` turns result JSON into the document and one card snippet per model."""
    import json

    from aidetect_training.experiments.cli import main

    out = tmp_path / "eval"
    m = _metrics(0.98, 0.9, 0.0)
    variants = {"original": {**m, "auc_drop": 0.0}, "jpeg75": {**_metrics(0.9, 0.5, 0.0)}}
    variants["jpeg75"]["auc_drop"] = 0.08
    results = {
        "robustness": {
            "command": "python -m aidetect_training.experiments robustness",
            "variant_rules": {"original": "copy"},
            "models": {"toy": {"variants": variants}},
        },
        "calibration": {
            "command": "python -m aidetect_training.experiments calibration",
            "models": {
                "toy": {
                    "architecture": "svm",
                    "threshold": 0.5,
                    "uncertain_band": [0.4, 0.6],
                    "target_fpr": 0.05,
                    "validation_fpr": 0.04,
                    "test_fpr": 0.0,
                    "test_fpr_ok": True,
                    "ece": 0.1,
                    "logit_slope": 2.0,
                    "reliability_plot": str(out / "calibration" / "toy" / "reliability.png"),
                    "test": m,
                    "training_command": "aidetect train ...",
                }
            },
        },
    }
    for key, obj in results.items():
        (out / key).mkdir(parents=True)
        (out / key / "results.json").write_text(json.dumps(obj))
    doc = tmp_path / "evaluation.md"
    # sections other commands generate survive the report; hand-written text does not
    held = "<!-- heldout:start -->\nheld-out table\n<!-- heldout:end -->"
    like = "<!-- lofo-like:start -->\nlofo --like table\n<!-- lofo-like:end -->"
    doc.write_text(f"# Evaluation\n\n{held}\n\nhand-written\n\n{like}\n\nold report\n")
    assert main(["report", "--out", str(out), "--data", str(corpus), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert text.count(held) == text.count(like) == 1 and text.index(held) < text.index(like)
    assert "old report" not in text and "hand-written" not in text
    assert "| toy | jpeg75 | 0.9000 |" in text
    assert "AUC drop after JPEG 75 <= 0.03 | toy | 0.0800 | missed" in text
    assert "test ROC-AUC >= 0.99 | toy | 0.9800 | missed" in text
    card = (out / "card-toy.md").read_text()
    assert "## Evaluation" in card and "| toy | 8 |" in card


def test_lofo_train_command_is_the_run_spelled_out(tmp_path: Path) -> None:
    """The LOFO command comes from the run's options (no hand-kept copy) and parses back."""
    import argparse
    import shlex

    from aidetect_training.cli import parse_train
    from aidetect_training.experiments.lofo import lofo_train_command

    a = argparse.Namespace(image_size=96, epochs=3, workers=0)
    shown = lofo_train_command("cnn", tmp_path / "manifest.csv", tmp_path / "m" / "lofo-cnn", a)
    cfg = parse_train(shlex.split(shown)[2:])
    assert cfg.command_line() == shown
    assert (cfg.policy, cfg.image_size, cfg.epochs, cfg.max_crops) == ("crops", 96, 3, 16)
    assert cfg.arch_options.cnn_variant == "improved"
    assert cfg.augment == ("flip", "jpeg", "blur", "crop")  # the train command's default


def test_merged_robustness_results_keep_each_runs_command(tmp_path):
    """A results file merges runs over different models: the report names every command
    that measured the rows it shows, not only the last run's."""
    from aidetect_training.experiments.robustness import robustness_commands
    from aidetect_training.experiments.shared import merge_results, read_json

    path = tmp_path / "results.json"
    row = {"original": {"roc_auc": 0.9}}
    merge_results(
        path, {"command": "run A", "models": {"a": {"command": "run A", "variants": row}}}
    )
    merge_results(
        path, {"command": "run B", "models": {"b": {"command": "run B", "variants": row}}}
    )
    res = read_json(path)
    assert res["command"] == "run B" and set(res["models"]) == {"a", "b"}
    assert robustness_commands(res) == ["run A", "run B"]
    assert robustness_commands(res, ["b"]) == ["run B"]
    # rows written before each model kept its command fall back to the file's
    del res["models"]["a"]["command"]
    assert robustness_commands(res, ["a"]) == ["run B"]


def test_finished_models_include_imported_ones_but_not_half_trained(tiny_models, tmp_path):
    """An imported model (``aidetect models import-legacy``) has no test metrics because
    it was never trained here, and is scored like the rest; a trained artifact without
    them is still training and is skipped."""
    import json
    import shutil

    from aidetect_training.experiments.shared import finished_models

    models = tmp_path / "models"
    shutil.copytree(tiny_models, models)
    for name, command in (
        ("imported", "aidetect models import-legacy my_model.keras --name imported"),
        ("half-trained", "aidetect train --data corpus --arch svm --output models/half"),
    ):
        shutil.copytree(models / "tiny-svm", models / name)
        meta_path = models / name / "metadata.json"
        meta = json.loads(meta_path.read_text())
        meta |= {"name": name, "metrics": {}, "command": command, "default": False}
        meta_path.write_text(json.dumps(meta))
    ready = finished_models(models, None)
    assert "imported" in ready and "half-trained" not in ready
    assert finished_models(models, ["half-trained", "imported"]) == ["imported"]


def test_by_kind_scores_each_kind_of_fake_against_every_real(tmp_path):
    from aidetect_training.experiments.robustness import by_kind

    rows = [
        ("r1", 0, "real", 0.1), ("r2", 0, "real", 0.4), ("r3", 0, "real", 0.8),
        ("t1", 1, "sd1", 0.9), ("t2", 1, "flux1", 0.3),
        ("s1", 1, "esrgan-slim-x2", 0.95),
        ("a1", 1, "taef2", 0.5), ("a2", 1, "ae8-selftrained", 0.6),
        ("bad", 1, "sd1", 0.0),
    ]  # fmt: skip
    path = tmp_path / "predictions.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "generator", "ai_probability", "verdict", "error"])
        for name, label, gen, p in rows:
            w.writerow([name, label, gen, p, "", "undecodable" if name == "bad" else ""])
    res = by_kind(path, threshold=0.5)
    assert set(res) == {"text-to-image", "super-resolution", "autoencoder"}
    t2i = res["text-to-image"]  # 0.9 beats all three reals, 0.3 beats one: (3 + 1) / 6
    assert t2i["n"] == 2 and t2i["n_real"] == 3 and t2i["roc_auc"] == pytest.approx(4 / 6)
    assert t2i["detection_rate"] == 0.5
    auto = res["autoencoder"]  # taef2 and the self-trained ae8: (2 + 2) / 6
    assert auto["n"] == 2 and auto["roc_auc"] == pytest.approx(4 / 6)
    assert res["super-resolution"]["roc_auc"] == 1.0
