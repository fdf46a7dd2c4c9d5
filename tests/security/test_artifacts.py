"""Model files: checked by hash before loading; nothing is unpickled from outside models/.

Each attack carries a pickle whose ``__reduce__`` writes a marker file when unpickled;
the test first proves the payload works (``joblib.load`` on it writes the marker), then
that the registry refuses the artifact and the marker never appears.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import pytest
from fastapi.testclient import TestClient

from aidetect.errors import (
    AIDetectError,
    ArtifactError,
    IntegrityError,
    InvalidModelNameError,
)
from aidetect.registry import Registry, validate_name
from aidetect.settings import Settings
from aidetect_server.app.main import create_app


class Payload:
    """Unpickling this runs ``exec``: it writes ``marker``. Never load untrusted pickles."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('unpickled')",))


def write_payload(path: Path, marker: Path) -> None:
    joblib.dump(Payload(marker), path)


@pytest.fixture
def models(tiny_models, tmp_path) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(tiny_models / "tiny-svm", root / "tiny-svm")
    return root


def test_the_payload_really_runs_when_unpickled(tmp_path):
    marker = tmp_path / "proof"
    write_payload(tmp_path / "evil.joblib", marker)
    joblib.load(tmp_path / "evil.joblib")
    assert marker.read_text() == "unpickled"


def test_tampered_joblib_is_refused_by_hash_before_unpickling(models, tmp_path):
    marker = tmp_path / "marker"
    write_payload(models / "tiny-svm" / "model.joblib", marker)
    with pytest.raises(IntegrityError):
        Registry(models).load("tiny-svm")
    assert not marker.exists()


def test_symlinked_model_file_is_refused(models, tmp_path):
    marker = tmp_path / "marker"
    outside = tmp_path / "outside.joblib"
    write_payload(outside, marker)
    meta_path = models / "tiny-svm" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    from aidetect.registry import sha256_file

    meta["sha256"] = sha256_file(outside)  # even with a matching hash
    meta_path.write_text(json.dumps(meta))
    (models / "tiny-svm" / "model.joblib").unlink()
    (models / "tiny-svm" / "model.joblib").symlink_to(outside)
    with pytest.raises(ArtifactError):
        Registry(models).load("tiny-svm")
    assert not marker.exists()


def test_symlinked_artifact_folder_is_refused(models, tmp_path):
    marker = tmp_path / "marker"
    elsewhere = tmp_path / "elsewhere" / "evil"
    shutil.copytree(models / "tiny-svm", elsewhere)
    write_payload(elsewhere / "model.joblib", marker)
    from aidetect.registry import sha256_file

    meta = json.loads((elsewhere / "metadata.json").read_text())
    meta.update(name="evil", sha256=sha256_file(elsewhere / "model.joblib"))
    (elsewhere / "metadata.json").write_text(json.dumps(meta))
    (models / "evil").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(AIDetectError):
        Registry(models).load("evil")
    assert not marker.exists()


@pytest.mark.parametrize("model_file", ["../evil.joblib", "/tmp/evil.joblib", "sub/model.joblib"])
def test_metadata_model_file_cannot_be_a_path(models, tmp_path, model_file):
    marker = tmp_path / "marker"
    write_payload(models / "evil.joblib", marker)
    meta_path = models / "tiny-svm" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["model_file"] = model_file
    from aidetect.registry import sha256_file

    meta["sha256"] = sha256_file(models / "evil.joblib")
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError):
        Registry(models).load("tiny-svm")
    assert not marker.exists()


@pytest.mark.parametrize(
    "name",
    [
        "../tiny-svm",
        "..",
        ".",
        "/etc/passwd",
        "a/b",
        "a\\b",
        "tiny-svm/../x",
        "",
        "%2e%2e",
        "x\x00",
    ],
)
def test_model_name_is_never_a_path(models, name):
    with pytest.raises(InvalidModelNameError):
        validate_name(name)
    with pytest.raises(AIDetectError):
        Registry(models).load(name)


def test_api_model_parameter_cannot_name_a_path(tiny_models):
    app = create_app(Settings(models_dir=tiny_models, frontend_dist="/nonexistent"))
    from tests.support import images

    with TestClient(app) as c:
        for name in ["../tiny-svm", "/etc/passwd", "..%2ftiny-svm", "tiny-svm/..", "a" * 200]:
            r = c.post(
                "/api/v1/detect", params={"model": name}, files={"file": ("x.png", images.png())}
            )
            assert (r.status_code, r.json()["code"]) == (422, "invalid_model_name"), name
            assert "/etc" not in r.text or name == "/etc/passwd"
        r = c.post(
            "/api/v1/detect/batch",
            params={"model": "../../x"},
            files=[("files", ("x.png", images.png()))],
        )
        assert r.status_code == 422
