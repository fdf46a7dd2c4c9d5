"""Test images made in code (Pillow), never committed binaries."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image


def photo_like(width: int = 96, height: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth gradient with noise: an upright RGB uint8 array with a distinct top-left."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack(
        [xx * 255 / max(1, width - 1), yy * 255 / max(1, height - 1), (xx + yy) % 256], -1
    )
    arr = np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)
    arr[: height // 4, : width // 4] = (250, 20, 20)  # a red corner shows orientation
    return arr


def encode(img: Image.Image | np.ndarray, fmt: str, **kwargs) -> bytes:
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def jpeg(arr: np.ndarray | None = None, quality: int = 95, **kw) -> bytes:
    return encode(photo_like() if arr is None else arr, "JPEG", quality=quality, **kw)


def png(arr: np.ndarray | None = None, **kw) -> bytes:
    return encode(photo_like() if arr is None else arr, "PNG", **kw)


def exif_rotated_jpeg(arr: np.ndarray, orientation: int = 6) -> bytes:
    """A JPEG stored sideways with an EXIF Orientation tag that makes it upright again.

    Orientation 6 means "rotate 90 degrees clockwise to display": so we store the
    upright image rotated 90 degrees counter-clockwise. Saved losslessly-ish
    (quality 100) so pixel comparisons stay tight.
    """
    img = Image.fromarray(arr)
    transposes = {
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
        3: Image.Transpose.ROTATE_180,
    }
    stored = img.transpose(transposes[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=100, subsampling=0, exif=exif.tobytes())


def huge_png(side: int = 20000) -> bytes:
    """A 20000x20000 one-bit PNG of a few hundred KB: 400 MP if decoded."""
    return encode(Image.new("1", (side, side)), "PNG")


def animated_gif(frames: int = 3) -> bytes:
    imgs = [Image.new("RGB", (32, 32), (i * 60, 0, 0)) for i in range(frames)]
    buf = io.BytesIO()
    imgs[0].save(buf, "GIF", save_all=True, append_images=imgs[1:], duration=50, loop=0)
    return buf.getvalue()


def sample_photo_path() -> Path:
    """A real camera photo that ships inside scikit-learn's wheel."""
    import sklearn

    return Path(os.path.dirname(sklearn.__file__)) / "datasets" / "images" / "china.jpg"


def float_planar_tiff(width: int = 10, height: int = 10, pages: int = 2) -> bytes:
    """A multi-page RGB TIFF of 64-bit floats in separate planes, the layout of
    scikit-image's ``multipage_rgb.tif`` (written by tifffile), which Pillow cannot read."""
    import struct

    plane = width * height * 8
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    offsets = []
    for page in range(pages):
        ifd = len(out)
        offsets.append(ifd)
        n = 11
        extra = ifd + 2 + 12 * n + 4  # arrays after the IFD
        bits_at, strips_at, counts_at, fmt_at = extra, extra + 6, extra + 18, extra + 30
        data_at = extra + 36
        entries = [
            (256, 4, 1, width),
            (257, 4, 1, height),
            (258, 3, 3, bits_at),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (273, 4, 3, strips_at),
            (277, 3, 1, 3),
            (278, 4, 1, height),
            (279, 4, 3, counts_at),
            (284, 3, 1, 2),
            (339, 3, 3, fmt_at),
        ]
        out += struct.pack("<H", n)
        for tag, typ, count, value in entries:
            if typ == 3 and count == 1:
                out += struct.pack("<HHIHH", tag, typ, count, value, 0)
            else:
                out += struct.pack("<HHII", tag, typ, count, value)
        next_at = data_at + 3 * plane if page < pages - 1 else 0
        out += struct.pack("<I", next_at)
        out += struct.pack("<3H", 64, 64, 64)
        out += struct.pack("<3I", *(data_at + i * plane for i in range(3)))
        out += struct.pack("<3I", plane, plane, plane)
        out += struct.pack("<3H", 3, 3, 3)
        rng = np.random.default_rng(page)
        out += rng.random((3, height, width)).astype("<f8").tobytes()
    return bytes(out)


def out_of_scope_examples() -> dict[str, tuple[str, np.ndarray]]:
    """Pictures no pixel model can judge, each with the scope rule it must break.

    Shared by the scope tests and ``benchmarks/measure_scope.py``: a dot, flat and
    nearly flat squares, a gradient, checkerboards, a chart, a drawn cartoon, text on a
    page, a thin strip and two kinds of noise.
    """
    from PIL import ImageDraw

    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:480, 0:640]
    out: dict[str, tuple[str, np.ndarray]] = {}
    out["dot_1x1"] = ("too_small", np.full((1, 1, 3), 200, np.uint8))
    out["strip_4000x1"] = ("too_small", rng.integers(0, 255, (1, 4000, 3), dtype=np.uint8))
    out["strip_2000x100"] = ("extreme_aspect_ratio", photo_like(2000, 100, seed=2))
    out["flat_grey"] = ("flat", np.full((480, 640, 3), 128, np.uint8))
    near = np.full((480, 640, 3), (30, 90, 200), np.float64) + rng.normal(0, 1.0, (480, 640, 3))
    out["nearly_flat_blue"] = ("flat", np.clip(near, 0, 255).astype(np.uint8))
    grad = np.stack([xx * 255 / 639, yy * 255 / 479, np.full_like(xx, 128.0)], -1)
    out["gradient"] = ("smooth_gradient", grad.astype(np.uint8))
    out["checkerboard_32"] = (
        "synthetic_graphic",
        np.repeat((((yy // 32 + xx // 32) % 2) * 255).astype(np.uint8)[..., None], 3, 2),
    )
    out["checkerboard_1"] = (
        "synthetic_graphic",
        np.repeat((((yy + xx) % 2) * 255).astype(np.uint8)[..., None], 3, 2),
    )
    chart = Image.new("RGB", (640, 480), "white")
    d = ImageDraw.Draw(chart)
    d.line([(60, 20), (60, 440), (620, 440)], fill="black", width=2)
    for i, hgt in enumerate([120, 300, 220, 380, 160, 260]):
        d.rectangle([90 + i * 88, 440 - hgt, 150 + i * 88, 439], fill=(60, 110, 200))
        d.text((100 + i * 88, 450), f"Q{i + 1}", fill="black")
    d.line([(60, 300), (620, 120)], fill=(220, 60, 40), width=3)
    out["bar_chart"] = ("synthetic_graphic", np.asarray(chart))
    cartoon = Image.new("RGB", (640, 480), (135, 200, 250))
    d = ImageDraw.Draw(cartoon)
    d.rectangle([0, 360, 640, 480], fill=(90, 170, 70))
    d.ellipse([480, 40, 580, 140], fill=(255, 220, 0), outline="black", width=3)
    d.ellipse([200, 180, 400, 380], fill=(250, 200, 160), outline="black", width=4)
    d.ellipse([250, 240, 275, 265], fill="black")
    d.ellipse([325, 240, 350, 265], fill="black")
    d.arc([250, 260, 350, 340], 20, 160, fill="black", width=4)
    out["cartoon"] = ("synthetic_graphic", np.asarray(cartoon))
    page = Image.new("RGB", (640, 480), "white")
    d = ImageDraw.Draw(page)
    for line in range(28):
        d.text((20, 10 + line * 16), "The quick brown fox jumps over the lazy dog. " * 2, "black")
    out["text_page"] = ("synthetic_graphic", np.asarray(page))
    for name in ("bar_chart", "cartoon", "text_page"):  # as they travel: JPEG at quality 90
        jpg = Image.open(io.BytesIO(encode(out[name][1], "JPEG", quality=90))).convert("RGB")
        out[f"{name}_jpeg"] = ("synthetic_graphic", np.asarray(jpg))
    out["uniform_noise"] = ("noise", rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
    gauss = np.clip(rng.normal(128, 50, (480, 640, 3)), 0, 255).astype(np.uint8)
    out["gaussian_noise"] = ("noise", gauss)
    return out
