"""The scope check: pictures no pixel model can judge get ``out_of_scope``, never ``real``."""

from __future__ import annotations

import time

import numpy as np
import pytest

from aidetect.inference import Detector
from aidetect.registry import Registry
from aidetect.scope import check_scope, measure
from tests.provenance.support import png_with_text
from tests.support import images

EXAMPLES = images.out_of_scope_examples()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_out_of_scope_pictures_are_named(name):
    rule, pixels = EXAMPLES[name]
    found = check_scope(pixels)
    assert found is not None and found.rule == rule, (name, measure(pixels))
    assert found.reason


def natural(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth shapes, edges and sensor noise: what a camera photograph looks like."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack(
        [
            128 + 60 * np.sin(xx / 97) + 40 * np.cos(yy / 63),
            110 + 50 * np.sin((xx + yy) / 151),
            90 + 30 * np.cos(xx / 41),
        ],
        -1,
    )
    rgb[h // 3 : h // 2, w // 4 : w // 2] += 70  # an object with edges
    return np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("h", "w"), [(64, 64), (480, 640), (1200, 300), (3000, 4000)])
def test_photographs_are_in_scope(h, w):
    assert check_scope(natural(h, w)) is None
    assert check_scope(images.photo_like(max(96, w // 4), max(64, h // 4))) is None


def test_a_photo_with_a_noisy_half_is_still_judged():
    """Part noise, part photo: the heatmap's test picture must get a pixel verdict."""
    pixels = natural(480, 640)
    rng = np.random.default_rng(1)
    pixels[:, 320:] = rng.integers(0, 256, (480, 320, 3), dtype=np.uint8)
    assert check_scope(pixels) is None


def test_the_check_is_cheap_at_12_megapixels():
    photo = natural(3000, 4000)
    check_scope(photo)
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        check_scope(photo)
        runs.append(time.perf_counter() - t)
    assert sorted(runs)[2] < 0.1, runs  # about 10 ms measured on a busy 2-core machine


@pytest.fixture(scope="module")
def detector(tiny_models):
    return Detector(Registry(tiny_models), provenance=True)


@pytest.mark.parametrize("name", ["dot_1x1", "flat_grey", "cartoon", "uniform_noise"])
def test_the_detector_answers_out_of_scope_with_the_score(detector, name):
    rule, pixels = EXAMPLES[name]
    res = detector.detect(images.png(pixels), "tiny-svm")
    assert res.verdict == "out_of_scope"
    assert res.decision.rule == f"out_of_scope_{rule}" and res.decision.out_of_scope_reason
    assert 0.0 <= res.ai_probability <= 1.0  # still reported, for the curious
    (batch,) = detector.detect_many([images.png(pixels)], "tiny-svm")
    assert batch.verdict == "out_of_scope" and batch.decision.rule == res.decision.rule


def test_strong_ai_provenance_still_decides_out_of_scope_pictures(detector):
    data = png_with_text({"parameters": "a flat square\nSteps: 20, Sampler: Euler a, Seed: 1"})
    res = detector.detect(data, "tiny-svm")
    assert res.verdict == "ai_generated" and res.decision.rule == "strong_ai_provenance"
    assert res.decision.out_of_scope_reason  # the scope finding is still told
