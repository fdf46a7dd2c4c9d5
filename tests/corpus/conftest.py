"""Fixtures for the corpus tests: offline except for ``npm pack`` of esrgan-slim and
@upscalerjs/models (cached)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from aidetect.corpus.build import DEFAULT_NPM_CACHE, npm_package_dir


@pytest.fixture(scope="session")
def npm_cache() -> Path:
    return Path(os.environ.get("AIDETECT_NPM_CACHE", DEFAULT_NPM_CACHE)).expanduser()


def _npm_package(size: str, npm_cache: Path) -> Path:
    """An UpscalerJS package, fetched once with ``npm pack``; skips when that cannot be."""
    from aidetect.corpus.esrgan import NPM_PACKAGES, npm_version

    pkg = f"{NPM_PACKAGES[size]}@{npm_version(size)}"
    cached = npm_cache / pkg.lstrip("@").replace("/", "-").replace("@", "-") / "package"
    if not (cached / "package.json").exists() and shutil.which("npm") is None:
        pytest.skip(f"npm is not installed: cannot fetch {pkg}")
    try:
        return npm_package_dir(size, npm_cache)
    except Exception as exc:  # registry unreachable
        pytest.skip(f"could not fetch {pkg} with npm pack: {exc}")


@pytest.fixture(scope="session")
def slim_package(npm_cache: Path) -> Path:
    """The unpacked ``@upscalerjs/esrgan-slim@1.0.0`` package."""
    return _npm_package("slim", npm_cache)


@pytest.fixture(scope="session")
def idealo_package(npm_cache: Path) -> Path:
    """The unpacked ``@upscalerjs/models@0.9.0`` package (idealo's GAN and PSNR models)."""
    return _npm_package("idealo-gans", npm_cache)


@pytest.fixture(scope="session")
def installed_codecs() -> dict:
    """source_id -> (format, quality) of every installed package photo, read here
    independently of any build (the builders read it while loading each photo)."""
    from aidetect.corpus import build as v1
    from aidetect.corpus.sources import fetch_sources

    photos, _ = fetch_sources("installed", None)
    return {v1._source_id(p): v1.source_codec(p.path) for p in photos}
