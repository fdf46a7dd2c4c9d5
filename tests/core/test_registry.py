from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from aidetect.errors import (
    ArtifactError,
    IntegrityError,
    InvalidModelNameError,
    UnknownModelError,
)
from aidetect.registry import (
    LoadedEnsemble,
    LoadedModel,
    Registry,
    import_legacy,
    registry_for,
    validate_name,
)
from tests.conftest import SEED_MODEL


def copy_models(src, dst):
    shutil.copytree(src, dst)
    return Registry(dst)


def test_lists_and_loads(tiny_models):
    reg = Registry(tiny_models)
    assert reg.names() == ["tiny-cnn", "tiny-ensemble", "tiny-svm"]
    assert isinstance(reg.load("tiny-cnn"), LoadedModel)
    ens = reg.load("tiny-ensemble")
    assert isinstance(ens, LoadedEnsemble) and [m.name for m, _ in ens.members] == [
        "tiny-cnn",
        "tiny-svm",
    ]
    assert reg.default_name() == "tiny-cnn"  # marked default in its metadata


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", "", "x" * 80, "a\\b", "a b"])
def test_names_cannot_be_paths(name):
    with pytest.raises(InvalidModelNameError):
        validate_name(name)


def test_unknown_model(tiny_models):
    with pytest.raises(UnknownModelError):
        Registry(tiny_models).load("nope")


def test_hash_mismatch_is_refused_before_loading(tiny_models, tmp_path):
    reg = copy_models(tiny_models, tmp_path / "m")
    f = tmp_path / "m" / "tiny-svm" / "model.joblib"
    f.write_bytes(f.read_bytes() + b"tampered")
    with pytest.raises(IntegrityError):
        reg.load("tiny-svm")
    with pytest.raises(IntegrityError):
        reg.load("tiny-ensemble")  # members are verified too


def test_model_file_outside_the_folder_is_refused(tiny_models, tmp_path):
    reg = copy_models(tiny_models, tmp_path / "m")
    outside = tmp_path / "evil.joblib"
    shutil.copyfile(tmp_path / "m" / "tiny-svm" / "model.joblib", outside)
    meta_path = tmp_path / "m" / "tiny-svm" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["model_file"] = "../../evil.joblib"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError):
        reg.load("tiny-svm")
    # a symlink pointing out of the models folder is refused as well
    meta["model_file"] = "model.joblib"
    meta_path.write_text(json.dumps(meta))
    (tmp_path / "m" / "tiny-svm" / "model.joblib").unlink()
    (tmp_path / "m" / "tiny-svm" / "model.joblib").symlink_to(outside)
    with pytest.raises(ArtifactError):
        Registry(tmp_path / "m").load("tiny-svm")


def test_invalid_metadata(tiny_models, tmp_path):
    reg = copy_models(tiny_models, tmp_path / "m")
    (tmp_path / "m" / "tiny-cnn" / "metadata.json").write_text('{"name": "tiny-cnn"}')
    with pytest.raises(ArtifactError):
        reg.metadata("tiny-cnn")


def test_registry_for_accepts_artifact_paths(tiny_models):
    reg, name = registry_for(str(tiny_models / "tiny-svm"), "/nonexistent")
    assert name == "tiny-svm" and reg.root == tiny_models.resolve()
    reg, name = registry_for("tiny-cnn", tiny_models)
    assert name == "tiny-cnn"


@pytest.mark.skipif(
    not SEED_MODEL.is_file(), reason="the seed's model file (shared/peers) is absent"
)
def test_seed_model_imports_through_the_legacy_path(tmp_path):
    meta = import_legacy(SEED_MODEL, tmp_path / "seed-cifake-cnn", name="seed-cifake-cnn")
    assert meta.format == "keras_h5" and meta.input.size == 32 and meta.input.policy == "resize"
    assert meta.output == "real_probability" and meta.input.scale == "unit"
    loaded = Registry(tmp_path).load("seed-cifake-cnn")
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    raw = np.asarray(loaded.estimator.predict_on_batch(x)).ravel()
    np.testing.assert_allclose(loaded.predict_ai_proba(x), 1.0 - raw, rtol=1e-6)


def test_no_default_marked_picks_the_first_by_name_and_says_so(tiny_models, tmp_path, caplog):
    import json
    import logging
    import shutil

    models = tmp_path / "models"
    shutil.copytree(tiny_models, models)
    for name in Registry(models).names():
        path = models / name / "metadata.json"
        meta = json.loads(path.read_text())
        meta["default"] = False
        path.write_text(json.dumps(meta))
    with caplog.at_level(logging.WARNING, logger="aidetect.registry"):
        assert Registry(models).default_name() == "tiny-cnn"
    assert "no model" in caplog.text and "AIDETECT_DEFAULT_MODEL" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aidetect.registry"):
        assert Registry(tiny_models).default_name() == "tiny-cnn"  # marked: no warning
    assert caplog.text == ""
