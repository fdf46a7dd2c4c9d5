"""The parts both engines share (``aidetect.batch``): sources, records, writers; no Ray."""

from __future__ import annotations

import csv
import json

import pytest

from aidetect.batch import (
    is_uri,
    iter_images,
    output_format,
    read_uri,
    record,
    result_of,
    score_sources,
)
from aidetect.cli import main
from aidetect.inference import Detector
from aidetect.registry import Registry


@pytest.fixture(scope="module")
def detector(tiny_models):
    return Detector(Registry(tiny_models))


def test_uris_and_paths_are_told_apart():
    assert is_uri("s3://bucket/x") and is_uri("file:///tmp/x") and is_uri("gcs+x://a")
    assert not is_uri("/tmp/a://b") and not is_uri("photo.jpg") and not is_uri("C:\\x")


def test_a_folder_uri_lists_what_the_folder_lists(folder):
    local = list(iter_images([folder]))
    listed = list(iter_images([folder.as_uri()]))
    assert len(local) == 11 and sorted(listed) == sorted(f"file://{p}" for p in local)


def test_uris_score_as_the_same_files_do(detector, folder, tmp_path):
    local = list(iter_images([folder]))
    uris = [f"file://{p}" for p in local]
    plain = [record(p, r) for p, r in score_sources(detector, local, "tiny-ensemble", batch_size=4)]
    via = [record(p, r) for p, r in score_sources(detector, uris, "tiny-ensemble", batch_size=4)]
    for a, b in zip(plain, via, strict=True):
        assert b["path"] == "file://" + a["path"]
        a.pop("elapsed_ms", None), b.pop("elapsed_ms", None)
        assert {**a, "path": ""} == {**b, "path": ""}
    assert [r["ok"] for r in plain].count(False) == 1
    assert any(e["kind"] for r in plain if r["ok"] for e in r["evidence"])  # the A1111 PNG
    assert {len(r["models"]) for r in plain if r["ok"]} == {2}  # the ensemble's members


def test_an_fsspec_file_system_is_read_too(folder):
    """``memory://`` is not one of pyarrow's: it goes through fsspec."""
    import fsspec

    fs = fsspec.filesystem("memory")
    for name in ("a1111.png", "photo.jpg", "broken.jpg"):
        fs.pipe(f"/aidetect-test/in/{name}", (folder / name).read_bytes())
    try:
        listed = list(iter_images(["memory://aidetect-test"]))
        assert listed == [
            f"memory://aidetect-test/in/{n}" for n in ("a1111.png", "broken.jpg", "photo.jpg")
        ]
        assert read_uri(listed[0], 10**6) == (folder / "a1111.png").read_bytes()
        assert read_uri("memory://aidetect-test/none.png", 10**6).code == "file_not_found"
        assert read_uri("nosuchscheme://x/y.png", 10**6).code == "unreadable_file"
    finally:
        fs.rm("/aidetect-test", recursive=True)


def test_read_uri_gives_typed_errors(tmp_path):
    (tmp_path / "big.jpg").write_bytes(b"x" * 100)
    assert read_uri((tmp_path / "big.jpg").as_uri(), 1000) == b"x" * 100
    assert read_uri((tmp_path / "big.jpg").as_uri(), 99).code == "too_many_bytes"
    assert read_uri((tmp_path / "gone.jpg").as_uri(), 99).code == "file_not_found"
    assert read_uri(tmp_path.as_uri(), 99).code == "unreadable_file"


def test_a_record_turns_back_into_its_result(detector, folder):
    for path, res in score_sources(detector, iter_images([folder]), None, batch_size=8):
        back = result_of(json.loads(json.dumps(record(path, res))))
        if hasattr(res, "code"):
            assert (back.code, back.detail) == (res.code, res.detail)
        else:
            assert back == res


def test_output_format_follows_the_suffix():
    assert output_format(None, "r.parquet") == "parquet" and output_format(None, "r.CSV") == "csv"
    assert output_format(None, None) == "jsonl" and output_format("csv", "r.parquet") == "csv"


def test_predict_writes_parquet_and_csv_with_per_model_scores(tiny_models, folder, tmp_path):
    import pyarrow.parquet as pq

    args = ["predict", str(folder), "--models-dir", str(tiny_models), "--model", "tiny-ensemble"]
    assert main([*args, "-o", str(tmp_path / "r.parquet")]) == 0
    assert main([*args, "-o", str(tmp_path / "r.csv")]) == 0
    table = pq.read_table(tmp_path / "r.parquet").to_pylist()
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [r["path"] for r in table] == [r["path"] for r in rows] and len(rows) == 11
    for t, c in zip(table, rows, strict=True):
        if not t["ok"]:
            assert t["error_code"] == c["error_code"] == "unsupported_media_type"
            continue
        assert [m["name"] for m in t["models"]] == ["tiny-cnn", "tiny-svm"]
        assert c["models"] == "; ".join(
            f"{m['name']}={m['ai_probability']:.6f}" for m in t["models"]
        )
        assert c["ai_probability"] == f"{t['ai_probability']:.6f}" and c["verdict"] == t["verdict"]
    kinds = {e["kind"] for t in table if t["ok"] for e in t["evidence"]}
    in_csv = {e.split(":")[0] for c in rows for e in (c["evidence"] or "").split("; ") if e}
    assert kinds and kinds == in_csv
