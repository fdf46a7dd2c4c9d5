"""Every architecture trains (one epoch / one fit) and is served from its artifact.

Each run goes through ``aidetect train`` (the CLI), writes an artifact the
Registry loads and a Detector serves, and a test report made by
``aidetect.evaluation.evaluate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aidetect.cli import main
from aidetect.datasets import list_samples
from aidetect.imaging import decode_file
from aidetect.inference import Detector
from aidetect.preprocess import aggregate, preprocess
from aidetect.registry import Registry

FAST = ["--quiet", "--workers", "1", "--epochs", "1", "--batch-size", "16"]


def train(data: Path, out: Path, *args: str) -> dict:
    assert main(["train", "--data", str(data), "--output", str(out), *FAST, *args]) == 0
    return json.loads((out / "metadata.json").read_text())


def check_artifact(out: Path, data: Path) -> None:
    """Registry loads it, Detector serves it, and serving equals the model on preprocess."""
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["command"].startswith("aidetect train")
    assert 0.0 <= meta["threshold"] <= 1.0
    lo, hi = meta["uncertain_band"]
    assert lo <= meta["threshold"] <= hi
    td = meta["training_data"]
    assert set(td["splits"]) == {"train", "val", "test"}
    assert td["counts"]["per_class"]["real"] > 0 and td["counts"]["per_generator"]
    assert meta["metrics"]["validation"]["n"] > 0
    assert meta["metrics"]["test"]["accuracy"] is not None
    assert meta["framework"]["keras"]
    report = json.loads((out / "report" / "metrics.json").read_text())
    assert report["n"] == meta["metrics"]["test"]["n"] and report["failures"] == 0
    card = (out / "README.md").read_text()
    assert f"{meta['threshold']:.4f}" in card and "| accuracy |" in card

    registry = Registry(out.parent)
    loaded = registry.load(out.name)
    detector = Detector(registry, provenance=False)
    sample = list_samples(data)[0]
    result = detector.detect(sample.path.read_bytes(), out.name)
    batch, _ = preprocess(decode_file(sample.path).pixels, loaded.spec)
    if meta["format"] == "sklearn":
        probs = loaded.estimator.predict_proba(batch)[:, 1]
    else:  # the registry's estimator is keras.models.load_model(model.keras)
        probs = np.asarray(loaded.estimator.predict(batch, verbose=0)).reshape(-1)
    assert result.ai_probability == pytest.approx(aggregate(probs, loaded.spec), abs=1e-6)


def predictions(out: Path, data: Path) -> np.ndarray:
    registry = Registry(out.parent)
    detector = Detector(registry, provenance=False)
    blobs = [s.path.read_bytes() for s in list_samples(data)[:8]]
    return np.array([r.ai_probability for r in detector.detect_many(blobs, out.name)])


def test_svm_fast_on_manifest_is_served_and_reproducible(datasets, models_dir):
    data = datasets["manifest"]
    meta = train(data, models_dir / "svm-a", "--arch", "svm", "--augment", "flip,jpeg")
    assert meta["format"] == "sklearn" and meta["training"]["mode"] == "fast"
    assert set(meta["training_data"]["counts"]["per_generator"]) == {"real", "gen-a", "gen-b"}
    check_artifact(models_dir / "svm-a", data)
    train(data, models_dir / "svm-b", "--arch", "svm", "--augment", "flip,jpeg")
    np.testing.assert_array_equal(
        predictions(models_dir / "svm-a", data), predictions(models_dir / "svm-b", data)
    )


def test_svm_seed_mode_on_folders(datasets, models_dir):
    data = datasets["folders"]
    meta = train(
        data, models_dir / "svm-seed", "--arch", "svm", "--svm-mode", "seed", "--seed", "1"
    )
    assert meta["input"]["scale"] == "unit" and meta["training"]["mode"] == "seed"
    assert set(meta["training"]["best_params"]) == {"svc__C", "svc__gamma", "svc__kernel"}
    check_artifact(models_dir / "svm-seed", data)


def test_cnn_on_cifake_is_served_reproducible_and_resumable(datasets, models_dir, capsys):
    data = datasets["cifake"]
    meta = train(data, models_dir / "cnn-a", "--arch", "cnn", "--augment", "flip,blur")
    assert meta["input"] == {**meta["input"], "policy": "resize", "size": 32, "scale": "raw"}
    assert meta["training_data"]["splits"]["test"]["total"] == 8  # CIFAKE's own test folder
    check_artifact(models_dir / "cnn-a", data)
    assert (models_dir / "cnn-a" / "checkpoints" / "train-last.weights.h5").is_file()
    first = predictions(models_dir / "cnn-a", data)
    # same seed, same model
    train(data, models_dir / "cnn-b", "--arch", "cnn", "--augment", "flip,blur")
    np.testing.assert_allclose(predictions(models_dir / "cnn-b", data), first, atol=1e-6)
    # --resume after a finished run restores the weights instead of training again
    assert main(["train", "--data", str(data), "--output", str(models_dir / "cnn-a"),
                 "--arch", "cnn", "--augment", "flip,blur", "--resume", *FAST]) == 0  # fmt: skip
    np.testing.assert_allclose(predictions(models_dir / "cnn-a", data), first, atol=1e-6)


def test_improved_cnn_with_crops_on_artifact(datasets, models_dir):
    data = datasets["artifact"]
    meta = train(
        data, models_dir / "cnn-crops", "--arch", "cnn", "--cnn-variant", "improved",
        "--policy", "crops", "--image-size", "16", "--max-crops", "4", "--augment", "all",
        "--seed", "1",
    )  # fmt: skip
    assert meta["input"]["policy"] == "crops" and meta["input"]["crops"]["max_crops"] == 4
    assert meta["training_data"]["counts"]["per_generator"] == {"real": 18, "stylegan": 18}
    check_artifact(models_dir / "cnn-crops", data)


def test_resnet50_without_weights(datasets, models_dir):
    data = datasets["cifake"]
    meta = train(
        data, models_dir / "resnet", "--arch", "resnet50", "--weights", "none",
        "--image-size", "32", "--unfreeze", "5", "--augment", "none",
    )  # fmt: skip
    assert meta["architecture"] == "resnet50" and meta["training"]["unfreeze"] == 5
    assert "fine_tune" in meta["training"]["history"]
    check_artifact(models_dir / "resnet", data)


def test_ensemble_fitted_on_validation(datasets, models_dir, capsys):
    data = datasets["manifest"]
    if not (models_dir / "svm-a").is_dir():
        train(data, models_dir / "svm-a", "--arch", "svm", "--augment", "flip,jpeg")
    if not (models_dir / "svm-seed").is_dir():
        train(
            datasets["folders"],
            models_dir / "svm-seed",
            "--arch",
            "svm",
            "--svm-mode",
            "seed",
            "--seed",
            "1",
        )
    out = models_dir / "ens"
    args = ["ensemble", "--members", "svm-a", "svm-seed", "--output", str(out), "--quiet"]
    assert main([*args, "--data", str(data)]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    weights = [m["weight"] for m in meta["members"]]
    assert meta["format"] == "ensemble" and sum(weights) == pytest.approx(1.0, abs=1e-5)
    assert (out / "report" / "metrics.json").is_file()
    registry = Registry(models_dir)
    detector = Detector(registry, provenance=False)
    sample = list_samples(data)[0]
    res = detector.detect(sample.path.read_bytes(), "ens")
    expect = sum(w * m.ai_probability for w, m in zip(weights, res.models, strict=True))
    assert res.ai_probability == pytest.approx(expect / sum(weights), abs=1e-5)
    # equal weights on request: only the threshold is fitted on validation
    assert main([*args[:-2], str(models_dir / "ens-eq"), "--quiet", "--data", str(data),
                 "--equal-weights"]) == 0  # fmt: skip
    eq = registry.metadata("ens-eq")
    assert [m.weight for m in eq.members] == [0.5, 0.5]
    assert getattr(eq, "weight_rule", None) == "equal weights"
    assert "--equal-weights" in eq.command and "validation" in getattr(eq, "threshold_rule", "")
    # a threshold that also holds on transformed copies of the validation reals
    assert main([*args[:-2], str(models_dir / "ens-rob"), "--quiet", "--data", str(data),
                 "--equal-weights", "--threshold-variants", "downscale50"]) == 0  # fmt: skip
    rob = registry.metadata("ens-rob")
    assert rob.threshold >= eq.threshold and "--threshold-variants downscale50" in rob.command
    assert "downscale50 copies" in getattr(rob, "threshold_rule", "")
    fpr = rob.metrics["validation"]["variant_fpr"]["downscale50"]["false_positive_rate"]
    assert fpr <= 0.05
    with pytest.raises(SystemExit) as stop:  # argparse: a usage error naming the choices
        main([*args, "--data", str(data), "--threshold-variants", "sepia"])
    assert stop.value.code == 2 and "choose from jpeg95, jpeg90" in capsys.readouterr().err
    # majority vote without data: equal weights, threshold 0.5
    assert main([*args[:-2], str(models_dir / "vote"), "--rule", "vote", "--quiet"]) == 0
    vote = registry.metadata("vote")
    assert vote.ensemble_rule == "vote" and vote.threshold == 0.5
    assert main(["ensemble", "--members", "no-such", "--output", str(models_dir / "bad")]) == 2
    assert "no-such" in capsys.readouterr().err


def test_bad_arguments_are_reported(datasets, models_dir, capsys):
    data = str(datasets["folders"])
    out = str(models_dir / "x")
    assert main(["train", "--data", data, "--arch", "cnn", "--output", out,
                 "--augment", "sharpen"]) == 2  # fmt: skip
    assert "sharpen" in capsys.readouterr().err
    assert main(["train", "--data", data, "--arch", "cnn", "--output", out, "--name", "y"]) == 2


def test_tiny_validation_and_a_missed_target_are_warned_and_recorded(datasets, models_dir, capsys):
    """Tiny data: a threshold from a handful of validation reals, test FPR off target."""
    meta = train(datasets["folders"], models_dir / "svm-tiny", "--arch", "svm")
    err = capsys.readouterr().err
    val_reals = meta["metrics"]["validation"]["counts"]["real"]
    assert val_reals < 200
    assert any(f"only {val_reals} real validation images" in w for w in meta["warnings"])
    assert f"WARNING: the threshold was chosen on only {val_reals}" in err  # even with --quiet
    test_fpr = meta["metrics"]["test"]["false_positive_rate"]
    missed = [w for w in meta["warnings"] if "above the target" in w]
    assert bool(missed) == (test_fpr > 0.05)
    card = (models_dir / "svm-tiny" / "README.md").read_text()
    assert "**Warning:** the threshold was chosen on only" in card


def test_the_checks_themselves():
    from aidetect_training.checks import fpr_miss_warning, validation_warning

    assert validation_warning(3, 0.05) and "needs about 200" in validation_warning(3, 0.05)
    assert validation_warning(200, 0.05) is None
    assert validation_warning(99, 0.1) and validation_warning(100, 0.1) is None
    assert fpr_miss_warning(0.40, 0.05, 10) and "0.400" in fpr_miss_warning(0.40, 0.05, 10)
    assert fpr_miss_warning(0.05, 0.05, 10) is None and fpr_miss_warning(None, 0.05, 0) is None


def test_evaluate_warns_when_it_scores_the_training_data(datasets, models_dir, tmp_path, capsys):
    data = datasets["folders"]  # plain REAL/FAKE folders: no split to hold the test images
    train(data, models_dir / "svm-eval", "--arch", "svm")
    capsys.readouterr()

    def evaluate(on: Path, report: Path) -> tuple[dict, str]:
        args = ["evaluate", "--data", str(on), "--model", str(models_dir / "svm-eval")]
        assert main([*args, "--report", str(report), "--quiet"]) == 0
        return json.loads((report / "metrics.json").read_text()), capsys.readouterr().err

    metrics, err = evaluate(data, tmp_path / "same")
    assert "WARNING:" in err and "including the ones it learned from" in err
    assert len(metrics["warnings"]) == 1 and "no test split" in metrics["warnings"][0]
    metrics, err = evaluate(datasets["cifake"], tmp_path / "other")  # other data, with a split
    assert "WARNING" not in err and metrics["warnings"] == []
