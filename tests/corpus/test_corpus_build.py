"""End-to-end corpus build on the photos already installed (scikit-learn, matplotlib)."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect.corpus.build import (
    assign_split,
    build_corpus,
    crop_windows,
    dhash,
    encode_png,
    expand_generators,
    hamming,
    load_photo,
    read_rows,
)
from aidetect.corpus.cli import main as cli_main
from aidetect.corpus.shortcuts import check_shortcuts
from aidetect.datasets import MANIFEST_COLUMNS

CROP = 64
GENERATORS = "esrgan-slim-x2,esrgan-slim-x4"


def _build(out: Path, npm_cache: Path, **kw) -> dict:
    return build_corpus(
        out,
        sources="installed",
        crop=CROP,
        max_crops_per_photo=4,
        families=kw.pop("families", GENERATORS),
        seed=kw.pop("seed", 0),
        npm_cache=npm_cache,
        workers=1,
        **kw,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, slim_package, npm_cache) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    _build(out, npm_cache)
    return out


@pytest.fixture(scope="module")
def manifest(corpus) -> list[dict[str, str]]:
    return read_rows(corpus / "manifest.csv")


def test_manifest_columns_and_files(corpus, manifest):
    with open(corpus / "manifest.csv", newline="") as f:
        assert tuple(next(csv.reader(f))) == MANIFEST_COLUMNS
    assert manifest
    for row in manifest:
        path = corpus / row["path"]
        assert path.is_file()
        split, cls, _ = row["path"].split("/")
        assert split == row["split"] in ("train", "val", "test")
        if row["label"] == "1":
            assert cls == "FAKE" and row["generator"] in GENERATORS.split(",")
        else:
            assert row["label"] == "0" and cls == "REAL" and row["generator"] == "real"
    on_disk = {str(p.relative_to(corpus)) for p in corpus.glob("*/*/*.png")}
    assert on_disk == {r["path"] for r in manifest}


def test_classes_balanced_and_summary(corpus, manifest):
    labels = [r["label"] for r in manifest]
    assert labels.count("0") == labels.count("1") > 0
    summary = json.loads((corpus / "summary.json").read_text())
    assert summary["total"] == len(manifest)
    for split, counts in summary["counts"].items():
        for cls, n in counts.items():
            assert n == sum(
                1
                for r in manifest
                if r["split"] == split and r["label"] == ("1" if cls == "FAKE" else "0")
            )
    sources = read_rows(corpus / "sources.csv")
    assert {s["package"] for s in sources} == {"scikit-learn", "matplotlib"}
    assert all(s["licence"] and s["version"] for s in sources)


def test_splits_are_by_photo(manifest):
    splits = defaultdict(set)
    for r in manifest:
        splits[r["source_id"]].add(r["split"])
    assert all(len(s) == 1 for s in splits.values())


def test_fakes_inherit_source_and_split(manifest):
    reals = {Path(r["path"]).stem: r for r in manifest if r["label"] == "0"}
    for r in (r for r in manifest if r["label"] == "1"):
        stem = Path(r["path"]).stem.rsplit("_esrgan-", 1)[0]
        assert reals[stem]["source_id"] == r["source_id"]
        assert reals[stem]["split"] == r["split"]


def test_both_classes_same_encoding(corpus, manifest):
    seen = defaultdict(set)
    for r in manifest:
        data = (corpus / r["path"]).read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            seen[r["label"]].add((im.format, im.mode, im.size, tuple(sorted(im.info))))
    assert seen["0"] == seen["1"] == {("PNG", "RGB", (CROP, CROP), ())}


def test_same_seed_same_bytes(corpus, manifest, tmp_path, npm_cache):
    again = tmp_path / "again"
    _build(again, npm_cache)
    assert (again / "manifest.csv").read_bytes() == (corpus / "manifest.csv").read_bytes()
    for r in manifest:
        assert (again / r["path"]).read_bytes() == (corpus / r["path"]).read_bytes()


def test_other_seed_other_crops(manifest, tmp_path, npm_cache):
    other = _build(tmp_path / "seed1", npm_cache, seed=1, fakes_per_real=0)
    paths = {r["path"] for r in read_rows(tmp_path / "seed1" / "manifest.csv")}
    assert other["total"] == len(paths)
    assert paths != {r["path"] for r in manifest if r["label"] == "0"}


def test_check_shortcuts(corpus):
    result = check_shortcuts(corpus)
    fs = result["feature_sets"]
    assert fs["image_size_mode"]["auc"] == 0.5 and fs["image_size_mode"]["pass"]
    assert fs["format"]["auc"] == 0.5
    assert fs["jpeg_qtables"]["auc"] is None  # no JPEG in the corpus
    assert "file_size" in fs
    assert json.loads((corpus / "shortcut_check.json").read_text())["files"] == result["files"]


def test_check_shortcuts_flags_format_shortcut(tmp_path):
    """Reals saved as JPEG and fakes as PNG: the check must fail on format and file size."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(40):
        px = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
        label = i % 2
        name = f"{i}.png" if label else f"{i}.jpg"
        if label:
            (tmp_path / name).write_bytes(encode_png(px))
        else:
            Image.fromarray(px).save(tmp_path / name, quality=90)
        rows.append([name, label, "x" if label else "real", f"s{i // 2}", "train"])
    with open(tmp_path / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)
    result = check_shortcuts(tmp_path)
    assert not result["pass"]
    assert "format" in result["failed"]


def _pairs_corpus(root: Path, compress_fakes: bool) -> None:
    """Real crops of one JPEG history (stored as PNG, like corpus-v2's) and fakes of the
    same kind of content (another noise draw), compressed the same way or not."""
    from aidetect.imaging import jpeg_roundtrip

    rng = np.random.default_rng(1)
    rows = []
    yy, xx = np.mgrid[0:64, 0:64]
    for i in range(30):
        base = 128 + 50 * np.sin(xx / (3 + i % 5) + i) * np.cos(yy / 5)
        px = np.clip(base[..., None] + rng.normal(0, 8, (64, 64, 3)), 0, 255).astype(np.uint8)
        q = int(rng.integers(60, 90))
        twin = np.clip(base[..., None] + rng.normal(0, 8, (64, 64, 3)), 0, 255).astype(np.uint8)
        for label, pixels in ((0, jpeg_roundtrip(px, q)), (1, twin)):
            if label and compress_fakes:
                pixels = jpeg_roundtrip(pixels, q)
            name = f"{i}_{label}.png"
            (root / name).write_bytes(encode_png(pixels))
            rows.append([name, label, "x" if label else "real", f"s{i}", "train"])
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)


def test_check_shortcuts_sees_compression_history_in_png_files(tmp_path):
    """All files are PNG, but only the reals were JPEG-compressed before: the pixels'
    8x8 grid gives it away (the shortcut corpus-v2 had before its fakes were matched).
    Compressing the fakes the same way removes it."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    _pairs_corpus(tmp_path / "a", compress_fakes=False)
    _pairs_corpus(tmp_path / "b", compress_fakes=True)
    unmatched = check_shortcuts(tmp_path / "a", write=False)["feature_sets"]
    matched = check_shortcuts(tmp_path / "b", write=False)["feature_sets"]
    assert unmatched["format"]["auc"] == 0.5  # the format alone says nothing
    assert abs(unmatched["compression_history"]["auc"] - 0.5) > 0.3
    assert not unmatched["compression_history"]["pass"]
    assert abs(matched["compression_history"]["auc"] - 0.5) < 0.2


def test_cli_build_and_check(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli_main(
        [
            "corpus",
            "build",
            "--out",
            str(out),
            "--sources",
            "installed",
            "--crop",
            "128",
            "--fakes-per-real",
            "0",
            "--workers",
            "1",
        ]
    )
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["counts"]
    rc = cli_main(["corpus", "check-shortcuts", "--data", str(out)])
    assert rc in (0, 1)  # one class only: AUCs are undefined, not a failure
    assert json.loads(capsys.readouterr().out)["feature_sets"]["file_size"]["auc"] is None


def test_split_fractions_and_windows():
    ids = [f"photo{i}" for i in range(3000)]
    splits = [assign_split(i, 0) for i in ids]
    assert abs(splits.count("train") / 3000 - 0.70) < 0.03
    assert abs(splits.count("test") / 3000 - 0.15) < 0.03
    assert splits == [assign_split(i, 0) for i in ids]
    wins = crop_windows(1000, 1500, 256, 16, np.random.default_rng(0))
    assert len(wins) == 8  # 3x5 cells, about half (rounded)
    for a in wins:
        for b in wins:
            assert a == b or abs(a[0] - b[0]) >= 256 or abs(a[1] - b[1]) >= 256
    assert crop_windows(100, 1000, 256, 16, np.random.default_rng(0)) == []


def test_dhash_finds_near_duplicates():
    rng = np.random.default_rng(0)
    img = np.asarray(
        Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).resize(
            (300, 200), Image.BICUBIC
        )
    )
    smaller = np.asarray(Image.fromarray(img).resize((150, 100), Image.LANCZOS))
    other = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    assert hamming(dhash(img), dhash(smaller)) <= 6
    assert hamming(dhash(img), dhash(other)) > 12


def test_generator_names():
    assert expand_generators("esrgan-slim") == [f"esrgan-slim-x{s}" for s in (2, 3, 4, 8)]
    assert expand_generators("esrgan-default") == ["esrgan-default-x2"]
    with pytest.raises(ValueError):
        expand_generators("stable-diffusion")


def test_balance_file_size(corpus, tmp_path):
    import shutil

    from aidetect.corpus.build import balance_file_size

    copy = tmp_path / "balanced"
    shutil.copytree(corpus, copy)
    summary = balance_file_size(copy, bins=2)
    rows = read_rows(copy / "manifest.csv")
    for split in ("train", "val", "test"):
        labels = [r["label"] for r in rows if r["split"] == split]
        assert labels.count("0") == labels.count("1")
    assert {str(p.relative_to(copy)) for p in copy.glob("*/*/*.png")} == {r["path"] for r in rows}
    assert summary["total"] == len(rows)
    assert summary["file_size_balancing"]["dropped"] == len(
        read_rows(corpus / "manifest.csv")
    ) - len(rows)


def test_autoencoder_generator(tmp_path, npm_cache):
    from aidetect.corpus.autoencoder import Autoencoder, build_autoencoder

    weights = tmp_path / "ae8.weights.h5"
    build_autoencoder().save_weights(weights)  # untrained: enough to test the plumbing
    ae = Autoencoder.load(weights)
    img = np.zeros((64, 48, 3), np.uint8)
    assert ae.reconstruct(img).shape == (64, 48, 3)
    summary = _build(tmp_path / "ae", npm_cache, families="ae8", ae_weights=weights)
    assert summary["per_generator"]["ae8-selftrained"]
    rows = read_rows(tmp_path / "ae" / "manifest.csv")
    assert {r["generator"] for r in rows} == {"real", "ae8-selftrained"}


def test_photos_decode_through_the_core_16_bit_scaled_not_clipped(tmp_path: Path) -> None:
    """The builder decodes with ``aidetect.imaging``: a 16-bit grey PNG keeps its tones."""
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    pixels = load_photo(tmp_path / "deep.png")
    assert pixels.shape == (64, 64, 3) and pixels.dtype == np.uint8
    assert pixels[0, 0, 0] == 0 and pixels[-1, -1, 0] == 255
    assert len(np.unique(pixels)) > 200  # clipping would leave almost everything at 255
    turned = load_photo(tmp_path / "deep.png", rotate=90)
    np.testing.assert_array_equal(turned, np.rot90(pixels, k=-1))


def test_check_shortcuts_decodes_each_file_once_when_given_a_cache(tmp_path, monkeypatch):
    """The per-family check shares one features dict: a second call decodes nothing."""
    from aidetect.corpus import shortcuts

    _pairs_corpus(tmp_path, compress_fakes=True)
    calls = []
    real = shortcuts.file_features
    monkeypatch.setattr(shortcuts, "file_features", lambda p: calls.append(p) or real(p))
    features: dict = {}
    first = check_shortcuts(tmp_path, write=False, features=features)
    assert len(calls) == len(features) == first["files"] == 60
    again = check_shortcuts(tmp_path, write=False, features=features)
    assert len(calls) == 60 and again["feature_sets"] == first["feature_sets"]
    check_shortcuts(tmp_path, write=False)  # no dict given: decoded again
    assert len(calls) == 120


def _texture(seed: int, h: int = 150, w: int = 170) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 60 * np.sin(xx / (5 + 3 * seed)) * np.cos(yy / (9 + seed))
    img = np.stack([base, 255 - base, base * 0.5 + 60], -1) + rng.normal(0, 8, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_fakes_are_compressed_like_the_photo_they_came_from(tmp_path, slim_package, npm_cache):
    """``match_compression``: each photo's codec is read as it is loaded, so two photos
    whose source ids collide (same name in two folders: the second gets a ``_``) keep
    their own codecs, and every fake is stored compressed like its real crop's photo."""
    from aidetect.corpus import sources as src_mod
    from aidetect.corpus.build import codecs_from_json, load_upscaler, make_fake
    from aidetect.imaging import codec_roundtrip

    for sub, seed, fmt, q in (("a", 1, "JPEG", 60), ("b", 2, "WEBP", 80)):
        (tmp_path / sub).mkdir()
        Image.fromarray(_texture(seed)).save(tmp_path / sub / f"x.{fmt.lower()}", fmt, quality=q)
    extra = [
        src_mod.Photo(tmp_path / f, "shared", "shared-real", "", f, "")
        for f in ("a/x.jpeg", "b/x.webp")
    ]
    out = tmp_path / "corpus"
    one = {"families": "esrgan-slim-x2", "limit_photos": 1}
    summary = _build(out, npm_cache, **one, extra_photos=extra, match_compression=True)
    codecs = codecs_from_json(summary["source_codecs"])
    assert codecs["shared-real-x"] == ("JPEG", 60)
    fmt, q = codecs["shared-real-x_"]
    assert fmt == "WEBP" and abs(q - 80) <= 6
    rows = read_rows(out / "manifest.csv")
    fakes = [r for r in rows if r["label"] == "1"]
    assert summary["super_resolution"] == {"fakes": len(fakes), "compression_matched": len(fakes)}
    up = load_upscaler("esrgan-slim-x2", npm_cache)
    for sid in ("shared-real-x", "shared-real-x_"):
        fake = next(r for r in fakes if r["source_id"] == sid)
        real_rel = fake["path"].replace("/FAKE/", "/REAL/").rsplit("_", 1)[0] + ".png"
        real = load_photo(out / real_rel)
        raw = make_fake(real, up)
        stored = load_photo(out / fake["path"]).astype(float)
        matched = codec_roundtrip(raw, codecs[sid]).astype(float)
        assert np.abs(stored - matched).mean() < 0.5
        assert np.abs(stored - raw.astype(float)).mean() > 2 * np.abs(stored - matched).mean()
    # corpus-v1's default keeps its fakes as made and records no codecs
    plain = _build(tmp_path / "plain", npm_cache, **one, fakes_per_real=0.5)
    assert "source_codecs" not in plain and "super_resolution" not in plain
