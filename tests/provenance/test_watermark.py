"""invisible-watermark dwtDct marks, embedded here with invisible-watermark's own encoder."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from aidetect.provenance import _watermark, analyse

from .support import AI_DECIDES, PIXEL_ONLY, encode, imwatermark, natural_rgb, triples, verdicts


def sd_v1(rgb: np.ndarray) -> np.ndarray:
    """As the Stable Diffusion scripts do: RGB -> BGR, encode 'StableDiffusionV1' bytes."""
    enc = imwatermark().WatermarkEncoder()
    enc.set_watermark("bytes", b"StableDiffusionV1")
    return np.ascontiguousarray(
        enc.encode(np.ascontiguousarray(rgb[:, :, ::-1]), "dwtDct")[:, :, ::-1]
    )


def sdxl(rgb: np.ndarray, *, diffusers: bool = True) -> np.ndarray:
    """The 48-bit SDXL mark. diffusers hands the encoder RGB arrays (as if BGR);
    Stability's generative-models flips to BGR first."""
    enc = imwatermark().WatermarkEncoder()
    enc.set_watermark("bits", [int(b) for b in bin(_watermark.SDXL_MESSAGE)[2:]])
    if diffusers:
        return (
            np.clip(enc.encode(rgb.astype(np.float32), "dwtDct"), 0, 255).round().astype(np.uint8)
        )
    return np.ascontiguousarray(
        enc.encode(np.ascontiguousarray(rgb[:, :, ::-1]), "dwtDct")[:, :, ::-1]
    )


@pytest.fixture(scope="module")
def base() -> np.ndarray:
    """512x512 like SD v1 output, with some texture (the encoder is lossy on smooth areas)."""
    noise = np.random.default_rng(6).normal(0, 20, (512, 512, 3))
    return np.clip(natural_rgb(512, 512, seed=5) + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def marked(base) -> dict[str, np.ndarray]:
    return {"sd": sd_v1(base), "sdxl": sdxl(base), "sdxl_bgr": sdxl(base, diffusers=False)}


@pytest.mark.parametrize(
    ("key", "name", "order"),
    [
        ("sd", "StableDiffusionV1", "BGR"),
        ("sdxl", "SDXL/diffusers 48-bit", "RGB"),
        ("sdxl_bgr", "SDXL/diffusers 48-bit", "BGR"),
    ],
)
def test_marks_are_found_in_png(marked, key, name, order):
    data = encode(Image.fromarray(marked[key]), "PNG")
    for ev in (analyse(data), analyse(data, Image.open(io.BytesIO(data)), marked[key])):
        assert triples(ev) == [("watermark", "ai_generated", "strong")]
        assert name in ev[0].detail and f"channel order {order}" in ev[0].detail
        assert "fragile" in ev[0].detail
        assert verdicts(ev) == AI_DECIDES


def test_unmarked_flat_and_small_images_give_nothing(base, marked):
    for arr in (
        base,
        np.full((300, 300, 3), 200, np.uint8),
        np.zeros((256, 512, 3), np.uint8),
        np.random.default_rng(1).integers(0, 256, (400, 400, 3), dtype=np.uint8),
    ):
        ev = analyse(encode(Image.fromarray(arr), "PNG"))
        assert ev == []
        assert verdicts(ev) == PIXEL_ONLY
    # too small (one side < 256 px): not checked, even if marked
    cut = marked["sd"][:248]
    assert analyse(encode(Image.fromarray(cut), "PNG")) == []


def test_after_jpeg_90_is_recorded_not_asserted(marked, record_property):
    """JPEG quality 90 usually destroys these marks; we only record what happens."""
    for key, arr in marked.items():
        ev = analyse(encode(Image.fromarray(arr), "JPEG", quality=90))
        found = [e.detail for e in ev if e.kind == "watermark"]
        record_property(f"jpeg90_{key}", found[0] if found else "not found")
        assert all(e.signal == "ai_generated" for e in ev)


def test_vectorised_decoder_matches_the_reference_decoder(marked):
    wm = imwatermark()
    for key, length, order in (("sd", 136, "BGR"), ("sdxl", 48, "RGB")):
        arr = marked[key]
        bgr = np.ascontiguousarray(arr[:, :, ::-1] if order == "BGR" else arr)
        ref = wm.WatermarkDecoder("bits", length).decode(bgr, "dwtDct")
        h, w = arr.shape[:2]
        y0, y1, x0, x1 = _watermark.region(h, w)
        pil = Image.fromarray(np.ascontiguousarray(arr[y0:y1, x0:x1]))
        bits = _watermark._block_bits(_watermark._haar_u2(pil, order == "RGB"))
        votes = _watermark._votes(bits, (h, w), (y0, x0), length)
        mine = votes * 255 > 127
        assert np.mean(mine == np.asarray(ref, bool)) >= 0.97, key


def test_region_votes_equal_full_image_votes():
    """A region on the 8-pixel grid keeps each block's bit (the basis of the bounded decode)."""
    rgb = np.random.default_rng(7).integers(0, 256, (1203, 1609, 3), dtype=np.uint8)
    full = _watermark._block_bits(_watermark._haar_u2(Image.fromarray(rgb[:1200, :1608]), False))
    y0, y1, x0, x1 = _watermark.region(1203, 1609)
    assert (y1 - y0, x1 - x0) == (768, 768) and y0 % 8 == 0 and x0 % 8 == 0
    part = _watermark._block_bits(
        _watermark._haar_u2(Image.fromarray(np.ascontiguousarray(rgb[y0:y1, x0:x1])), False)
    )
    assert np.array_equal(part, full[y0 // 8 : y1 // 8, x0 // 8 : x1 // 8])


def test_large_image_decoded_on_a_centred_region(base):
    big = np.concatenate([np.concatenate([base, base[:, ::-1]], 1)] * 2, 0)[:968, :1100]
    data = encode(Image.fromarray(sd_v1(big)), "PNG")
    ev = analyse(data)
    assert triples(ev) == [("watermark", "ai_generated", "strong")]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_orientation_inverts_exif_transpose(orientation):
    stored = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = orientation
    img = Image.open(io.BytesIO(encode(img, "PNG", exif=exif)))
    upright = np.asarray(ImageOps.exif_transpose(img))
    assert np.array_equal(_watermark.to_stored_orientation(upright, orientation), stored)


def test_upright_pixels_of_a_rotated_file(marked):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    data = encode(Image.fromarray(marked["sd"]), "PNG", exif=exif)
    img = Image.open(io.BytesIO(data))
    upright = np.asarray(ImageOps.exif_transpose(img))
    assert upright.shape[:2] == marked["sd"].shape[1::-1]
    ev = analyse(data, img, upright)
    assert triples(ev) == [("watermark", "ai_generated", "strong")]
