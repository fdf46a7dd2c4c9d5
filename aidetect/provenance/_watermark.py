"""Decoder for invisible-watermark's ``dwtDct`` marks (Stable Diffusion, SDXL/diffusers).

What the encoder (``imwatermark.maxDct.EmbedMaxDct``, scales ``[0, 36, 36]``,
block 4) does: convert BGR to YUV, take the one-level Haar DWT approximation of
the U channel (only channel 1 is used: the loop runs over channels 0 and 1 and
Y has scale 0), cut it into 4x4 blocks in row-major order, and in block number
``k`` quantise the largest-magnitude non-DC coefficient so that ``|v| mod 36``
is above 18 for bit 1 and below for bit 0, bit ``k mod L`` of the L-bit mark.
Decoding reads ``|v| mod 36 > 18`` for every block and takes the mean over all
blocks that carry the same bit.

Why this is a re-implementation, not a call to ``WatermarkDecoder``: the
reference decoder loops in Python over every 4x4 block (about 190,000 blocks
and several seconds for a 12-megapixel photo), and ``import imwatermark``
imports torch (for its rivaGan method). This vectorised version (Pillow for the
colour conversion, integer NumPy for the rest) gives the reference decoder's
bits (the tests compare them) in milliseconds, and needs neither OpenCV nor
PyWavelets at run time.

Why a crop is valid (and a resize is not): each 4x4 block of the Haar
approximation is a function of one 8x8 pixel tile, and the bit it carries
depends only on its global block number. Decoding a region whose corners lie
on the 8-pixel grid of the full image, with each block's *global* number, gives
exactly the per-block votes the full decode would give for those blocks (the
tests check this against a full decode). We read a centred region of at most
768x768 pixels (9,216 blocks: 67 votes per bit of the 136-bit mark, 192 per bit
of the 48-bit one), which bounds the time at a few milliseconds.
Resizing, or cropping the file off the 8-pixel grid, destroys the mark; so does
strong JPEG compression. A missing mark means nothing.

The two marks are checked in both channel orders: the Stable Diffusion scripts
give the encoder real BGR, while diffusers' ``StableDiffusionXLWatermarker``
passes RGB arrays, so its mark sits in the channel OpenCV computes as "U" from
swapped colours.

Tolerance: the 136-bit mark matches when at least 85% of its bits agree with the
decoded bits (116 of 136, up to 20 errors), the 48-bit mark when at least 90% do
(44 of 48, up to 4 errors). The encoder itself is lossy: it quantises the largest
coefficient of each block, which in smooth areas stops being the largest, so
even a freshly marked smooth image decodes with some errors (a textured 512x512
image decodes perfectly; the same image made smooth loses 10% of the 136 bits).
For an unmarked image each decoded bit is a coin flip, so a chance match has
probability 6e-18 (136 bits, >= 116) and 8e-10 (48 bits, >= 44); flat images
decode to all-0 or all-1, which agree with 50% (SD) and at most 56% (SDXL).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

SCALE = 36.0
MIN_SIDE = 256  # the encoder refuses smaller images; we require both sides
REGION_BLOCKS = 96  # region side in 8-pixel tiles: 768 px

SD_V1_MESSAGE = b"StableDiffusionV1"
SD_V1_BITS = np.unpackbits(np.frombuffer(SD_V1_MESSAGE, dtype=np.uint8)).astype(bool)
# diffusers/pipelines/stable_diffusion_xl/watermark.py
SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110
SDXL_BITS = np.array([int(b) for b in bin(SDXL_MESSAGE)[2:]], dtype=bool)

# (name, bits, fewest agreeing bits for a match)
MARKS: tuple[tuple[str, np.ndarray, int], ...] = (
    ("Stable Diffusion 'StableDiffusionV1' (136-bit)", SD_V1_BITS, 116),  # >= 85%
    ("SDXL/diffusers 48-bit", SDXL_BITS, 44),  # >= 90%
)


@dataclass(frozen=True)
class Match:
    name: str
    agree: int
    total: int
    needed: int
    channel_order: str  # "BGR" (SD scripts) or "RGB" (diffusers)


def region(height: int, width: int) -> tuple[int, int, int, int] | None:
    """The decode region ``(y0, y1, x0, x1)`` in stored pixel coordinates."""
    if height < MIN_SIDE or width < MIN_SIDE:
        return None
    nby, nbx = height // 8, width // 8
    rby, rbx = min(nby, REGION_BLOCKS), min(nbx, REGION_BLOCKS)
    by0, bx0 = (nby - rby) // 2, (nbx - rbx) // 2
    return by0 * 8, (by0 + rby) * 8, bx0 * 8, (bx0 + rbx) * 8


# U = 0.492 * (B - Y) + 128 with Y = 0.299 R + 0.587 G + 0.114 B (OpenCV's BGR2YUV).
_U_TRUE = (-0.492 * 0.299, -0.492 * 0.587, 0.492 * (1 - 0.114), 128.0)
_U_SWAPPED = (0.492 * (1 - 0.114), -0.492 * 0.587, -0.492 * 0.299, 128.0)


def _haar_u2(region: Image.Image, swap: bool) -> np.ndarray:
    """Twice the Haar approximation of the "U" channel: 2x2 sums of 8-bit U, as uint16.

    ``swap=False`` reads the pixels as RGB (true colours, what the SD scripts gave
    the encoder as BGR); ``swap=True`` reads their RGB as BGR, as diffusers did.
    Pillow's matrix conversion rounds U to 8 bits like OpenCV does (it can differ
    by one level on rare pixels), and keeping the sums as integers makes the bit
    test exact: ``|ca| mod 36 > 18`` is ``2ca mod 72 > 36``.
    """
    u = np.asarray(region.convert("L", _U_SWAPPED if swap else _U_TRUE))
    s = u[0::2, 0::2].astype(np.uint16)
    s += u[1::2, 0::2]
    s += u[0::2, 1::2]
    s += u[1::2, 1::2]
    return s


def _block_bits(s2: np.ndarray) -> np.ndarray:
    """Per-block bit from ``_haar_u2`` output: largest non-first value of each 4x4 block."""
    h, w = s2.shape
    by, bx = h // 4, w // 4
    s2 = s2[: by * 4, : bx * 4]
    s2[0::4, 0::4] = 0  # the reference skips the block's first coefficient
    # max over each 4x4 block as element-wise maxima of strided views (fast, SIMD)
    cols = np.maximum(np.maximum(s2[:, 0::4], s2[:, 1::4]), np.maximum(s2[:, 2::4], s2[:, 3::4]))
    val = np.maximum(np.maximum(cols[0::4], cols[1::4]), np.maximum(cols[2::4], cols[3::4]))
    return (val % int(2 * SCALE)) > int(SCALE)


def _votes(
    bits: np.ndarray, full_shape: tuple[int, int], origin: tuple[int, int], length: int
) -> np.ndarray:
    nbx = full_shape[1] // 8
    by0, bx0 = origin[0] // 8, origin[1] // 8
    rows = np.arange(by0, by0 + bits.shape[0], dtype=np.int64)[:, None]
    cols = np.arange(bx0, bx0 + bits.shape[1], dtype=np.int64)[None, :]
    index = ((rows * nbx + cols) % length).ravel()
    ones = np.bincount(index, weights=bits.ravel().astype(np.float64), minlength=length)
    count = np.bincount(index, minlength=length)
    return ones / np.maximum(count, 1)


def detect(
    rgb_region: np.ndarray, full_shape: tuple[int, int], origin: tuple[int, int]
) -> list[Match]:
    """Check both marks in both channel orders on a region cut by ``region()``."""
    found: list[Match] = []
    pil = Image.fromarray(np.ascontiguousarray(rgb_region, dtype=np.uint8), "RGB")
    for order, swap in (("BGR", False), ("RGB", True)):
        bits = _block_bits(_haar_u2(pil, swap))
        for name, mark, needed in MARKS:
            if any(m.name == name for m in found):
                continue
            votes = _votes(bits, full_shape, origin, len(mark))
            decoded = votes * 255 > 127  # the reference decoder's rule
            agree = int(np.count_nonzero(decoded == mark))
            if agree >= needed:
                found.append(Match(name, agree, len(mark), needed, order))
    return found


# Pillow's exif_transpose operations, undone on an upright array (orientation -> stored).
def to_stored_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    if orientation == 2:
        return upright[:, ::-1]
    if orientation == 3:
        return upright[::-1, ::-1]
    if orientation == 4:
        return upright[::-1]
    if orientation == 5:
        return upright.transpose(1, 0, 2)
    if orientation == 6:
        return np.rot90(upright, 1)
    if orientation == 7:
        return upright[::-1, ::-1].transpose(1, 0, 2)
    if orientation == 8:
        return np.rot90(upright, -1)
    return upright
