"""``experiments lofo --like MODEL``: a trained model's own recorded recipe, retrained
without each text-to-image family in turn (through ``aidetect train``), each model scored
by ``aidetect_training.heldout`` on the family it never saw."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect.cli import main as aidetect_main
from aidetect.datasets import Sample, list_samples, write_manifest
from aidetect_training.experiments.lofo import LIKE_END, LIKE_START, without_family
from tests.support.tiny_models import toy_images

#: the recipe of the model to copy: patterns, a non-default option of every kind
RECIPE = [
    "--arch", "svm", "--image-size", "16", "--policy", "crops", "--max-crops", "4",
    "--patches-per-image", "2", "--augment", "flip,jpeg", "--families", "taef2,esrgan-*,sd1,flux1",
    "--epochs", "1", "--batch-size", "16", "--target-fpr", "0.1", "--svm-c", "0.5",
]  # fmt: skip


def _corpus(root: Path, n: int = 30, size: int = 32) -> Path:
    """A corpus-v2 lookalike with a family column: reals, an aligned round trip (taef2),
    a super-resolution family and three text-to-image ones (pixart never trained on)."""
    x, _ = toy_images(4 * n, size, seed=3)
    rows = []
    for i in range(n):
        split = "test" if i % 5 == 4 else "val" if i % 5 == 3 else "train"
        real = x[4 * i]
        up = np.repeat(np.repeat(x[4 * i + 1][::2, ::2], 2, 0), 2, 1)
        items = [(0, real, "real", "real"), (1, up, "taef2", "taef2")]
        if i % 2 == 0:
            items.append((1, up[::-1], "esrgan-slim", "esrgan-slim-x2"))
        # text-to-image: up-sampled, or (one in three) as smooth as a real photo, so that
        # the held-out ROC-AUC is neither 0 nor 1
        fam = ("sd1", "flux1", "pixart")[i % 3]
        t2i = x[4 * i + 2] if i % 9 < 3 else x[4 * i + 3]
        items.append((1, t2i, fam, fam))
        for label, img, family, gen in items:
            path = root / split / ("FAKE" if label else "REAL") / f"{gen}-{i:03d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(path)
            pair = f"p{i}" if family in ("real", "taef2") else ""
            rows.append(Sample(path, label, gen, f"s{i}", split, family, pair, "photo"))
    write_manifest(root / "manifest.csv", rows)
    return root


def test_without_family_keeps_patterns_and_expands_only_the_one_that_matches():
    corpus = ["esrgan-slim", "flux1", "sd1", "sd2", "sdxl", "taef2"]
    assert without_family(["taef2", "esrgan-*", "sd1", "flux1"], corpus, "sd1") == [
        "taef2",
        "esrgan-*",
        "flux1",
    ]
    # nothing recorded: every family of the corpus but the held-out one
    assert without_family([], corpus, "flux1") == ["esrgan-slim", "sd1", "sd2", "sdxl", "taef2"]
    # a pattern that covers the held-out family becomes the other families it covers
    assert without_family(["taef2", "esrgan-*", "sd*"], corpus, "sd2") == [
        "taef2",
        "esrgan-*",
        "sd1",
        "sdxl",
    ]


def test_lofo_like_retrains_the_recorded_recipe_and_scores_the_unseen_family(tmp_path, capsys):
    from aidetect.inference import Detector
    from aidetect.registry import Registry
    from aidetect_training.cli import parse_train
    from aidetect_training.experiments.cli import main

    data = _corpus(tmp_path / "corpus")
    models = tmp_path / "models"
    fast = ["--quiet", "--workers", "1"]
    argv = ["train", "--data", str(data), "--output", str(models / "toy-mixed"), *RECIPE, *fast]
    assert aidetect_main(argv) == 0
    original = json.loads((models / "toy-mixed" / "metadata.json").read_text())
    ocfg = parse_train(shlex.split(original["command"])[2:])
    assert ocfg.command_line() == original["command"]  # the recorded command parses back

    out, docs = tmp_path / "lofo", tmp_path / "evaluation.md"
    docs.write_text("# Evaluation\n\nhand-written text\n")
    lofo = ["lofo", "--like", "toy-mixed", "--models-dir", str(models), "--data", str(data)]
    lofo += ["--out", str(out), "--workers", "1", "--docs", str(docs)]
    assert main(lofo) == 0
    res = json.loads((out / "results.json").read_text())
    # the text-to-image families it trained on; pixart, never trained on, is not left out
    assert list(res["families"]) == ["flux1", "sd1"]
    assert res["like"] == "toy-mixed" and res["like_command"] == original["command"]

    samples = list_samples(data)
    real_test = [s for s in samples if s.label == 0 and s.split == "test"]
    detector = Detector(Registry(out / "models"), provenance=False)
    created = {}
    for fam, other in (("flux1", "sd1"), ("sd1", "flux1")):
        r = res["families"][fam]
        meta = json.loads((out / "models" / r["model"] / "metadata.json").read_text())
        assert meta["command"] == r["train_command"]
        cfg = parse_train(shlex.split(meta["command"])[2:])
        # every recorded option the same but --output, --name and --families
        assert cfg.output == out / "models" / f"lofo-toy-mixed-{fam}" and cfg.name == r["model"]
        assert cfg.families == ("taef2", "esrgan-*", other)  # the pattern kept as a pattern
        same = replace(cfg, output=ocfg.output, name=ocfg.name, families=ocfg.families)
        assert same.command_line() == original["command"]
        # the run itself never saw the held-out family, and the pattern matched
        assert meta["training_data"]["families"] == ["taef2", "esrgan-*", other]
        seen = meta["training_data"]["counts"]["per_generator"]
        assert fam not in seen and other in seen and "esrgan-slim-x2" in seen
        assert "pixart" not in seen
        created[fam] = meta["created"]

        # scored on every split of the family against the real test crops, at its threshold
        held = [s for s in samples if s.family == fam]
        assert {s.split for s in held} == {"train", "val", "test"}
        h = r["heldout"]
        assert h["held_out"] and h["n"] == len(held)
        assert r["real_test_crops"] == len(real_test)
        scored = detector.detect_many([s.path.read_bytes() for s in held + real_test], r["model"])
        p = np.array([x.ai_probability for x in scored])
        y = np.array([1] * len(held) + [0] * len(real_test))
        from sklearn.metrics import roc_auc_score

        assert h["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-6)
        assert 0.0 < h["roc_auc"] < 1.0  # a ranking to get right, not a constant
        assert r["threshold"] == meta["threshold"]
        t = meta["threshold"]
        assert h["detection_rate"] == pytest.approx(float((p[y == 1] >= t).mean()))
        assert r["false_positive_rate"] == pytest.approx(float((p[y == 0] >= t).mean()))
    aucs = [res["families"][f]["heldout"]["roc_auc"] for f in ("flux1", "sd1")]
    assert res["mean_heldout_auc"] == pytest.approx(sum(aucs) / 2)

    # the markdown: one row per family, the mean, the exact commands; the docs section
    md = (out / "results.md").read_text()
    n_sd1 = res["families"]["sd1"]["heldout"]["n"]
    assert f"| sd1 | {n_sd1} | {aucs[1]:.3f} |" in md and "**mean of 2**" in md
    assert res["families"]["sd1"]["train_command"] in md and res["command"] in md
    text = docs.read_text()
    assert "hand-written text" in text and text.count(LIKE_START) == text.count(LIKE_END) == 1
    assert md.strip() in text

    # a rerun (the model named by its folder this time) keeps the finished models
    capsys.readouterr()
    rerun = [*lofo[:2], str(models / "toy-mixed"), *lofo[3:]]
    assert main(rerun) == 0
    printed = capsys.readouterr().out
    assert "[lofo] training" not in printed and printed.count("is trained (same command)") == 2
    for fam, r in res["families"].items():
        meta = json.loads((out / "models" / r["model"] / "metadata.json").read_text())
        assert meta["created"] == created[fam]
    again = json.loads((out / "results.json").read_text())
    assert again["families"] == res["families"]
    assert docs.read_text().count(LIKE_START) == 1

    # a family it never trained on cannot be left out
    with pytest.raises(SystemExit, match="did not train on pixart"):
        main([*lofo, "--families", "pixart"])
