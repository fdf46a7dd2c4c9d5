"""What each model has and has not seen: the metadata's ``scope``, served by /api/v1/models."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from aidetect.registry import ModelMetadata, Registry
from aidetect.settings import Settings
from aidetect_server.app.main import create_app
from tests.conftest import REPO


@pytest.fixture(scope="module")
def shipped():
    app = create_app(Settings(models_dir=REPO / "models", frontend_dist="/nonexistent"))
    with TestClient(app) as c:
        yield c.get("/api/v1/models").json()


def test_the_shipped_model_says_what_it_has_seen(shipped):
    (svm,) = [m for m in shipped["models"] if m["name"] == "svm-residual"]
    scope = svm["scope"]
    assert {f["family"] for f in scope["trained_on"]} == {
        "esrgan-slim",
        "esrgan-medium",
        "esrgan-thick",
    }
    assert {f["kind"] for f in scope["trained_on"]} == {"super-resolution"}
    # The training images per family are the model's own (corpus-v1), not the counts of
    # the corpus it was evaluated on: they add up to its training split's fakes.
    meta = json.loads((REPO / "models/svm-residual/metadata.json").read_text())
    fakes = meta["training_data"]["splits"]["train"]["per_class"]["ai_generated"]
    assert sum(f["images"] for f in scope["trained_on"]) == fakes == 694
    # every text-to-image family it never saw is listed with its measured figures
    held = {f["family"]: f for f in scope["held_out"]}
    assert {f["kind"] for f in held.values()} >= {"text-to-image"}
    assert not held.keys() & {f["family"] for f in scope["trained_on"]}
    for h in held.values():
        assert h["n"] > 0 and h["test_set"] and 0 <= h["roc_auc"] <= 1
    assert "may be missed" in scope["note"]
    assert svm["metrics_n"] == 222  # the figures' sample size


def test_scope_does_not_touch_the_model_hash():
    Registry(REPO / "models").verify("svm-residual")  # the SHA-256 covers the model file only


def test_a_model_without_scope_still_loads(tiny_models):
    meta = Registry(tiny_models).metadata("tiny-svm")
    assert meta.scope is None


def test_scope_is_checked():
    base = json.loads((REPO / "models/svm-residual/metadata.json").read_text())
    base["scope"] = {"trained_on": [{"family": "x", "kind": "gan", "images": -1}]}
    with pytest.raises(ValidationError):
        ModelMetadata.model_validate(base)


def test_an_undefined_held_out_figure_is_null():
    from aidetect.registry import HeldOutFamily

    held = HeldOutFamily(family="f", kind="gan", test_set="t", n=3, roc_auc=float("nan"))
    assert held.roc_auc is None


def test_the_shipped_default_is_the_model_the_readme_names():
    """Exactly one shipped model is marked default, the one README names (version too).
    Retraining into models/NAME once wrote "default": false and the server silently fell
    back to the alphabetically first model."""
    import re

    readme = (REPO / "README.md").read_text()
    named = re.search(r"The default model \(`([^`]+)` ([0-9][0-9.]*)\)", readme)
    assert named, "README names the default model"
    reg = Registry(REPO / "models")
    marked = [n for n in reg.names() if reg.metadata(n).default]
    assert marked == [named.group(1)]
    assert reg.default_name() == named.group(1)
    assert reg.metadata(named.group(1)).version == named.group(2)


def test_the_shipped_default_has_its_jpeg_measurements():
    """The verdict's compression rule reads them (aidetect.verdict.compression_note)."""
    reg = Registry(REPO / "models")
    scope = reg.metadata(reg.default_name()).scope
    rows = {r.variant: r for r in scope.robustness}
    assert "original" in rows and rows["original"].detection_rate is not None
    assert {r.jpeg_quality for r in rows.values() if r.jpeg_quality} >= {95, 90, 75, 50}
    assert all(r.n_ai > 0 and r.n_real > 0 for r in rows.values())
