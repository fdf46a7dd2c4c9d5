"""Splits, class weights, augmentation and the streaming loader (no model training)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from aidetect.datasets import Sample, list_samples
from aidetect.features import residual_features
from aidetect.imaging import decode_file
from aidetect.preprocess import InputSpec, preprocess
from aidetect_training.data import (
    AUGMENTATIONS,
    ImageDataset,
    augment_pixels,
    class_weights,
    iterate,
    parse_augment,
    split_samples,
    subset,
)


@pytest.mark.parametrize("layout", ["folders", "cifake", "manifest", "artifact"])
def test_every_layout_lists_and_splits(datasets, layout):
    samples = list_samples(datasets[layout])
    assert len(samples) >= 32
    split = split_samples(samples, 0.2, 0.2, seed=0)
    assert {s.split for s in split} <= {"train", "val", "test"}
    assert [s.path for s in split] == [s.path for s in samples]  # order kept
    assert {s.label for s in split if s.split == "train"} == {0, 1}


def test_splits_are_deterministic_and_seeded(datasets):
    samples = list_samples(datasets["folders"])
    a = split_samples(samples, seed=7)
    b = split_samples(samples, seed=7)
    c = split_samples(samples, seed=8)
    assert a == b
    assert [s.split for s in a] != [s.split for s in c]


def test_split_of_a_sample_does_not_change_when_data_grows():
    many = [Sample(path=f"/d/{i}.png", label=i % 2) for i in range(400)]  # type: ignore[arg-type]
    small = split_samples(many[:100], seed=3)
    large = split_samples(many, seed=3)
    assert [s.split for s in small] == [s.split for s in large[:100]]
    fractions = {k: sum(s.split == k for s in large) / 400 for k in ("train", "val", "test")}
    assert 0.6 < fractions["train"] < 0.8 and 0.08 < fractions["test"] < 0.22


def test_splits_keep_a_source_together(datasets):
    samples = list_samples(datasets["manifest"])
    assert all(s.source_id for s in samples)
    for seed in range(5):
        by_source = defaultdict(set)
        for s in split_samples(samples, 0.25, 0.25, seed=seed):
            by_source[s.source_id].add(s.split)
        assert all(len(v) == 1 for v in by_source.values())


def test_existing_splits_are_respected(datasets):
    samples = list_samples(datasets["cifake"])
    split = split_samples(samples, 0.15, 0.15, seed=0)
    for before, after in zip(samples, split, strict=True):
        if before.split == "test":
            assert after.split == "test"
        else:  # CIFAKE has no val folder: val is carved out of train only
            assert after.split in ("train", "val")
    assert any(s.split == "val" for s in split)


def test_class_weights_are_inverse_to_class_size():
    samples = [Sample(path=f"{i}", label=int(i < 10)) for i in range(40)]  # type: ignore[arg-type]
    w = class_weights(samples)
    assert w == {0: pytest.approx(40 / (2 * 30)), 1: pytest.approx(40 / (2 * 10))}
    # each class then weighs the same in the loss
    assert 30 * w[0] == pytest.approx(10 * w[1])


def test_subset_is_stable():
    samples = [Sample(path=f"{i}", label=i % 2) for i in range(50)]  # type: ignore[arg-type]
    assert subset(samples, 10, 1) == subset(samples, 10, 1)
    assert len(subset(samples, 10, 1)) == 10


def test_parse_augment():
    assert parse_augment("none") == ()
    assert parse_augment("blur, flip") == ("flip", "blur")
    assert parse_augment("all") == tuple(a for a in AUGMENTATIONS if a != "jpeg-all")
    assert parse_augment("flip,jpeg-all") == ("flip", "jpeg-all")
    with pytest.raises(ValueError, match="sharpen"):
        parse_augment("flip,sharpen")


@pytest.mark.parametrize("op", AUGMENTATIONS)
def test_each_augmentation_keeps_shape_and_type(op):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (37, 45, 3), dtype=np.uint8)
    for seed in range(4):
        out = augment_pixels(img, (op,), np.random.default_rng(seed))
        if op == "rescale":  # resizes the whole image by 0.5-1.5, aspect ratio kept
            assert out.shape[2] == 3 and out.dtype == np.uint8
            assert abs(out.shape[1] / out.shape[0] - 45 / 37) < 0.1
            continue
        assert out.shape == img.shape and out.dtype == np.uint8
    if op == "rescale":
        sizes = {augment_pixels(img, (op,), np.random.default_rng(s)).shape for s in range(8)}
        assert len(sizes) > 1  # it does resize


def test_jpeg_all_resaves_every_image_alike_for_a_pair():
    from aidetect.imaging import jpeg_roundtrip
    from aidetect_training.data import JPEG_QUALITY_ALL

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    lo, hi = JPEG_QUALITY_ALL
    for seed in range(12):
        out = augment_pixels(img, ("jpeg-all",), np.random.default_rng(seed))
        assert not np.array_equal(out, img)  # every image, not a share of them
        (q,) = [q for q in range(lo, hi + 1) if np.array_equal(out, jpeg_roundtrip(img, q))][:1]
        # the other member of an aligned pair (its generator in the same state): same quality
        other = augment_pixels(255 - img, ("jpeg-all",), np.random.default_rng(seed))
        np.testing.assert_array_equal(other, jpeg_roundtrip(255 - img, q))


def test_loader_without_augmentation_is_exactly_preprocess(datasets):
    samples = list_samples(datasets["folders"])[:10]
    spec = InputSpec(policy="resize", size=24, scale="unit")
    ds = ImageDataset(samples, spec, batch_size=4, class_weight={0: 1.0, 1: 3.0})
    x, y, w = ds[0]
    assert x.shape == (4, 24, 24, 3) and x.dtype == np.float32
    expect = preprocess(decode_file(samples[0].path).pixels, spec)[0][0]
    np.testing.assert_array_equal(x[0], expect)
    assert list(w) == [3.0 if v else 1.0 for v in y]
    assert len(ds) == 3 and len(ds[2][0]) == 2


def test_crops_policy_rows_are_native_resolution_crops(datasets):
    samples = list_samples(datasets["artifact"])[:6]
    spec = InputSpec(policy="crops", size=16, scale="raw")
    ds = ImageDataset(samples, spec, batch_size=6, augment=("crop",), seed=1)
    x, _ = ds[0]
    assert x.shape == (6, 16, 16, 3)
    pixels = decode_file(samples[0].path).pixels
    # the row is one of the image's 16x16 windows, unscaled and unresized
    h, w = pixels.shape[:2]
    windows = [
        pixels[t : t + 16, left : left + 16] for t in range(h - 15) for left in range(w - 15)
    ]
    assert any(np.array_equal(x[0], win.astype(np.float32)) for win in windows)


def test_loader_rows_depend_on_seed_and_epoch_only(datasets):
    samples = list_samples(datasets["folders"])
    spec = InputSpec(policy="resize", size=32, scale="raw")
    kw = {"augment": ("flip", "jpeg", "blur", "crop"), "shuffle": True, "seed": 5}
    a, b = ImageDataset(samples, spec, 8, **kw), ImageDataset(samples, spec, 8, **kw)
    np.testing.assert_array_equal(a[1][0], b[1][0])
    first = a[1][0]
    a.on_epoch_end()
    assert not np.array_equal(a[1][0], first)  # a new epoch: new order and augmentation
    # the parallel pass gives the same batches, in order
    serial = [x for x, _ in iterate(b, 1)]
    parallel = [x for x, _ in iterate(ImageDataset(samples, spec, 8, **kw), 2)]
    for s, p in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(s, p)


def test_vectorised_histograms_equal_numpy_histogram():
    from aidetect.features import _histograms16

    rng = np.random.default_rng(0)
    values = np.clip(rng.normal(0, 8, (16, 500)), -16, 16)
    values[0, :3] = [-16.0, 16.0, 0.0]  # both edges and the centre
    expected = np.stack([np.histogram(row, bins=16, range=(-16, 16))[0] for row in values])
    np.testing.assert_array_equal(_histograms16(values), expected)
    assert residual_features(rng.integers(0, 256, (2, 32, 32, 3)).astype(np.float32)).shape == (
        2,
        247,
    )
