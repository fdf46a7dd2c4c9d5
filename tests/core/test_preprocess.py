from __future__ import annotations

import numpy as np
import pytest

from aidetect.preprocess import (
    InputSpec,
    aggregate,
    grid_boxes,
    heatmap_boxes,
    model_boxes,
    preprocess,
)


def test_resize_policy_takes_the_whole_image_and_scales():
    pixels = np.full((50, 100, 3), 255, np.uint8)
    spec = InputSpec(policy="resize", size=32, scale="unit")
    batch, boxes = preprocess(pixels, spec)
    assert batch.shape == (1, 32, 32, 3) and batch.dtype == np.float32
    assert boxes == [(0, 0, 100, 50)]
    assert np.allclose(batch, 1.0)


def test_crops_are_native_resolution_never_resized():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    spec = InputSpec(policy="crops", size=128, scale="raw")
    batch, boxes = preprocess(pixels, spec)
    assert batch.shape[1:] == (128, 128, 3)
    for row, (left, top, right, bottom) in zip(batch, boxes, strict=True):
        np.testing.assert_array_equal(row, pixels[top:bottom, left:right].astype(np.float32))


def test_crops_cover_the_whole_image():
    boxes = grid_boxes(1000, 600, 256, 16)
    covered = np.zeros((600, 1000), bool)
    for left, top, right, bottom in boxes:
        covered[top:bottom, left:right] = True
    assert covered.all()
    assert len(boxes) <= 16


@pytest.mark.parametrize(("w", "h", "n"), [(4000, 3000, 16), (5000, 300, 9), (300, 5000, 4)])
def test_crop_count_is_bounded(w, h, n):
    assert 1 <= len(grid_boxes(w, h, 256, n)) <= n


def test_small_images_are_padded_by_mirroring():
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    batch, _ = preprocess(pixels, InputSpec(policy="crops", size=8))
    assert batch.shape == (1, 8, 8, 3)
    np.testing.assert_array_equal(batch[0, :2, :3], pixels)
    np.testing.assert_array_equal(batch[0, 2, :3], pixels[1])  # symmetric padding


def test_heatmap_boxes_for_each_policy():
    assert len(heatmap_boxes(800, 400, InputSpec(policy="resize", size=32))) == 32
    crops = InputSpec(policy="crops", size=128)
    assert len(heatmap_boxes(800, 400, crops)) >= len(model_boxes(800, 400, crops))


def test_aggregate_rules():
    spec = InputSpec(policy="crops", size=32)
    assert aggregate(np.array([0.5, 0.5]), spec) == pytest.approx(0.5)
    assert aggregate(np.array([0.9, 0.1]), spec) == pytest.approx(0.5)
    assert aggregate(np.array([0.99, 0.9]), spec) > 0.9
    assert (
        aggregate(
            np.array([0.2, 0.8]), InputSpec(policy="crops", size=32, crops={"aggregate": "max"})
        )
        == 0.8
    )


def test_top_logit_pools_the_most_ai_looking_share_of_crops():
    from aidetect.preprocess import logit, sigmoid

    probs = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.95])
    top = InputSpec(policy="crops", size=32, crops={"aggregate": "top_logit"})
    # a quarter of 8 crops: the two highest
    assert aggregate(probs, top) == pytest.approx(float(sigmoid(logit(probs[-2:]).mean())))
    # order does not matter; a fraction is rounded up to whole crops, at least one
    assert aggregate(probs[::-1], top) == pytest.approx(aggregate(probs, top))
    third = InputSpec(
        policy="crops", size=32, crops={"aggregate": "top_logit", "top_fraction": 0.3}
    )
    assert aggregate(probs, third) == pytest.approx(float(sigmoid(logit(probs[-3:]).mean())))
    one = InputSpec(policy="crops", size=32, crops={"aggregate": "top_logit", "top_fraction": 0.01})
    assert aggregate(probs, one) == pytest.approx(0.95)
    everything = {"aggregate": "top_logit", "top_fraction": 1.0}
    mean = InputSpec(policy="crops", size=32)
    assert aggregate(probs, InputSpec(policy="crops", size=32, crops=everything)) == pytest.approx(
        aggregate(probs, mean)
    )
    # a few AI-looking crops move it more than the mean of all
    assert aggregate(probs, top) > aggregate(probs, mean)
    with pytest.raises(ValueError):
        InputSpec(policy="crops", size=32, crops={"aggregate": "top_logit", "top_fraction": 0})


def test_rejects_non_rgb_uint8():
    with pytest.raises(ValueError):
        preprocess(np.zeros((4, 4), np.uint8), InputSpec(policy="resize", size=8))
