"""Real models behind the real app: answers equal direct model calls; bad inputs answered."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from fastapi.testclient import TestClient

from aidetect.imaging import decode_image
from aidetect.preprocess import aggregate, preprocess
from aidetect.registry import Registry
from aidetect.settings import Settings
from aidetect_server.app.main import create_app
from tests.support import images
from tests.support.tiny_models import toy_images


@pytest.fixture(scope="module")
def client(tiny_models):
    app = create_app(
        Settings(models_dir=tiny_models, frontend_dist="/nonexistent", provenance=False)
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def registry(tiny_models):
    return Registry(tiny_models)


def test_ready_with_all_models(client):
    assert client.get("/readyz").json()["models"] == ["tiny-cnn", "tiny-ensemble", "tiny-svm"]
    names = [m["name"] for m in client.get("/api/v1/models").json()["models"]]
    assert names == ["tiny-cnn", "tiny-ensemble", "tiny-svm"]


@pytest.mark.parametrize("name", ["tiny-cnn", "tiny-svm"])
def test_answer_equals_direct_predict(client, registry, name):
    x, _ = toy_images(2, 48, seed=21)
    data = images.png(x[1])
    r = client.post(f"/api/v1/detect?model={name}", files={"file": ("x.png", data)})
    loaded = registry.load(name)
    batch, _ = preprocess(decode_image(data).pixels, loaded.spec)
    if loaded.metadata.format == "sklearn":
        direct = loaded.estimator.predict_proba(batch)[:, 1]
    else:
        direct = np.asarray(loaded.estimator.predict(batch, verbose=0)).ravel()
    assert r.json()["ai_probability"] == pytest.approx(aggregate(direct, loaded.spec), abs=1e-6)


def test_ensemble_reports_members(client):
    r = client.post("/api/v1/detect?model=tiny-ensemble", files={"file": ("x.png", images.png())})
    body = r.json()
    assert [m["name"] for m in body["models"]] == ["tiny-cnn", "tiny-svm"]
    assert body["ai_probability"] == pytest.approx(
        np.mean([m["ai_probability"] for m in body["models"]])
    )


def answer(client, data, name="tiny-svm"):
    return client.post(f"/api/v1/detect?model={name}", files={"file": ("f", data)})


def test_exif_rotated_jpeg_answers_like_the_upright_image(client):
    upright = images.photo_like(120, 80, seed=5)
    rotated = answer(client, images.exif_rotated_jpeg(upright)).json()
    plain = answer(client, images.encode(upright, "JPEG", quality=100, subsampling=0)).json()
    assert rotated["image"] == {
        "width": 120,
        "height": 80,
        "format": "JPEG",
        "jpeg_quality": 100,
        "webp_lossy": None,
    }
    assert rotated["ai_probability"] == pytest.approx(plain["ai_probability"], abs=0.02)


@pytest.mark.parametrize(
    ("make", "fmt"),
    [
        (
            lambda: images.encode(images.Image.new("CMYK", (40, 40), (0, 200, 200, 0)), "JPEG"),
            "JPEG",
        ),
        (
            lambda: images.encode(
                images.Image.fromarray(np.full((30, 30), 40000, np.uint16)), "PNG"
            ),
            "PNG",
        ),
        (lambda: images.encode(images.Image.new("RGBA", (30, 30), (9, 9, 9, 100)), "PNG"), "PNG"),
        (images.animated_gif, "GIF"),
        (lambda: images.png(np.zeros((1, 1, 3), np.uint8)), "PNG"),
    ],
)
def test_odd_but_valid_images_are_answered(client, make, fmt):
    r = answer(client, make(), "tiny-ensemble")
    assert r.status_code == 200, r.text
    assert r.json()["image"]["format"] == fmt
    assert 0.0 <= r.json()["ai_probability"] <= 1.0


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "empty_input"),
        (b"plain text pretending to be a jpg", 415, "unsupported_media_type"),
        (images.jpeg()[:400], 400, "undecodable_image"),
        (images.huge_png(), 413, "too_many_pixels"),
    ],
)
def test_bad_files(client, data, status, code):
    r = answer(client, data)
    assert (r.status_code, r.json()["code"]) == (status, code)


def test_body_over_the_byte_limit(tiny_models):
    app = create_app(Settings(models_dir=tiny_models, max_bytes=10_000, provenance=False))
    with TestClient(app) as c:
        r = c.post("/api/v1/detect", files={"file": ("a.png", b"\x89PNG" + bytes(50_000))})
        assert (r.status_code, r.json()["code"]) == (413, "too_many_bytes")


def test_bad_base64_and_paths(client):
    r = client.post("/api/v1/detect", json={"image": "not*base64"})
    assert (r.status_code, r.json()["code"]) == (400, "bad_base64")
    r = client.post("/api/v1/detect?model=../tiny-cnn", files={"file": ("a.png", images.png())})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_model_name")
    r = client.post("/api/v1/detect?model=nothing", files={"file": ("a.png", images.png())})
    assert (r.status_code, r.json()["code"]) == (404, "unknown_model")


def test_legacy_post_uses_seed_labels(client):
    x, _ = toy_images(2, 32, seed=8)
    r = client.post("/", json={"bytes_data": base64.b64encode(images.png(x[1])).decode()})
    modern = client.post(
        "/api/v1/detect?model=tiny-cnn", files={"file": ("a.png", images.png(x[1]))}
    ).json()
    body = r.json()
    assert body["proba_resnet"] == pytest.approx(1 - modern["ai_probability"])  # default: P(real)
    assert body["result_resnet"] == (0 if modern["ai_probability"] >= 0.5 else 1)


def test_legacy_post_follows_the_configured_default(tiny_models):
    """With no legacy or resnet50 model, ``POST /`` answers with the default the app was
    configured with (``AIDETECT_DEFAULT_MODEL``), not the one marked in the metadata."""
    settings = Settings(
        models_dir=tiny_models, frontend_dist="/nonexistent", provenance=False,
        default_model="tiny-svm",
    )  # fmt: skip
    x, _ = toy_images(2, 32, seed=8)
    with TestClient(create_app(settings)) as c:
        body = c.post("/", json={"bytes_data": base64.b64encode(images.png(x[1])).decode()})
        svm = c.post("/api/v1/detect?model=tiny-svm", files={"file": ("a.png", images.png(x[1]))})
        cnn = c.post("/api/v1/detect?model=tiny-cnn", files={"file": ("a.png", images.png(x[1]))})
    p_svm, p_cnn = svm.json()["ai_probability"], cnn.json()["ai_probability"]
    assert p_svm != pytest.approx(p_cnn)  # the two models tell apart
    assert body.json()["proba_resnet"] == pytest.approx(1 - p_svm)


def test_legacy_model_is_resolved_once_at_start_up(tiny_models, monkeypatch):
    """``AIDETECT_LEGACY_MODEL`` is checked when the models load (a wrong name fails then,
    with the reason, not on a client's request), and ``POST /`` reads no metadata."""
    from aidetect.registry import Registry

    png = images.png(toy_images(2, 32, seed=8)[0][1])
    wrong = Settings(
        models_dir=tiny_models, frontend_dist="/nonexistent", provenance=False,
        legacy_model="no-such-model",
    )  # fmt: skip
    with TestClient(create_app(wrong)) as c:
        r = c.post("/", json={"bytes_data": base64.b64encode(png).decode()})
        assert r.status_code == 503 and "no-such-model" in r.json()["detail"]
    settings = Settings(models_dir=tiny_models, frontend_dist="/nonexistent", provenance=False)
    with TestClient(create_app(settings)) as c:  # no legacy or resnet50 model: the default

        def no_metadata_reads(*_a, **_k):
            raise AssertionError("metadata read while answering POST /")

        monkeypatch.setattr(Registry, "legacy_name", no_metadata_reads)
        monkeypatch.setattr(Registry, "metadata", no_metadata_reads)
        body = c.post("/", json={"bytes_data": base64.b64encode(png).decode()})
        monkeypatch.undo()
        default = c.post("/api/v1/detect", files={"file": ("a.png", png)})
    assert body.status_code == 200
    assert body.json()["proba_resnet"] == pytest.approx(1 - default.json()["ai_probability"])


def test_heatmap_on_request_only(client):
    r = client.post(
        "/api/v1/detect?heatmap=true",
        files={"file": ("a.png", images.png(images.photo_like(200, 120)))},
    )
    assert r.json()["heatmap"].startswith("data:image/png;base64,")
    assert (
        client.post("/api/v1/detect", files={"file": ("a.png", images.png())}).json()["heatmap"]
        is None
    )
