from __future__ import annotations

import numpy as np
import pytest

from aidetect.imaging import decode_image
from aidetect.inference import Detector, combine_members, score_pixels
from aidetect.preprocess import aggregate, preprocess
from aidetect.registry import Registry
from tests.support import images
from tests.support.tiny_models import toy_images


@pytest.fixture(scope="module")
def detector(tiny_models):
    return Detector(Registry(tiny_models), provenance=False)


def test_keras_answer_equals_direct_predict(detector):
    x, _ = toy_images(2, 80, seed=3)
    loaded = detector.resolve("tiny-cnn")
    data = images.png(x[1])
    res = detector.detect(data, "tiny-cnn")
    batch, _ = preprocess(decode_image(data).pixels, loaded.spec)
    direct = np.asarray(loaded.estimator.predict(batch, verbose=0)).ravel()
    assert len(batch) == 4  # 80x80 in 32-px crops: a 3x3 grid, capped at the spec's max_crops=4
    assert res.ai_probability == pytest.approx(aggregate(direct, loaded.spec), abs=1e-6)


def test_sklearn_answer_equals_direct_predict(detector):
    x, _ = toy_images(2, 32, seed=4)
    loaded = detector.resolve("tiny-svm")
    res = detector.detect(images.png(x[0]), "tiny-svm")
    batch, _ = preprocess(x[0], loaded.spec)
    assert res.ai_probability == pytest.approx(loaded.estimator.predict_proba(batch)[0, 1])


def test_models_learned_the_toy_task(detector):
    x, y = toy_images(8, 32, seed=11)
    for name in ("tiny-cnn", "tiny-svm", "tiny-ensemble"):
        scores = [s.ai_probability for s in score_pixels(detector.resolve(name), list(x))]
        assert np.mean(np.array(scores)[y == 1]) > np.mean(np.array(scores)[y == 0]) + 0.3, name


def test_ensemble_is_the_weighted_mean_of_members(detector):
    x, _ = toy_images(2, 32, seed=12)
    ens = detector.resolve("tiny-ensemble")
    (score,) = score_pixels(ens, [x[1]])
    member_probs = [m.ai_probability for m in score.members]
    assert len(member_probs) == 2
    assert score.ai_probability == pytest.approx(np.mean(member_probs))
    assert combine_members(ens, [1.0, 0.0]) == pytest.approx(0.5)


def test_batch_equals_single_and_keeps_errors_in_place(detector):
    x, _ = toy_images(2, 32, seed=13)
    items = [images.png(x[0]), b"not an image", images.png(x[1])]
    out = detector.detect_many(items, "tiny-ensemble")
    assert [type(r).__name__ for r in out] == [
        "DetectionResult",
        "UnsupportedImageTypeError",
        "DetectionResult",
    ]
    single = detector.detect(items[2], "tiny-ensemble")
    assert out[2].ai_probability == pytest.approx(single.ai_probability, abs=1e-6)


def test_heatmap_is_a_small_png_with_the_image_aspect(detector):
    import base64
    import io

    from PIL import Image

    res = detector.detect(images.png(images.photo_like(200, 100)), "tiny-ensemble", heatmap=True)
    assert res.heatmap.startswith("data:image/png;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(res.heatmap.split(",", 1)[1])))
    assert img.mode == "RGBA" and img.size == (64, 32)


def test_exif_rotation_gives_the_upright_answer(detector):
    upright = images.photo_like(64, 40, seed=2)
    a = detector.detect(images.png(upright), "tiny-svm").ai_probability
    b = detector.detect(images.exif_rotated_jpeg(upright), "tiny-svm").ai_probability
    c = detector.detect(images.encode(upright, "JPEG", quality=100, subsampling=0), "tiny-svm")
    assert b == pytest.approx(c.ai_probability, abs=0.02)
    assert a == pytest.approx(b, abs=0.05)


def test_threshold_override(tiny_models):
    det = Detector(Registry(tiny_models), provenance=False, threshold_override=0.0)
    res = det.detect(images.png(), "tiny-cnn")
    assert res.verdict == "ai_generated" and res.decision.threshold == 0.0


def test_detector_from_settings(tiny_models):
    from aidetect.settings import Settings

    settings = Settings(models_dir=tiny_models, max_bytes=1234, threshold=0.3, provenance=False)
    det = Detector.from_settings(settings)
    assert det.registry.root == tiny_models.resolve() and det.limits.max_bytes == 1234
    assert det.threshold_override == 0.3 and det.provenance is False
    assert Detector.from_settings(settings, provenance=True).provenance is True


def test_decision_is_the_band_verdicts_use(detector, tiny_models):
    """``Detector.decision`` (what GET /models shows) equals the decision in a result."""
    for name in ("tiny-cnn", "tiny-svm", "tiny-ensemble"):
        loaded = detector.resolve(name)
        res = detector.detect(images.png(), name)
        assert detector.decision(loaded) == (res.decision.threshold, res.decision.uncertain_band)
    det = Detector(Registry(tiny_models), provenance=False, threshold_override=0.7)
    assert det.decision(det.resolve("tiny-cnn")) == (0.7, (0.7, 0.7))


def test_score_files_keeps_order_and_reports_unreadable_files(detector, tmp_path):
    good = tmp_path / "a.png"
    good.write_bytes(images.png())
    (tmp_path / "bad.png").write_bytes(b"not an image")
    paths = [good, tmp_path / "missing.png", tmp_path / "bad.png", good]
    out = list(detector.score_files(paths, "tiny-svm", batch_size=2))
    assert [p for p, _ in out] == paths
    kinds = [getattr(r, "code", "ok") for _, r in out]
    assert kinds[0] == kinds[3] == "ok" and kinds[2] == "unsupported_media_type"
    assert out[1][1].code == "file_not_found" and "missing.png does not exist" in out[1][1].detail


def test_the_heatmap_says_which_part_scored_highest():
    from aidetect.inference import describe_heat

    heat = np.full((30, 60), 0.1)
    heat[:, 30:] = 0.85  # right half
    covered = np.ones_like(heat, bool)
    assert describe_heat(heat, covered) == (
        "The right side scored highest (85% likely AI-generated); the left side lowest (10%)."
    )
    heat[:] = 0.1
    heat[:10, :20] = 0.9
    assert describe_heat(heat, covered).startswith("The top left scored highest (90%")
    heat[:] = 0.4
    heat[0, 0] = 0.45
    assert describe_heat(heat, covered).startswith("Scores are similar across the picture")
    assert (
        describe_heat(heat, np.zeros_like(covered)) == "No region of the picture could be scored."
    )


def test_heatmap_comes_with_its_summary(detector):
    res = detector.detect(images.png(images.photo_like(200, 100)), "tiny-ensemble", heatmap=True)
    assert res.heatmap and res.heatmap_summary and "%" in res.heatmap_summary
    assert detector.detect(images.png(), "tiny-svm").heatmap_summary is None
