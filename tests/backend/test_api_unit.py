"""The HTTP layer with a fake detector: every endpoint, every error code."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from aidetect.settings import Settings
from aidetect_server.app.api.deps import get_detector
from aidetect_server.app.main import create_app
from tests.backend.fakes import FakeDetector
from tests.support import images


@pytest.fixture
def fake():
    return FakeDetector()


def make_client(fake, **settings):
    app = create_app(
        Settings(models_dir="/nonexistent", frontend_dist="/nonexistent", **settings), load=False
    )
    app.state.aidetect.ready = True
    app.state.aidetect.loaded_models = ["fake-cnn", "fake-resnet"]
    app.dependency_overrides[get_detector] = lambda: fake
    return TestClient(app)


@pytest.fixture
def client(fake):
    with make_client(fake) as c:
        yield c


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {
        "status": "ready",
        "models": ["fake-cnn", "fake-resnet"],
    }


def test_not_ready_is_503_everywhere():
    app = create_app(Settings(models_dir="/nonexistent", frontend_dist="/nonexistent"), load=False)
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["code"] == "not_ready"
        assert c.get("/healthz").status_code == 200
        r = c.post("/api/v1/detect", files={"file": ("a.png", images.png())})
        assert r.status_code == 503 and r.json()["code"] == "not_ready"
        assert c.get("/api/v1/models").status_code == 503


def test_detect_multipart(client):
    r = client.post("/api/v1/detect", files={"file": ("a.jpg", images.jpeg(), "image/jpeg")})
    assert r.status_code == 200
    body = r.json()
    assert body["verdict"] == "ai_generated" and body["ai_probability"] == 0.8
    assert body["model"] == {"name": "fake-cnn", "version": "9.9.9"}
    assert body["image"] == {
        "width": 96,
        "height": 64,
        "format": "JPEG",
        "jpeg_quality": 95,
        "webp_lossy": None,
    }
    assert body["decision"]["uncertain_band"] == [0.3, 0.7]
    assert body["evidence"] == [] and body["heatmap"] is None


def test_detect_json_base64_and_data_url(client):
    for image in (b64(images.png()), "data:image/png;base64," + b64(images.png())):
        r = client.post("/api/v1/detect", json={"image": image})
        assert r.status_code == 200 and r.json()["image"]["format"] == "PNG"


def test_detect_with_model_and_heatmap(client):
    r = client.post(
        "/api/v1/detect?model=fake-resnet&heatmap=true", files={"file": ("a.png", images.png())}
    )
    assert r.json()["model"]["name"] == "fake-resnet" and r.json()["verdict"] == "real"
    assert r.json()["heatmap"].startswith("data:image/png")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"files": {"file": ("a.png", b"")}}, 400, "empty_input"),
        ({"json": {"image": ""}}, 400, "empty_input"),
        ({"json": {"image": "***not base64***"}}, 400, "bad_base64"),
        ({"files": {"file": ("photo.jpg", b"hello, I am text")}}, 415, "unsupported_media_type"),
        ({"files": {"file": ("a.jpg", images.jpeg()[:200])}}, 400, "undecodable_image"),
        ({"files": {"file": ("big.png", images.huge_png())}}, 413, "too_many_pixels"),
        ({"json": {"wrong": "x"}}, 422, "malformed_request"),
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "malformed_request",
        ),
        ({"content": b"raw", "headers": {"content-type": "image/png"}}, 422, "malformed_request"),
        ({"files": {"other": ("a.png", images.png())}}, 422, "malformed_request"),
    ],
)
def test_detect_errors(client, kwargs, status, code):
    r = client.post("/api/v1/detect", **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and isinstance(r.json()["detail"], str)


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("../etc/passwd", 422, "invalid_model_name"),
        ("a/b", 422, "invalid_model_name"),
        ("nope", 404, "unknown_model"),
    ],
)
def test_model_parameter(client, model, status, code):
    r = client.post(
        "/api/v1/detect", params={"model": model}, files={"file": ("a.png", images.png())}
    )
    assert (r.status_code, r.json()["code"]) == (status, code)


def test_byte_limit_is_enforced_while_reading(fake):
    with make_client(fake, max_bytes=1000) as c:
        r = c.post("/api/v1/detect", files={"file": ("a.png", b"\x89PNG" + b"0" * 5000)})
        assert (r.status_code, r.json()["code"]) == (413, "too_many_bytes")
        r = c.post("/api/v1/detect", json={"image": b64(b"0" * 5000)})
        assert (r.status_code, r.json()["code"]) == (413, "too_many_bytes")
        assert fake.calls == []  # refused before any inference


def test_batch_one_bad_file_does_not_spoil_the_rest(client, fake):
    files = [
        ("files", ("a.png", images.png())),
        ("files", ("b.txt", b"text")),
        ("files", ("c.jpg", images.jpeg())),
    ]
    r = client.post("/api/v1/detect/batch", files=files)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["filename"] for x in results] == ["a.png", "b.txt", "c.jpg"]
    assert [x["ok"] for x in results] == [True, False, True]
    assert results[1]["error"]["code"] == "unsupported_media_type"
    assert results[2]["result"]["image"]["format"] == "JPEG"
    # one image at a time (a batch's peak memory is one image); the text file is refused
    # from its header, before anything is decoded
    assert fake.calls == [("detect", 1), ("detect", 1)]


def test_batch_limits(fake):
    with make_client(fake, max_batch_files=2, max_bytes=2000) as c:
        files = [("files", (f"{i}.png", images.png(images.photo_like(8, 8)))) for i in range(3)]
        r = c.post("/api/v1/detect/batch", files=files)
        assert (r.status_code, r.json()["code"]) == (413, "too_many_files")
        files = [
            ("files", ("small.png", images.png(images.photo_like(8, 8)))),
            ("files", ("big.png", b"0" * 3000)),
        ]
        r = c.post("/api/v1/detect/batch", files=files)
        assert r.status_code == 200
        assert [x["ok"] for x in r.json()["results"]] == [True, False]
        assert r.json()["results"][1]["error"]["code"] == "too_many_bytes"


def test_batch_errors(client):
    r = client.post("/api/v1/detect/batch", files={"file": ("a.png", images.png())})
    assert (r.status_code, r.json()["code"]) == (422, "malformed_request")
    r = client.post("/api/v1/detect/batch?model=nope", files={"files": ("a.png", images.png())})
    assert (r.status_code, r.json()["code"]) == (404, "unknown_model")


def test_models(client):
    body = client.get("/api/v1/models").json()
    assert body["default_model"] == "fake-cnn"
    cnn = next(m for m in body["models"] if m["name"] == "fake-cnn")
    assert cnn["metrics"] == {"accuracy": 0.91, "roc_auc": 0.97}
    assert cnn["input"] == {"policy": "crops", "size": 64} and cnn["default"] is True
    assert cnn["training_data"]["generators"] == ["esrgan-slim-x2"]
    assert body["limits"]["max_bytes"] == 20 * 1024 * 1024
    assert "image/jpeg" in body["limits"]["accepted_types"]


def test_legacy_endpoint_keeps_the_seed_convention(client):
    r = client.post("/", json={"bytes_data": b64(images.jpeg())})
    assert r.status_code == 200
    # fake-resnet says P(AI) = 0.25 with threshold 0.6: real, so 1, P(real) = 0.75
    assert r.json() == {"result_resnet": 1, "proba_resnet": 0.75}
    r = client.post("/", json={"bytes_data": "%%%"})
    assert (r.status_code, r.json()["code"]) == (400, "bad_base64")
    r = client.post("/", json={"nothing": 1})
    assert (r.status_code, r.json()["code"]) == (422, "malformed_request")


def test_openapi_documents_the_contract(client):
    spec = client.get("/openapi.json").json()
    assert {
        "/",
        "/api/v1/detect",
        "/api/v1/detect/batch",
        "/api/v1/models",
        "/healthz",
        "/readyz",
    } <= set(spec["paths"])
    body = spec["paths"]["/api/v1/detect"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert client.get("/docs").status_code == 200
    schemas = spec["components"]["schemas"]
    assert "out_of_scope" in schemas["DetectionResult"]["properties"]["verdict"]["enum"]
    decision = schemas["Decision"]["properties"]
    assert (
        "out_of_scope_reason" in decision and "smooth_gradient" in decision["rule"]["description"]
    )


def test_unknown_route_and_method_are_json(client):
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get("/api/v1/detect")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_security_headers_and_closed_cors(client):
    r = client.get("/healthz", headers={"Origin": "http://evil.example"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "access-control-allow-origin" not in r.headers


def test_cors_when_configured(fake):
    with make_client(fake, cors_origins=["http://app.example"]) as c:
        r = c.options(
            "/api/v1/detect",
            headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
        )
        assert r.headers["access-control-allow-origin"] == "http://app.example"


def test_rate_limit(fake):
    with make_client(fake, rate_limit_per_minute=2) as c:
        codes = [
            c.post("/api/v1/detect", files={"file": ("a.png", images.png())}).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        assert c.get("/healthz").status_code == 200  # GETs are not limited


def test_overload_and_timeout(fake):
    import threading
    import time

    with make_client(fake, max_concurrency=1, request_timeout_s=0.5) as c:
        fake.block.clear()
        r = c.post("/api/v1/detect", files={"file": ("a.png", images.png())})
        assert (r.status_code, r.json()["code"]) == (503, "timeout")
        fake.block.set()
    with make_client(fake, max_concurrency=1, request_timeout_s=5) as c:
        fake.block.clear()
        c.app.state.aidetect.runner.max_waiting = 0  # nobody may queue behind a running request
        results = []
        t = threading.Thread(
            target=lambda: results.append(
                c.post("/api/v1/detect", files={"file": ("a.png", images.png())})
            )
        )
        t.start()
        time.sleep(0.3)
        r = c.post("/api/v1/detect", files={"file": ("a.png", images.png())})
        fake.block.set()
        t.join(5)
        assert results and results[0].status_code == 200
        assert (r.status_code, r.json()["code"]) == (503, "overloaded")


def test_validation_errors_are_one_string(client):
    r = client.post("/api/v1/detect?heatmap=banana", files={"file": ("a.png", images.png())})
    body = r.json()
    assert (r.status_code, body["code"]) == (422, "validation_error")
    assert isinstance(body["detail"], str) and "heatmap" in body["detail"]
    assert "banana" not in body["detail"]  # input values are never echoed


def test_a_long_model_name_is_not_echoed_whole(client):
    r = client.post("/api/v1/detect?model=" + "x" * 10_000, files={"file": ("a.png", images.png())})
    body = r.json()
    assert (r.status_code, body["code"]) == (422, "invalid_model_name")
    assert len(body["detail"]) < 300 and "10,000 characters" in body["detail"]


def test_api_paths_are_not_swallowed_by_the_page(fake, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>page</title>")
    app = create_app(Settings(models_dir="/nonexistent", frontend_dist=tmp_path), load=False)
    app.state.aidetect.ready = True
    app.dependency_overrides[get_detector] = lambda: fake
    with TestClient(app) as c:
        assert "page" in c.get("/").text
        r = c.get("/api/v1/detect")
        assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")
        assert r.headers["allow"] == "POST"
        r = c.get("/api/v1/nothing")
        assert (r.status_code, r.json()["code"]) == (404, "not_found")


def test_docs_need_no_cdn(client):
    html = client.get("/docs").text
    assert "cdn" not in html.lower() and "/docs-assets/swagger-ui-bundle.js" in html
    js = client.get("/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
