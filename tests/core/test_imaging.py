from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from aidetect.errors import (
    EmptyInputError,
    TooManyBytesError,
    TooManyPixelsError,
    UndecodableImageError,
    UnsupportedImageTypeError,
)
from aidetect.imaging import DecodeLimits, decode_image
from tests.support import images


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_accepted_format_decodes_to_rgb(fmt):
    arr = images.photo_like(40, 30)
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    out = decode_image(images.encode(arr, fmt, **kwargs))
    assert out.pixels.shape == (30, 40, 3) and out.pixels.dtype == np.uint8
    assert out.format == fmt
    if fmt in ("PNG", "BMP", "TIFF", "WEBP"):
        np.testing.assert_array_equal(out.pixels, arr)


def test_rgba_is_composited_over_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, ..., 3] = 255  # top half opaque red, bottom transparent
    out = decode_image(images.encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert tuple(out.pixels[0, 0]) == (200, 0, 0)
    assert tuple(out.pixels[3, 3]) == (255, 255, 255)
    assert out.mode == "RGBA"


def test_la_and_palette_with_transparency():
    la = Image.new("LA", (3, 3), (10, 0))
    assert tuple(decode_image(images.encode(la, "PNG")).pixels[0, 0]) == (255, 255, 255)
    p = Image.new("P", (3, 3), 1)
    p.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    p.info["transparency"] = 0
    assert tuple(decode_image(images.encode(p, "PNG", transparency=0)).pixels[0, 0]) == (0, 255, 0)


def test_cmyk_jpeg():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red in CMYK
    out = decode_image(images.encode(cmyk, "JPEG", quality=100))
    r, g, b = out.pixels[4, 4].astype(int)
    assert r > 200 and g < 60 and b < 60
    assert out.mode == "CMYK"


def test_16_bit_grey_png_is_scaled_not_clipped():
    grey16 = np.array([[0, 32896, 65535]], dtype=np.uint16)
    out = decode_image(images.encode(Image.fromarray(grey16), "PNG"))
    assert out.pixels[0, :, 0].tolist() == [0, 128, 255]
    assert out.mode.startswith("I")


def test_grey_and_bilevel():
    assert decode_image(images.encode(Image.new("L", (2, 2), 7), "PNG")).pixels[0, 0].tolist() == [
        7,
        7,
        7,
    ]
    assert (
        decode_image(images.encode(Image.new("1", (2, 2), 1), "PNG")).pixels[0, 0].tolist()
        == [255] * 3
    )


def test_exif_rotated_jpeg_equals_upright():
    upright = images.photo_like(64, 40)
    out = decode_image(images.exif_rotated_jpeg(upright, 6))
    assert out.pixels.shape == upright.shape
    assert np.abs(out.pixels.astype(int) - upright.astype(int)).mean() < 3
    assert out.pixels[2, 2, 0] > 200  # the red corner is top-left again


def test_animated_gif_uses_first_frame():
    out = decode_image(images.animated_gif(3))
    assert out.n_frames == 3
    assert tuple(out.pixels[0, 0]) == (0, 0, 0)


def test_one_pixel_image():
    assert decode_image(images.png(np.full((1, 1, 3), 9, np.uint8))).pixels.shape == (1, 1, 3)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", EmptyInputError),
        (b"just some text, named photo.jpg", UnsupportedImageTypeError),
        (b"%PDF-1.7\n", UnsupportedImageTypeError),
        (images.jpeg()[:300], UndecodableImageError),
        (images.png()[:60], UndecodableImageError),
    ],
)
def test_bad_inputs_raise_typed_errors(data, error):
    with pytest.raises(error):
        decode_image(data)


def test_truncated_jpeg_body_is_an_error_not_grey_pixels():
    data = images.jpeg(images.photo_like(256, 256))
    with pytest.raises(UndecodableImageError):
        decode_image(data[: len(data) * 2 // 3])


def test_pixel_limit_is_checked_before_decoding():
    data = images.huge_png()
    assert len(data) < 1_000_000
    with pytest.raises(TooManyPixelsError) as exc:
        decode_image(data, DecodeLimits(max_pixels=50_000_000))
    assert "pixels" in exc.value.detail
    with pytest.raises(TooManyPixelsError) as exc:  # under Pillow's own bomb limit: ours
        decode_image(images.huge_png(9000), DecodeLimits(max_pixels=50_000_000))
    assert "9000x9000" in exc.value.detail


def test_byte_limit():
    with pytest.raises(TooManyBytesError):
        decode_image(images.png(), DecodeLimits(max_bytes=100))


def test_error_codes_and_statuses_are_stable():
    assert (UnsupportedImageTypeError.status, UnsupportedImageTypeError.code) == (
        415,
        "unsupported_media_type",
    )
    assert (UndecodableImageError.status, TooManyPixelsError.status, TooManyBytesError.status) == (
        400,
        413,
        413,
    )


def test_multi_page_tiffs():
    """A multi-page RGB TIFF answers with its first page; one of float planes (the layout
    of scikit-image's multipage_rgb.tif) is refused as unsupported, with the reason."""
    frames = [Image.fromarray(images.photo_like(seed=i)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    img = decode_image(buf.getvalue())
    assert img.n_frames == 3 and np.array_equal(img.pixels, np.asarray(frames[0]))
    with pytest.raises(UnsupportedImageTypeError) as err:
        decode_image(images.float_planar_tiff())
    assert err.value.code == "unsupported_media_type"
    assert "floating-point" in err.value.detail and "PNG" in err.value.detail
