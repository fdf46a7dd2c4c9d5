"""Fixtures for the corpus tests: offline except for one ``npm pack`` of esrgan-slim (cached)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from aidetect.corpus.build import DEFAULT_NPM_CACHE, npm_package_dir


@pytest.fixture(scope="session")
def npm_cache() -> Path:
    return Path(os.environ.get("AIDETECT_NPM_CACHE", DEFAULT_NPM_CACHE)).expanduser()


@pytest.fixture(scope="session")
def slim_package(npm_cache: Path) -> Path:
    """The unpacked ``@upscalerjs/esrgan-slim@1.0.0`` package, fetched once with ``npm pack``."""
    cached = npm_cache / "upscalerjs-esrgan-slim-1.0.0" / "package" / "package.json"
    if not cached.exists() and shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot fetch @upscalerjs/esrgan-slim@1.0.0")
    try:
        return npm_package_dir("slim", npm_cache)
    except Exception as exc:  # registry unreachable
        pytest.skip(f"could not fetch @upscalerjs/esrgan-slim@1.0.0 with npm pack: {exc}")
