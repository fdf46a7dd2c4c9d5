from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidetect.corpus.esrgan import Upscaler, depth_to_space

CHINA = Path(__import__("sklearn.datasets").datasets.__file__).parent / "images" / "china.jpg"


def test_depth_to_space_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = np.arange(2 * 3 * 4 * 12, dtype=np.float32).reshape(2, 3, 4, 12)
    ours = np.asarray(depth_to_space(x, 2))
    assert np.array_equal(ours, tf.nn.depth_to_space(x, 2).numpy())


def test_port_reproduces_upscalerjs_sample(slim_package: Path):
    """The package ships UpscalerJS's own x2 output for its fixture: we match it to +-1."""
    fixture = np.asarray(Image.open(slim_package / "assets" / "fixture.png").convert("RGB"))
    expected = np.asarray(
        Image.open(slim_package / "assets" / "samples" / "2x" / "result.png").convert("RGB")
    )
    got = Upscaler.load(slim_package, "slim", 2).upscale(fixture)
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1


def _hf_energy(img: np.ndarray) -> float:
    g = img.astype(np.float64).mean(axis=2)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(np.mean(lap**2))


def test_upscale_is_sharper_than_bicubic(slim_package: Path):
    original = np.asarray(Image.open(CHINA).convert("RGB"))[150:278, 100:228]
    low = Image.fromarray(original).resize((32, 32), Image.BICUBIC)
    sr = Upscaler.load(slim_package, "slim", 4).upscale(np.asarray(low))
    bicubic = np.asarray(low.resize((128, 128), Image.BICUBIC))
    assert sr.shape == original.shape and sr.dtype == np.uint8
    assert _hf_energy(sr) > 1.2 * _hf_energy(bicubic)
    # still the same picture: close to the original at low frequencies
    blur = lambda a: np.asarray(Image.fromarray(a).resize((16, 16), Image.BOX), dtype=float)  # noqa: E731
    assert np.abs(blur(sr) - blur(original)).mean() < 12
