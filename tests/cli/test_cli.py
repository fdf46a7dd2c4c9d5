"""``aidetect predict``, ``models`` and ``evaluate`` on files made in the test."""

from __future__ import annotations

import csv
import json
import os

import pytest
from PIL import Image

from aidetect.cli import main
from tests.conftest import SEED_MODEL
from tests.support import images
from tests.support.tiny_models import toy_images


@pytest.fixture
def folder(tmp_path):
    """A REAL/FAKE folder (mixed case, nested) with one broken file."""
    x, y = toy_images(12, 32, seed=31)
    for i, (a, label) in enumerate(zip(x, y, strict=True)):
        d = tmp_path / "data" / ("fake" if label else "REAL") / ("sub" if i % 3 == 0 else "")
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(a).save(d / f"{i}.png")
    (tmp_path / "data" / "REAL" / "broken.jpg").write_bytes(b"not really a jpeg")
    return tmp_path / "data"


def test_predict_jsonl_recursive_with_per_file_errors(tiny_models, folder, capsys, monkeypatch):
    monkeypatch.setenv("AIDETECT_PROVENANCE", "false")
    rc = main(["predict", str(folder), "--models-dir", str(tiny_models), "--batch-size", "5"])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0 and len(out) == 13
    bad = [r for r in out if not r["ok"]]
    assert len(bad) == 1 and bad[0]["path"].endswith("broken.jpg")
    assert bad[0]["error"]["code"] == "unsupported_media_type"
    good = [r for r in out if r["ok"]]
    fakes = [r["ai_probability"] for r in good if "/fake/" in r["path"]]
    reals = [r["ai_probability"] for r in good if "/REAL/" in r["path"]]
    assert min(fakes) > max(reals)  # tiny-cnn (the default) learned the toy task


def test_predict_csv_with_model_path_and_missing_file(tiny_models, folder, tmp_path, monkeypatch):
    monkeypatch.setenv("AIDETECT_PROVENANCE", "false")
    out = tmp_path / "out.csv"
    single = folder / "fake" / "1.png"
    rc = main(
        [
            "predict",
            str(single),
            str(tmp_path / "missing.png"),
            "--model",
            str(tiny_models / "tiny-svm"),
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    rows = list(csv.DictReader(out.open()))
    assert rc == 0 and [r["ok"] for r in rows] == ["True", "False"]
    # A 32x32 toy picture is too small to judge: out of scope, its score still reported.
    assert rows[0]["model"] == "tiny-svm" and rows[0]["verdict"] == "out_of_scope"
    assert rows[0]["format"] == "PNG" and float(rows[0]["ai_probability"]) > 0.5


def test_models_lists_and_verifies(tiny_models, capsys):
    assert main(["models", "--models-dir", str(tiny_models)]) == 0
    text = capsys.readouterr().out
    assert "* tiny-cnn" in text and "tiny-ensemble" in text
    assert main(["models", "--models-dir", str(tiny_models), "--json", "verify"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in rows} == {"ok"}


def test_models_verify_reports_a_tampered_file(tiny_models, tmp_path, capsys):
    import shutil

    shutil.copytree(tiny_models, tmp_path / "m")
    f = tmp_path / "m" / "tiny-cnn" / "model.keras"
    f.write_bytes(f.read_bytes()[:-10])
    assert main(["models", "--models-dir", str(tmp_path / "m"), "verify"]) == 1
    assert "SHA-256" in capsys.readouterr().out


def test_empty_models_folder_says_what_to_do(tmp_path, capsys):
    assert main(["serve", "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "No model is installed" in err and "aidetect train" in err and "import-legacy" in err


def test_evaluate_writes_the_report(tiny_models, folder, tmp_path, monkeypatch):
    monkeypatch.setenv("AIDETECT_PROVENANCE", "false")
    report = tmp_path / "report"
    rc = main(
        [
            "evaluate",
            "--data",
            str(folder),
            "--model",
            "tiny-cnn",
            "--models-dir",
            str(tiny_models),
            "--report",
            str(report),
            "--quiet",
        ]
    )
    assert rc == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["n"] == 12 and metrics["failures"] == 1
    assert metrics["counts"] == {"real": 6, "ai_generated": 6}
    assert metrics["accuracy"] == 1.0 and metrics["roc_auc"] == 1.0
    assert sum(map(sum, metrics["confusion_matrix"])) == 12
    for key in ("precision", "recall", "f1", "average_precision", "threshold"):
        assert key in metrics
    rows = list(csv.DictReader((report / "predictions.csv").open()))
    assert len(rows) == 13
    for plot in ("confusion_matrix.png", "roc.png", "precision_recall.png", "reliability.png"):
        assert Image.open(report / plot).size[0] > 100


def test_evaluate_cifake_layout_uses_test_split_and_manifest_generators(
    tiny_models, tmp_path, monkeypatch
):
    monkeypatch.setenv("AIDETECT_PROVENANCE", "false")
    x, y = toy_images(8, 32, seed=41)
    root = tmp_path / "cifake"
    for split in ("train", "test"):
        for i, (a, label) in enumerate(zip(x, y, strict=True)):
            d = root / split / ("FAKE" if label else "REAL")
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(a).save(d / f"{split}{i}.png")
    report = tmp_path / "r"
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(root),
                "--models-dir",
                str(tiny_models),
                "--report",
                str(report),
                "--quiet",
            ]
        )
        == 0
    )
    assert json.loads((report / "metrics.json").read_text())["n"] == 8  # test split only
    # a manifest with generators gives a per-generator breakdown
    lines = ["path,label,generator,source_id,split"]
    for i, label in enumerate(y):
        generator = ("gen-a" if i % 4 == 1 else "gen-b") if label else "real"
        folder = "FAKE" if label else "REAL"
        lines.append(f"test/{folder}/test{i}.png,{label},{generator},s{i},test")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(root),
                "--models-dir",
                str(tiny_models),
                "--report",
                str(report),
                "--quiet",
            ]
        )
        == 0
    )
    per = json.loads((report / "metrics.json").read_text())["per_generator"]
    assert set(per) == {"gen-a", "gen-b"} and per["gen-a"]["n"] == 2


@pytest.mark.skipif(
    not SEED_MODEL.is_file(), reason="the seed's model file (shared/peers) is absent"
)
def test_import_legacy_then_predict(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AIDETECT_PROVENANCE", "false")
    models = tmp_path / "models"
    assert (
        main(
            [
                "models",
                "--models-dir",
                str(models),
                "import-legacy",
                str(SEED_MODEL),
                "--name",
                "seed-cifake-cnn",
            ]
        )
        == 0
    )
    img = tmp_path / "p.jpg"
    img.write_bytes(images.jpeg())
    capsys.readouterr()
    assert main(["predict", str(img), "--models-dir", str(models)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["model"]["name"] == "seed-cifake-cnn" and 0 <= row["ai_probability"] <= 1


def test_models_json_after_the_action_and_verify_says_verified(tiny_models, capsys):
    assert main(["models", "list", "--json", "--models-dir", str(tiny_models)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"tiny-cnn", "tiny-svm"}
    assert main(["models", "--models-dir", str(tiny_models), "verify"]) == 0
    out = capsys.readouterr().out
    assert "tiny-cnn: verified" in out and "(* = default)" not in out


def test_models_json_into_a_closed_pipe_ends_quietly(tiny_models):
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "aidetect.cli", "models", "--json"],
        env={**os.environ, "AIDETECT_MODELS_DIR": str(tiny_models)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader (``| head``) is gone before anything is written
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()[-2000:]


def test_predict_names_a_missing_file(tiny_models, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AIDETECT_PROVENANCE", "false")
    rc = main(["predict", str(tmp_path / "nope.jpg"), "--models-dir", str(tiny_models)])
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 1 and row["error"]["code"] == "file_not_found"
    assert "nope.jpg does not exist" in row["error"]["detail"]
