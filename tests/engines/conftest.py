from __future__ import annotations

import pytest
from PIL import Image

from tests.provenance.support import A1111, png_with_text
from tests.support import images
from tests.support.tiny_models import toy_images


@pytest.fixture
def folder(tmp_path):
    """Toy images in nested folders, a PNG with a generator's text (an evidence row), a JPEG
    and a broken file."""
    root = tmp_path / "data"
    x, _ = toy_images(8, 64, seed=41)
    for i, a in enumerate(x):
        d = root / ("sub" if i % 3 == 0 else "")
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(a).save(d / f"{i}.png")
    (root / "a1111.png").write_bytes(png_with_text({"parameters": A1111}))
    (root / "photo.jpg").write_bytes(images.jpeg())
    (root / "broken.jpg").write_bytes(b"not really a jpeg")
    return root
