from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
SEED_MODEL = REPO.parent / "shared" / "peers" / "seed-cifake-cnn" / "my_model.keras"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """A models folder with tiny-cnn (Keras, crops), tiny-svm (sklearn, resize), tiny-ensemble."""
    from tests.support.tiny_models import build_all

    root = tmp_path_factory.mktemp("models")
    build_all(root)
    return root
