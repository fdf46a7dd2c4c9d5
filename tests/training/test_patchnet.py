"""The patch model: trains through ``aidetect train``, is served by the backend, and its
heatmap is made of its own patch scores; aligned pairs are augmented identically."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect.datasets import Sample, list_samples
from aidetect.preprocess import heatmap_boxes, preprocess
from aidetect.registry import Registry
from aidetect_training.data import STRONG_AUGMENT, ImageDataset, parse_augment
from tests.support.tiny_models import toy_images
from tests.training.test_train import check_artifact, train


def _pairs(root: Path, n: int = 24, size: int = 48) -> Path:
    """A corpus-v2-like manifest: real crops, each with an aligned fake sharing pair_id."""
    x, _ = toy_images(2 * n, size, seed=5)
    rows = []
    for i in range(n):
        real = x[2 * i]  # smooth noise
        fake = np.repeat(np.repeat(real[::2, ::2], 2, 0), 2, 1)  # a 2x up-sampler's copy
        split = "test" if i % 6 == 5 else "val" if i % 6 == 4 else "train"
        other = np.repeat(np.repeat(x[2 * i + 1][::2, ::2], 2, 0), 2, 1)  # an unseen "generator"
        items = [(0, real, "real"), (1, fake, "toy-ae")] + (
            [(1, other, "toy-held")] if i % 2 else []
        )
        for label, img, fam in items:
            rel = f"{split}/{'FAKE' if label else 'REAL'}/{fam}-{i:03d}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(root / rel)
            pair = f"p{i}" if fam != "toy-held" else ""
            rows.append([rel, label, fam, f"s{i}", split, fam, pair, "photo"])
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["path", "label", "generator", "source_id", "split", "family", "pair_id", "content"]
        )
        w.writerows(rows)
    return root


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Path:
    return _pairs(tmp_path_factory.mktemp("pairs"))


def test_strong_augmentation_is_identical_within_a_pair(pairs):
    samples = list_samples(pairs)
    spec_meta = {"policy": "crops", "size": 16, "scale": "raw"}
    from aidetect.preprocess import InputSpec

    spec = InputSpec(**spec_meta)
    assert parse_augment("strong") == STRONG_AUGMENT
    ds = ImageDataset(samples, spec, batch_size=4, augment=STRONG_AUGMENT, patches=3, paired=True)
    real = next(i for i, s in enumerate(samples) if s.label == 0 and s.pair_id == "p0")
    fake = next(i for i, s in enumerate(samples) if s.label == 1 and s.pair_id == "p0")
    assert ds.row(real).shape == (3, 16, 16, 3)
    assert ds.rng_for(real).random() == ds.rng_for(fake).random()

    def corr(paired: bool) -> float:
        """Correlation of the real's and the fake's rows: the fake copies every other
        pixel of the real, so identical windows correlate and independent ones do not."""
        d = ImageDataset(samples, spec, augment=("flip", "crop"), patches=8, paired=paired)
        a, b = d.row(real).ravel(), d.row(fake).ravel()
        return float(np.corrcoef(a, b)[0, 1])

    assert corr(True) > 0.2 > 0.1 > abs(corr(False))  # 1 in 4 pixels is a copy: about 0.25
    x, y, w = ImageDataset(samples, spec, 4, patches=3, class_weight={0: 1.0, 1: 1.0})[0]
    assert x.shape[0] == y.shape[0] == w.shape[0] == 4 * 3


def test_families_filter_keeps_reals(pairs, tmp_path):
    from aidetect_training.cli import parse_train
    from aidetect_training.run import load_splits

    base = ["--data", str(pairs), "--arch", "patchnet", "--output", str(tmp_path / "m")]
    with pytest.raises(Exception, match="both classes"):
        load_splits(parse_train([*base, "--families", "other"]))
    splits = load_splits(parse_train([*base, "--families", "toy-a*"]))
    assert {s.family for s in splits.train} == {"real", "toy-ae"}


def test_patchnet_trains_and_is_served_with_its_heatmap(pairs, models_dir):
    out = models_dir / "patch-toy"
    meta = train(
        pairs, out, "--arch", "patchnet", "--policy", "crops", "--image-size", "16",
        "--max-crops", "9", "--augment", "strong", "--patches-per-image", "2",
        "--families", "toy-ae",
    )  # fmt: skip
    assert meta["architecture"] == "patchnet"
    assert meta["input"] == {**meta["input"], "policy": "crops", "size": 16}
    assert "--patches-per-image 2" in meta["command"] and "--families toy-ae" in meta["command"]
    assert meta["training"]["patches_per_second"] > 0
    assert meta["training_data"]["families"] == ["toy-ae"]
    check_artifact(out, pairs)

    # the backend serves it, and its heatmap is its per-patch scores
    from fastapi.testclient import TestClient

    from aidetect_server.app.main import create_app

    sample = next(s for s in list_samples(pairs) if s.label == 1)
    data = sample.path.read_bytes()
    from aidetect.settings import Settings

    app = create_app(Settings(models_dir=models_dir, default_model="patch-toy", provenance=False))
    with TestClient(app) as client:
        r = client.post("/api/v1/detect?heatmap=true", files={"file": ("x.png", data, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["name"] == "patch-toy"
    png = base64.b64decode(body["heatmap"].split(",", 1)[1])
    heat = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    loaded = Registry(models_dir).load("patch-toy")
    pixels = np.asarray(Image.open(sample.path).convert("RGB"))
    boxes = heatmap_boxes(pixels.shape[1], pixels.shape[0], loaded.spec)
    batch, _ = preprocess(pixels, loaded.spec, boxes)
    probs = loaded.predict_ai_proba(batch)
    assert len(boxes) > 1
    # the top-left patch's colour follows its own score: red for AI, blue for real
    r_, b_ = heat[0, 0, 0], heat[0, 0, 2]
    first = probs[0]
    assert (r_ > b_) == (first > 0.5) or abs(first - 0.5) < 0.05
    json.dumps(body)  # serialisable as served


def test_paired_sample_fields_default_empty():
    s = Sample(Path("x.png"), 0)
    assert s.family == s.pair_id == s.content == ""


def test_heldout_scores_unseen_families_and_records_scope(pairs, models_dir, tmp_path):
    """After the patch model above: toy-held was never trained on, so every split of it is
    scored; the scope lands in the metadata and the card, the section in the docs."""
    from aidetect_training import heldout

    if not (models_dir / "patch-toy" / "metadata.json").is_file():
        pytest.skip("needs the model of test_patchnet_trains_and_is_served_with_its_heatmap")
    from aidetect_training.experiments.cli import main as experiments

    docs = tmp_path / "evaluation.md"
    docs.write_text("# Evaluation\n\nolder text\n")
    robust = tmp_path / "robust"
    assert experiments(["robustness", "--data", str(pairs), "--out", str(robust),
                        "--models-dir", str(models_dir), "--models", "patch-toy",
                        "--variants", "original,jpeg75"]) == 0  # fmt: skip
    argv = ["--data", str(pairs), "--models-dir", str(models_dir), "--models", "patch-toy",
            "--out", str(tmp_path / "out"), "--write-scope", "--docs", str(docs),
            "--robustness", str(robust / "results.json")]  # fmt: skip
    assert heldout.main(argv) == 0
    res = json.loads((tmp_path / "out" / "heldout.json").read_text())["models"]["patch-toy"]
    assert res["trained_families"] == ["toy-ae"]
    held = res["per_family"]["toy-held"]
    n_held = sum(1 for s in list_samples(pairs) if s.family == "toy-held")
    assert held["held_out"] and held["n"] == n_held  # every split of a held-out family
    trained = res["per_family"]["toy-ae"]
    n_test = sum(1 for s in list_samples(pairs) if s.family == "toy-ae" and s.split == "test")
    assert not trained["held_out"] and trained["n"] == n_test
    assert 0.0 <= held["roc_auc"] <= 1.0
    meta = json.loads((models_dir / "patch-toy" / "metadata.json").read_text())
    assert [h["family"] for h in meta["scope"]["held_out"]] == ["toy-held"]
    assert meta["scope"]["held_out"][0]["n"] == n_held
    # the trained images are the model's own training split's
    own = meta["training_data"]["splits"]["train"]["per_generator"]["toy-ae"]
    assert meta["scope"]["trained_on"] == [
        {"family": "toy-ae", "kind": "text-to-image", "images": own}
    ]
    # the robustness figures of this very artifact, which the verdict's compression rule reads
    rows = {r["variant"]: r for r in meta["scope"]["robustness"]}
    assert set(rows) == {"original", "jpeg75"} and rows["jpeg75"]["jpeg_quality"] == 75
    measured = json.loads((robust / "results.json").read_text())["models"]["patch-toy"]
    jpeg75 = measured["variants"]["jpeg75"]
    assert rows["jpeg75"]["detection_rate"] == jpeg75["recall"]
    assert rows["jpeg75"]["n_ai"] + rows["jpeg75"]["n_real"] == jpeg75["n"]
    assert rows["original"].get("jpeg_quality") is None
    # one kind of fake on its own, per variant (both toy families count as text-to-image)
    n_t2i = sum(1 for s in list_samples(pairs) if s.label == 1 and s.split == "test")
    t2i = jpeg75["by_kind"]["text-to-image"]
    assert t2i["n"] == n_t2i and t2i["n_real"] == jpeg75["counts"]["real"]
    assert "auc_drop" in t2i and measured["variants"]["original"]["by_kind"]["text-to-image"]
    card = (models_dir / "patch-toy" / "README.md").read_text()
    assert "## Generators it has and has not seen" in card and "toy-held" in card
    assert "| jpeg75 |" in card
    # results measured on another artifact (changed fingerprint) are not recorded as its own
    assert heldout.robustness_figures(json.loads((robust / "results.json").read_text()),
                                      "patch-toy", {"sha256": "other"}) == []  # fmt: skip
    text = docs.read_text()
    assert heldout.MARK_START in text and "older text" in text and "toy-held" in text
    # what each model saw is written from its metadata, not from prose about other models
    assert "- `patch-toy` (patchnet): trained on `toy-ae`; its toy-ae rows are in-dist" in text
    n_real = sum(1 for s in list_samples(pairs) if s.label == 0 and s.split == "test")
    assert f"{n_real} real test crops" in text
    assert "The text-to-image crops of the test split only" in text
    assert f"| patch-toy | jpeg75 | {n_t2i} |" in text
    # a second run replaces the section instead of adding another
    assert heldout.main(argv) == 0
    assert docs.read_text().count(heldout.MARK_START) == 1
    # cached scores: the second run scored nothing again and gave the same numbers
    again = json.loads((tmp_path / "out" / "heldout.json").read_text())["models"]["patch-toy"]
    assert again["per_family"] == res["per_family"]


def test_heldout_judges_an_ensemble_on_what_no_member_and_no_fit_saw(pairs, models_dir, tmp_path):
    """An ensemble fitted with --families keeps the held-out family held out; fitted on
    every family it does not; its score cache follows its members' weights."""
    from aidetect.cli import main
    from aidetect_training import heldout

    if not (models_dir / "patch-toy" / "metadata.json").is_file():
        pytest.skip("needs the model of test_patchnet_trains_and_is_served_with_its_heatmap")
    train(pairs, models_dir / "svm-toy", "--arch", "svm", "--image-size", "16",
          "--policy", "crops", "--max-crops", "4", "--families", "toy-ae")  # fmt: skip
    members = ["--members", "patch-toy", "svm-toy", "--data", str(pairs), "--quiet"]
    assert main(["ensemble", *members, "--output", str(models_dir / "ens-aligned"),
                 "--families", "toy-ae"]) == 0  # fmt: skip
    assert main(["ensemble", *members, "--output", str(models_dir / "ens-all")]) == 0
    # no data: equal weights, fitted on nothing; what it saw is what its members saw
    plain = ["ensemble", "--members", "patch-toy", "svm-toy", "--quiet"]
    assert main([*plain, "--output", str(models_dir / "ens-plain")]) == 0
    fitted = json.loads((models_dir / "ens-aligned" / "metadata.json").read_text())
    assert fitted["training_data"]["families"] == ["toy-ae"]
    assert "--families toy-ae" in fitted["command"]
    counts = fitted["training_data"]["counts"]["per_generator"]
    assert "toy-held" not in counts and counts["toy-ae"] > 0

    models = "ens-aligned,ens-all,ens-plain"
    argv = ["--data", str(pairs), "--models-dir", str(models_dir),
            "--models", models, "--out", str(tmp_path / "out")]  # fmt: skip
    assert heldout.main(argv) == 0
    res = json.loads((tmp_path / "out" / "heldout.json").read_text())["models"]
    assert res["ens-aligned"]["trained_families"] == ["toy-ae"]
    assert res["ens-plain"]["trained_families"] == ["toy-ae"]
    assert res["ens-aligned"]["per_family"]["toy-held"]["held_out"]
    n_held = sum(1 for s in list_samples(pairs) if s.family == "toy-held")
    assert res["ens-aligned"]["per_family"]["toy-held"]["n"] == n_held
    # fitted on every family: toy-held is no longer held out, only its test split is scored
    assert res["ens-all"]["trained_families"] == ["toy-ae", "toy-held"]
    assert not res["ens-all"]["per_family"]["toy-held"]["held_out"]

    registry = Registry(models_dir)
    before = heldout.model_digest(registry, "ens-aligned")
    assert before == heldout.model_digest(registry, "ens-aligned")
    meta = json.loads((models_dir / "ens-aligned" / "metadata.json").read_text())
    meta["members"][0]["weight"], meta["members"][1]["weight"] = 0.25, 0.75
    (models_dir / "ens-aligned" / "metadata.json").write_text(json.dumps(meta))
    assert heldout.model_digest(Registry(models_dir), "ens-aligned") != before
    # a member pooling its crops another way scores differently: a new key
    before = heldout.model_digest(Registry(models_dir), "patch-toy")
    path = models_dir / "patch-toy" / "metadata.json"
    original = path.read_text()
    meta = json.loads(original)
    meta["input"]["crops"]["aggregate"] = "top_logit"
    path.write_text(json.dumps(meta))
    try:
        assert heldout.model_digest(Registry(models_dir), "patch-toy") != before
    finally:
        path.write_text(original)


def test_a_family_added_after_training_is_held_out_even_if_a_pattern_matches():
    from aidetect_training.heldout import trained_families

    meta = {
        "training_data": {
            "families": ["taef2", "esrgan-*"],
            "counts": {"per_generator": {"taef2": 9, "esrgan-slim-x2": 3, "real": 9}},
        }
    }
    fams = ["esrgan-idealo-gans", "esrgan-slim", "sd1", "taef2"]
    gen2fam = {"esrgan-slim-x2": "esrgan-slim", "esrgan-idealo-gans": "esrgan-idealo-gans"}
    assert trained_families(meta, fams, gen2fam) == ["esrgan-slim", "taef2"]
    # counts not recorded: the patterns alone
    del meta["training_data"]["counts"]
    assert trained_families(meta, fams, gen2fam) == ["esrgan-idealo-gans", "esrgan-slim", "taef2"]


def test_init_from_starts_from_a_models_weights_and_records_it(pairs, tmp_path, capsys):
    """``--init-from``: the weights of a model of the same architecture and input are the
    start (zero epochs: the same scores), the source's digest is recorded, and a model
    that does not fit is refused before any training."""
    from aidetect.cli import main

    common = ("--arch", "patchnet", "--policy", "crops", "--image-size", "16", "--max-crops", "4")
    src = tmp_path / "src"
    src_meta = train(pairs, src, *common, "--seed", "1")
    out = tmp_path / "again"
    meta = train(pairs, out, *common, "--epochs", "0", "--seed", "2", "--init-from", str(src))
    assert meta["training"]["init_from"] == {
        "name": "src", "version": src_meta["version"], "sha256": src_meta["sha256"],
        "command": src_meta["command"],
    }  # fmt: skip
    assert f"--init-from {src}" in meta["command"]
    # a chain of runs keeps every link: the source's own source is recorded too
    third = train(pairs, tmp_path / "third", *common, "--epochs", "0", "--init-from", str(out))
    assert third["training"]["init_from"]["init_from"]["sha256"] == src_meta["sha256"]
    card = (tmp_path / "third" / "README.md").read_text()
    assert "started from the weights of again 1.0.0" in card
    assert f"which started from src 1.0.0 (SHA-256 {src_meta['sha256'][:12]}" in card
    registry = Registry(tmp_path)
    a, b = registry.load("src"), registry.load("again")
    sample = next(s for s in list_samples(pairs) if s.label == 1)
    pixels = np.asarray(Image.open(sample.path).convert("RGB"))
    batch, _ = preprocess(pixels, a.spec, heatmap_boxes(pixels.shape[1], pixels.shape[0], a.spec))
    np.testing.assert_allclose(a.predict_ai_proba(batch), b.predict_ai_proba(batch), atol=1e-6)
    # a fresh start with the other seed scores differently: the weights came from src
    fresh = train(pairs, tmp_path / "fresh", *common, "--epochs", "0", "--seed", "2")
    assert fresh["sha256"] != meta["sha256"]

    base = ["train", "--data", str(pairs), "--quiet", "--workers", "1", "--epochs", "0"]
    bad = tmp_path / "bad"
    wrong_size = [*common[:4], "--image-size", "32", "--output", str(bad)]
    assert main([*base, *wrong_size, "--init-from", str(src)]) == 2
    assert "input (crops 16px) differs" in capsys.readouterr().err
    assert main([*base, "--arch", "svm", "--output", str(bad), "--init-from", str(src)]) == 2


def test_threshold_holds_on_transformed_validation_reals():
    from aidetect_training.artifact import choose_threshold, choose_threshold_with_variants

    rng = np.random.default_rng(0)
    y = np.array([0] * 200 + [1] * 200)
    p = np.concatenate([rng.uniform(0.0, 0.6, 200), rng.uniform(0.4, 1.0, 200)])
    plain = choose_threshold(y, p, 0.05)
    assert choose_threshold_with_variants(y, p, 0.05, {}) == plain
    # a variant whose reals score higher (say, resized photos) raises the threshold until
    # the target holds on it too, and the band stays around the threshold
    shifted = np.clip(p[:200] + 0.2, 0, 1)
    t, (lo, hi), rule = choose_threshold_with_variants(y, p, 0.05, {"downscale50": shifted})
    assert t > plain[0] and lo <= t <= hi
    assert (shifted >= t).mean() <= 0.05 and (p[:200] >= t).mean() <= 0.05
    assert (shifted >= t - 1e-3).mean() > 0.05  # the lowest such threshold, not any
    pooled = np.concatenate([p[:200], shifted])
    assert (pooled >= hi).mean() <= 0.01 < (pooled >= hi - 1e-3).mean()
    assert "downscale50" in rule and "400 originals and copies pooled" in rule
    # a variant whose reals score lower leaves the threshold alone
    t2, _, _ = choose_threshold_with_variants(y, p, 0.05, {"jpeg75": p[:200] * 0.5})
    assert t2 == plain[0]
    # three copies of one photo far above the rest: they decide the threshold's variant
    # only as far as the target allows, and do not stretch the band's upper edge to them
    odd = p[:200] * 0.5
    odd[:3] = 0.99
    t3, (_, hi3), _ = choose_threshold_with_variants(y, p, 0.05, {"downscale50": odd})
    assert t3 == plain[0] and hi3 < 0.99
    worst_variant_edge = choose_threshold(np.zeros(200, int), odd, 0.01)[0]
    assert worst_variant_edge > 0.99 > hi3  # what the rule before pooling would have given


def test_threshold_variants_through_the_run_path(pairs, tmp_path):
    out = tmp_path / "robust-toy"
    meta = train(
        pairs, out, "--arch", "patchnet", "--policy", "crops", "--image-size", "16",
        "--max-crops", "4", "--threshold-variants", "jpeg75,downscale50",
    )  # fmt: skip
    assert "--threshold-variants jpeg75,downscale50" in meta["command"]
    assert "jpeg75, downscale50 copies" in meta["threshold_rule"]
    val = meta["metrics"]["validation"]
    n_reals = val["counts"]["real"]
    assert set(val["variant_fpr"]) == {"jpeg75", "downscale50"}
    for v in val["variant_fpr"].values():
        assert v["n"] == n_reals and v["false_positive_rate"] <= 0.05
    assert val["false_positive_rate"] <= 0.05
    from aidetect.cli import main

    bad = ["train", "--data", str(pairs), "--arch", "svm", "--output", str(tmp_path / "x")]
    assert main([*bad, "--threshold-variants", "sepia"]) == 2  # a usage error, before training


def test_heldout_data_section_says_how_each_fake_was_compressed(tmp_path):
    """The report's data paragraph reads the corpus summary: aligned pairs by codec, the
    rescaled (clean) real crops, and how many SR fakes were compression-matched, or that
    an older corpus did not match them."""
    from aidetect_training.heldout import docs_section

    summary = {
        "seed": 0,
        "crop": 256,
        "per_family": {"real": {"test": 3}, "taef2": {"test": 3}},
        "aligned": {"pairs": 10, "jpeg_matched_pairs": 4, "webp_matched_pairs": 3,
                    "lossless_pairs": 3},
        "rescaled_copies": {"factor": 0.5, "crops": 2},
        "super_resolution": {"fakes": 6, "compression_matched": 5},
        "added_families": [{"fakes": 4, "compression_matched": 3}],
    }  # fmt: skip
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    text = docs_section({}, "cmd", tmp_path)
    assert "Aligned pairs: 10 (4 JPEG-matched" in text and "3 lossy-WebP-matched" in text
    assert "downscaled by 0.5 (LANCZOS): 2" in text and "their 3 aligned" in text
    assert "Super-resolution fakes: 8 of 10 compressed like their source" in text
    del summary["super_resolution"], summary["rescaled_copies"]
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    text = docs_section({}, "cmd", tmp_path)
    assert "stored losslessly whatever their source" in text and "downscaled" not in text


def test_goal_line_says_when_a_small_jpeg_drop_is_no_robustness():
    """A JPEG 75 drop within the goal counts as met, but from a near-chance ROC-AUC (under
    0.7 as stored) the line says there was little to lose; missing figures are "not
    measured", not met."""
    from aidetect_training.heldout import goal_line

    result = {"heldout_genuine_mean_roc_auc": 0.91, "false_positive_rate": 0.02}

    def robustness(stored: float, jpeg75: float) -> dict:
        rows = {"original": {"roc_auc": stored, "auc_drop": 0.0, "false_positive_rate": 0.02}}
        rows["jpeg75"] = {
            "roc_auc": jpeg75, "auc_drop": stored - jpeg75, "false_positive_rate": 0.07,
            "by_kind": {"text-to-image": {"auc_drop": 0.2}},
        }  # fmt: skip
        return {"models": {"m": {"variants": rows}}}

    robust = goal_line("m", result, robustness(0.95, 0.93))
    assert "drop after JPEG 75 0.020 (goal <= 0.05: met)" in robust
    assert "little to lose" not in robust
    assert "text-to-image test crops alone 0.200" in robust
    assert "worst FPR on transformed real test crops 0.070 (jpeg75)" in robust
    chance = goal_line("m", result, robustness(0.55, 0.53))
    assert "(goal <= 0.05: met; but from a ROC-AUC of 0.550 as stored there was little" in chance
    fragile = goal_line("m", result, robustness(0.95, 0.70))
    assert "(goal <= 0.05: missed)" in fragile and "little to lose" not in fragile
    unmeasured = goal_line("m", result, None)
    assert "drop after JPEG 75 n/a (goal <= 0.05: not measured)" in unmeasured
    assert "held-out mean ROC-AUC 0.910 (goal 0.9: met)" in unmeasured


def test_coarse_branch_grows_from_a_plain_patchnet_and_is_served(pairs, tmp_path, capsys):
    """``--patchnet-coarse 2``: a branch on the patch pooled 2x, joined through a
    zero-initialised projection; grown from a plain patchnet with ``--init-from`` it
    scores exactly as its source (zero epochs), records the new layers, trains, and
    loads through the serving registry. A plain patchnet cannot start from it."""
    from aidetect.cli import main
    from aidetect_training.patchnet import build_patchnet

    common = ("--arch", "patchnet", "--policy", "crops", "--image-size", "16", "--max-crops", "4")
    src = tmp_path / "plain"
    train(pairs, src, *common, "--seed", "1")
    grown = tmp_path / "grown"
    meta = train(
        pairs, grown, *common, "--epochs", "0", "--patchnet-coarse", "2", "--init-from", str(src)
    )
    assert "--patchnet-coarse 2" in meta["command"]
    new = meta["training"]["init_from"]["new_layers"]
    assert "coarse_proj" in new and all(n.startswith("coarse_") for n in new)
    registry = Registry(tmp_path)
    a, b = registry.load("plain"), registry.load("grown")
    assert b.estimator.count_params() > a.estimator.count_params()
    samples = [s for s in list_samples(pairs) if s.split == "test"]
    for s in samples[:4]:
        pixels = np.asarray(Image.open(s.path).convert("RGB"))
        batch, _ = preprocess(
            pixels, a.spec, heatmap_boxes(pixels.shape[1], pixels.shape[0], a.spec)
        )
        np.testing.assert_allclose(a.predict_ai_proba(batch), b.predict_ai_proba(batch), atol=1e-6)
    # trained, the branch moves off zero and the model still loads and scores
    trained = train(pairs, tmp_path / "trained", *common, "--epochs", "1", "--patchnet-coarse", "2",
                    "--init-from", str(src))  # fmt: skip
    model = Registry(tmp_path).load("trained")
    proj = model.estimator.get_layer("coarse_proj").get_weights()[0]
    assert np.abs(proj).sum() > 0 and trained["training"]["coarse"] == 2
    # the other way round does not fit: the plain model has no place for the branch
    base = ["train", "--data", str(pairs), "--quiet", "--workers", "1", "--epochs", "0"]
    out = ["--output", str(tmp_path / "bad"), "--init-from", str(grown)]
    assert main([*base, *common, *out]) == 2
    assert "no layer" in capsys.readouterr().err
    # --freeze-init: the copied layers stay as they were, only the branch trains
    frozen = train(pairs, tmp_path / "frozen", *common, "--epochs", "1", "--patchnet-coarse", "2",
                   "--init-from", str(src), "--freeze-init")  # fmt: skip
    assert (
        frozen["training"]["init_from"]["frozen"] is True and "--freeze-init" in frozen["command"]
    )
    f_model, plain = Registry(tmp_path).load("frozen"), a.estimator
    for layer in plain.layers:
        for w_src, w_new in zip(
            layer.get_weights(), f_model.estimator.get_layer(layer.name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(w_src, w_new)
    assert np.abs(f_model.estimator.get_layer("coarse_proj").get_weights()[0]).sum() > 0
    assert main([*base, *common, "--output", str(tmp_path / "bad2"), "--freeze-init"]) == 2
    assert "--freeze-init" in capsys.readouterr().err
    same = ["--output", str(tmp_path / "bad3"), "--init-from", str(src), "--freeze-init"]
    assert main([*base, *common, *same]) == 2
    assert "nothing would train" in capsys.readouterr().err
    with pytest.raises(ValueError, match="0 \\(no branch\\), 2 or 4"):
        build_patchnet(16, coarse=3)
    with pytest.raises(SystemExit) as refused:  # refused by the parser, before any data
        main([*base, *common, "--output", str(tmp_path / "bad4"), "--patchnet-coarse", "3"])
    assert refused.value.code == 2 and "invalid choice: 3" in capsys.readouterr().err
