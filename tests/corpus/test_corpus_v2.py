"""corpus-v2: TAEF2 round trips (aligned fakes), genuine generator crops, JPEG matching.

Runs offline on the photos installed with the project (scikit-learn, matplotlib), a
generated-pictures folder made in code, and TAEF2 state dicts of the right shapes with
random values (so the real network code runs without the weights). When the real TAEF2
weights are beside the project (``../shared/weights/taef2``), their reconstructions are
also checked for faithfulness.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect.corpus import build as v1
from aidetect.corpus import v2
from aidetect.corpus.taef2 import NPZ_FILES, TAEF2, psnr, random_state_dicts
from aidetect.datasets import list_samples
from aidetect.imaging import jpeg_roundtrip

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CROP = 64


def _photo(seed: int, h: int = 200, w: int = 260) -> np.ndarray:
    """A textured, photo-like test picture made in code."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 60 * np.sin(xx / (7 + seed)) * np.cos(yy / 11)
    img = np.stack([base, base * 0.8 + 30, 255 - base], -1) + rng.normal(0, 6, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def taef2_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("taef2")
    for name, state in zip(NPZ_FILES, random_state_dicts(0), strict=True):
        np.savez(d / name, **state)
    return d


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("generated")
    rows = []
    for i, (folder, family, content) in enumerate(
        [("sd1.x", "sd1", "photo"), ("sd1.x", "sd1", "photo"), ("flux1-dev", "flux1", "art")]
    ):
        (d / folder).mkdir(exist_ok=True)
        f = f"{folder}/pic{i}.webp"
        # pictures 0 and 1 are near-duplicates (a seed series): they must share a split
        Image.fromarray(_photo(100 if i < 2 else 7, 192, 192)).save(d / f, lossless=True)
        rows.append([f, f"model {folder}", folder, family, content, 192, 192, "PNG"])
    with open(d / "catalog.tsv", "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["file", "generator", "folder", "family", "content", "width", "height", "x"])
        w.writerows(rows)
    return d


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, taef2_dir, generated_dir, slim_package, npm_cache) -> Path:
    out = tmp_path_factory.mktemp("corpus-v2")
    shared = tmp_path_factory.mktemp("shared")
    (shared / "data").mkdir()
    (shared / "data" / "generated").symlink_to(generated_dir)
    (shared / "weights").mkdir()
    (shared / "weights" / "taef2").symlink_to(taef2_dir)
    # a camera photo that reached us as a lossy WebP (as half of corpus-v2's sources did)
    (shared / "data" / "real").mkdir()
    Image.fromarray(_photo(7)).save(shared / "data" / "real" / "lossy.webp", quality=55)
    v2.build_corpus_v2(
        out,
        shared,
        sources="installed",
        crop=CROP,
        max_crops_per_photo=3,
        max_crops_per_generated=2,
        sr_families="esrgan-slim-x2",
        sr_per_real=0.5,
        npm_cache=npm_cache,
        workers=1,
        rescaled=0.5,
    )
    return out


def test_network_shapes_and_sizes():
    model = TAEF2.from_state_dicts(*random_state_dicts(1))
    img = _photo(3, 37, 50)  # not a multiple of 8: padded, then cut back
    out = model.reconstruct(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    with pytest.raises(ValueError):
        model.reconstruct_batch(np.zeros((1, 30, 32, 3), np.uint8))


@pytest.mark.skipif(
    not all((SHARED / "weights" / "taef2" / f).is_file() for f in NPZ_FILES),
    reason="the TAEF2 weights are not beside the project (../shared/weights/taef2)",
)
def test_real_weights_reconstruct_faithfully():
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    img = np.asarray(Image.open(path).convert("RGB"))
    model = TAEF2.load(SHARED)
    out = model.reconstruct(img)
    # measured 30.7 dB on this photo; a wrong padding or weight layout gives < 20 dB
    assert psnr(img, out) > 28.0
    assert not np.array_equal(out, img)


@pytest.mark.parametrize("quality", [35, 75, 90, 95])
def test_jpeg_quality_estimate(tmp_path, quality):
    p = tmp_path / "q.jpg"
    Image.fromarray(_photo(1)).save(p, quality=quality)
    assert v1.source_codec(p) == ("JPEG", quality)
    png = tmp_path / "q.png"
    Image.fromarray(_photo(1)).save(png)
    assert v1.source_codec(png) is None
    webp = tmp_path / "q.webp"
    Image.fromarray(_photo(1)).save(webp, quality=quality)
    fmt, q = v1.source_codec(webp)
    assert fmt == "WEBP" and abs(q - quality) <= 6


def test_manifest_has_families_pairs_and_content(corpus):
    samples = list_samples(corpus)
    fams = {s.family for s in samples}
    assert {"real", "taef2", "esrgan-slim", "sd1", "flux1"} <= fams
    reals = {s.pair_id: s for s in samples if s.label == 0}
    aligned = [s for s in samples if s.family == "taef2"]
    assert len(aligned) == len(reals)  # every real crop has its round trip
    for fake in aligned:
        real = reals[fake.pair_id]
        assert fake.split == real.split and fake.source_id == real.source_id
        a, b = Image.open(fake.path), Image.open(real.path)
        assert a.size == b.size == (CROP, CROP)
        assert a.format == b.format == "PNG" and a.mode == b.mode == "RGB"
        assert not a.info and not b.info  # no metadata in either class
    art = [s for s in samples if s.family == "flux1"]
    assert art and all(s.content == "art" for s in art)


def test_no_source_in_two_splits(corpus):
    splits = defaultdict(set)
    for s in list_samples(corpus):
        splits[s.source_id].add(s.split)
    assert all(len(v) == 1 for v in splits.values())
    # the near-duplicate generated pictures form one series (one source id)
    gen = {s.source_id for s in list_samples(corpus) if s.family == "sd1"}
    assert len(gen) == 1


def test_aligned_fakes_are_compression_matched_to_their_source(corpus, taef2_dir, installed_codecs):
    """sklearn's photos are JPEGs, the shared one a lossy WebP: each aligned fake is the
    real crop's round trip, compressed like its source photo (JPEG at its quality, lossy
    WebP at the quality that reproduces its quantisers; one compression, like the real
    crop), then stored as PNG like every file of the corpus."""
    import json

    from aidetect.imaging import webp_roundtrip

    summary = json.loads((corpus / "summary.json").read_text())["aligned"]
    assert summary["jpeg_matched_pairs"] > 0 and summary["webp_matched_pairs"] > 0
    matched = summary["jpeg_matched_pairs"] + summary["webp_matched_pairs"]
    assert matched + summary["lossless_pairs"] == summary["pairs"]  # lossless: rescaled copies
    model = TAEF2.load(taef2_dir)
    samples = list_samples(corpus)
    reals = {s.pair_id: s for s in samples if s.label == 0}
    codecs = installed_codecs
    fakes = [s for s in samples if s.family == "taef2" and "_r50_" not in Path(s.path).name]
    webp_fakes = [s for s in fakes if s.source_id not in codecs]
    assert webp_fakes, "the shared WebP photo made aligned fakes"
    shared_codec = {c for c in summary["source_webp_quality_histogram"]}
    # estimated within a few steps (measured: 50 for this picture saved at 55)
    assert len(shared_codec) == 1 and abs(int(shared_codec.pop()) - 55) <= 6
    for fake in [*[s for s in fakes if s.source_id in codecs][:2], webp_fakes[0]]:
        real = np.asarray(Image.open(reals[fake.pair_id].path).convert("RGB"))
        stored = np.asarray(Image.open(fake.path).convert("RGB")).astype(float)
        raw = model.reconstruct(real)
        if fake.source_id in codecs:
            fmt, q = codecs[fake.source_id]
            assert fmt == "JPEG"
            matched = jpeg_roundtrip(raw, q).astype(float)
        else:
            q = int(next(iter(summary["source_webp_quality_histogram"])))
            matched = webp_roundtrip(raw, q).astype(float)
        assert np.abs(stored - matched).mean() < 1.0
        assert np.abs(stored - raw).mean() > 2 * np.abs(stored - matched).mean()


def test_super_resolution_fakes_are_compression_matched_too(corpus, npm_cache, installed_codecs):
    """The SR fakes (downscale, ESRGAN upscale) of a lossy source are compressed like it,
    as the aligned fakes are; ``summary.json`` records every lossy source's codec so that
    ``add-families`` can do the same later."""
    import json

    from aidetect.imaging import codec_roundtrip

    summary = json.loads((corpus / "summary.json").read_text())
    sr = [s for s in list_samples(corpus) if s.family == "esrgan-slim"]
    sr = [s for s in sr if "_r50_" not in Path(s.path).name]  # not the rescaled copies'
    assert sr and summary["super_resolution"]["compression_matched"] == len(sr)
    codecs = v1.codecs_from_json(summary["source_codecs"])
    installed = installed_codecs
    assert {k: v for k, v in codecs.items() if k in installed} == installed
    assert any(c[0] == "WEBP" for c in codecs.values())
    reals = {s.pair_id: s for s in list_samples(corpus) if s.label == 0}
    up = v1.load_upscaler("esrgan-slim-x2", npm_cache)
    for fake in sr[:3]:
        real = v1.load_photo(reals[fake.pair_id].path)
        raw = v1.make_fake(real, up)
        matched = codec_roundtrip(raw, codecs[fake.source_id]).astype(float)
        stored = v1.load_photo(fake.path).astype(float)
        assert np.abs(stored - matched).mean() < 0.5
        assert np.abs(stored - raw).mean() > 2 * np.abs(stored - matched).mean() + 0.2


def test_rescaled_copies_make_lossless_pairs(corpus, taef2_dir):
    """Crops of each photo downscaled by half (same source and split) sit beside the
    native ones; their aligned and SR fakes are not compression-matched (the downscaled
    crop has lost most of its source's history), every other fake still is."""
    import json

    summary = json.loads((corpus / "summary.json").read_text())
    lossless = set(summary["lossless_crops"])
    assert lossless and summary["rescaled_copies"] == {"factor": 0.5, "crops": len(lossless)}
    samples = list_samples(corpus)
    by_rel = {str(Path(s.path).relative_to(corpus)): s for s in samples}
    assert all(by_rel[p].label == 0 and "_r50_" in p for p in lossless)
    # the same sources as native crops, in the same split
    native = {
        (s.source_id, s.split) for p, s in by_rel.items() if s.label == 0 and p not in lossless
    }
    assert {(by_rel[p].source_id, by_rel[p].split) for p in lossless} <= native
    assert summary["aligned"]["lossless_pairs"] == len(lossless)
    assert summary["aligned"]["pairs"] == sum(1 for s in samples if s.label == 0)
    model = TAEF2.load(taef2_dir)
    reals = {s.pair_id: s for s in samples if s.label == 0}
    fakes = [
        s
        for s in samples
        if s.family == "taef2" and str(Path(reals[s.pair_id].path).relative_to(corpus)) in lossless
    ]
    assert len(fakes) == len(lossless)
    for fake in fakes[:2]:
        real = np.asarray(Image.open(reals[fake.pair_id].path).convert("RGB"))
        stored = np.asarray(Image.open(fake.path).convert("RGB")).astype(float)
        # stored as made (batch and single reconstructions differ in float rounding only)
        assert np.abs(stored - model.reconstruct(real)).mean() < 1.0
    sr = [s for s in samples if s.family == "esrgan-slim"]
    from_rescaled = [s for s in sr if "_r50_" in Path(s.path).name]
    assert summary["super_resolution"]["compression_matched"] == len(sr) - len(from_rescaled)


def test_cli_builds_v2(tmp_path, taef2_dir, npm_cache, slim_package):
    from aidetect.corpus.cli import main

    out = tmp_path / "c"
    rc = main(
        [
            "corpus",
            "build",
            "--out",
            str(out),
            "--sources",
            "installed",
            "--crop",
            "64",
            "--max-crops-per-photo",
            "1",
            "--fakes-per-real",
            "0",
            "--taef2-weights",
            str(taef2_dir),
            "--workers",
            "1",
        ]
    )
    assert rc == 0
    fams = {s.family for s in list_samples(out)}
    assert fams == {"real", "taef2"}
