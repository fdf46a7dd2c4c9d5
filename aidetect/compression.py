"""How hard was this picture compressed? A JPEG's quality, read from the file's tables;
whether a WebP is lossy, read from its container.

Re-saving as JPEG erases much of the trace pixel detectors look for (docs/evaluation.md,
robustness: at quality 75 the default model finds a small share of the AI pictures it
finds uncompressed). The verdict has to know it to be honest (``aidetect.verdict``).

A JPEG file carries its quantisation tables; encoders that use the IJG (libjpeg) quality
scale, as Pillow, libjpeg-turbo, mozjpeg's defaults, browsers and most phones and web
services do, scale the standard tables of the JPEG specification (Annex K) by one factor
per quality. ``estimate_jpeg_quality`` finds the IJG quality whose tables are closest to
the file's, so a file saved "at quality 75" reads as 75; a file with its own tables (some
cameras, Photoshop) gets the nearest IJG quality: an estimate, said as "about".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: JPEG spec Annex K, Table K.1 (luminance), in natural (row-major) order.
STD_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.float64,
).ravel()
#: Table K.2 (chrominance).
STD_CHROMA = np.full((8, 8), 99.0)
STD_CHROMA[:4, :4] = [[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]]
STD_CHROMA = STD_CHROMA.ravel()


def ijg_table(standard: np.ndarray, quality: int) -> np.ndarray:
    """libjpeg's ``jpeg_set_quality`` table for ``quality`` (1-100), baseline (1..255)."""
    q = min(100, max(1, int(quality)))
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((standard * scale + 50) / 100), 1, 255)


#: every IJG quality's tables, row k for quality k + 1: (100, 64) each
_LUMA_BY_QUALITY = np.stack([ijg_table(STD_LUMA, q) for q in range(1, 101)])
_CHROMA_BY_QUALITY = np.stack([ijg_table(STD_CHROMA, q) for q in range(1, 101)])


def estimate_jpeg_quality(tables: Mapping[int, Sequence[int]] | None) -> int | None:
    """The IJG quality (1-100) whose tables are closest to ``tables`` (Pillow's
    ``Image.quantization``: table id -> 64 values in natural order); None without tables.

    Table 0 is compared with the luminance table and table 1 (when present) with the
    chrominance one; the quality with the smallest summed relative difference wins (ties:
    the higher quality, the milder claim).
    """
    if not tables or 0 not in tables:
        return None
    luma = np.asarray(tables[0], dtype=np.float64)
    if luma.size != 64:
        return None
    chroma = np.asarray(tables[1], dtype=np.float64) if 1 in tables else None
    if chroma is not None and chroma.size != 64:
        chroma = None
    err = np.sum(np.abs(luma - _LUMA_BY_QUALITY) / _LUMA_BY_QUALITY, axis=1)
    if chroma is not None:
        err += np.sum(np.abs(chroma - _CHROMA_BY_QUALITY) / _CHROMA_BY_QUALITY, axis=1)
    # the last minimum: on a tie the higher quality
    return int(100 - np.argmin(err[::-1]))


#: RIFF chunks looked at in one walk: a hostile file of millions of empty chunks costs
#: no more than a real one (the provenance walk uses the same cap).
MAX_RIFF_CHUNKS = 4096


def riff_chunks(data: bytes, start: int = 12, end: int | None = None):
    """Walk the chunks of a RIFF file (a WebP) from ``start`` to ``end``, at most
    ``MAX_RIFF_CHUNKS``: yields ``(fourcc, payload_start, payload_end)``; a chunk that
    claims to run past the end yields ``(None, its start, end)`` and ends the walk."""
    n = len(data) if end is None else min(end, len(data))
    pos = start
    for _ in range(MAX_RIFF_CHUNKS):
        if pos + 8 > n:
            return
        fourcc = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + size > n:
            yield None, pos, n
            return
        yield fourcc, pos + 8, pos + 8 + size
        pos += 8 + size + (size & 1)


def _webp_image_chunk(data: bytes) -> tuple[bytes, int, int] | None:
    """The first image chunk of a WebP (``VP8 `` or ``VP8L``; an animation's first frame),
    as ``(fourcc, payload_start, payload_end)``; None when there is none."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    for fourcc, a, b in riff_chunks(data):
        if fourcc in (b"VP8 ", b"VP8L"):
            return fourcc, a, b
        if fourcc == b"ANMF":  # an animation frame: 16 bytes of frame header, then chunks
            for inner, c, d in riff_chunks(data, a + 16, b):
                if inner in (b"VP8 ", b"VP8L"):
                    return inner, c, d
            return None
    return None


def webp_is_lossy(data: bytes) -> bool | None:
    """True for a lossy WebP (a ``VP8 `` image chunk, also inside an animation frame),
    False for a lossless one (``VP8L``), None when ``data`` is not a readable WebP.

    A WebP does not record a quality setting, so only lossy or not can be told.
    """
    found = _webp_image_chunk(data)
    return None if found is None else found[0] == b"VP8 "


class _BoolDecoder:
    """VP8's boolean entropy decoder (RFC 6386, section 7), enough for the frame header."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 2
        self.value = (data[0] << 8) | data[1] if len(data) >= 2 else 0
        self.range, self.bits = 255, 0

    def bit(self, prob: int = 128) -> int:
        split = 1 + (((self.range - 1) * prob) >> 8)
        big = split << 8
        if self.value >= big:
            out, self.range, self.value = 1, self.range - split, self.value - big
        else:
            out, self.range = 0, split
        while self.range < 128:
            self.value, self.range = self.value << 1, self.range << 1
            self.bits += 1
            if self.bits == 8:
                self.bits = 0
                if self.pos < len(self.data):
                    self.value |= self.data[self.pos]
                    self.pos += 1
        return out

    def literal(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bit()
        return v

    def signed(self, n: int) -> int:
        v = self.literal(n)
        return -v if self.bit() else v


def vp8_quantizers(data: bytes) -> list[int] | None:
    """The luma AC quantiser index (0-127) of each segment of a lossy WebP's key frame, as
    its frame header sets them (RFC 6386, sections 9.3 and 19.2); None when ``data`` is not
    a lossy WebP key frame. One index when the frame has no segment quantisers."""
    found = _webp_image_chunk(data)
    if found is None or found[0] != b"VP8 ":
        return None
    frame = data[found[1] : found[2]]
    if len(frame) < 11 or frame[0] & 1 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    d = _BoolDecoder(frame[10:])
    d.literal(2)  # colour space, clamping type
    segments: list[int] | None = None
    absolute = False
    if d.bit():  # segmentation enabled
        update_map, update_data = d.bit(), d.bit()
        if update_data:
            absolute = bool(d.bit())
            segments = [d.signed(7) if d.bit() else 0 for _ in range(4)]
            for _ in range(4):  # loop-filter levels
                if d.bit():
                    d.signed(6)
        if update_map:
            for _ in range(3):
                if d.bit():
                    d.literal(8)
    d.literal(1 + 6 + 3)  # filter type, loop-filter level, sharpness
    if d.bit() and d.bit():  # loop-filter deltas enabled, and updated here
        for _ in range(8):
            if d.bit():
                d.signed(6)
    d.literal(2)  # number of DCT partitions
    base = d.literal(7)  # y_ac_qi
    if not segments:
        return [base]
    return [min(127, max(0, q if absolute else base + q)) for q in segments]


def estimate_webp_quality(data: bytes) -> int | None:
    """A lossy WebP's quality on libwebp's scale (1-100), estimated; None when ``data`` is
    not a lossy WebP.

    The format records no quality, only the quantiser indices its encoder chose (which also
    depend on the picture). So the decoded picture is re-encoded with libwebp (through
    Pillow) and the quality whose quantisers come closest to the file's own is the estimate:
    within a few steps of the setting that wrote it (measured: 0-5). For matching another
    picture's compression to this one (the corpus builder's aligned fakes), not for display.
    """
    import io

    from PIL import Image

    target = vp8_quantizers(data)
    if target is None:
        return None
    with Image.open(io.BytesIO(data)) as im:
        img = im.convert("RGB")
    goal = sum(target) / len(target)

    def mean_q(quality: int) -> float:
        buf = io.BytesIO()
        img.save(buf, "WEBP", quality=quality, lossless=False)
        got = vp8_quantizers(buf.getvalue()) or [0]
        return sum(got) / len(got)

    lo, hi = 1, 100  # quantisers fall as quality rises: the first quality at or below goal
    while lo < hi:
        mid = (lo + hi) // 2
        if mean_q(mid) > goal:
            lo = mid + 1
        else:
            hi = mid
    if lo > 1 and abs(mean_q(lo - 1) - goal) < abs(mean_q(lo) - goal):
        return lo - 1
    return lo


def jpeg_quality_of(img) -> int | None:
    """The estimated quality of an opened Pillow image when it is a JPEG (or MPO), else None."""
    if getattr(img, "format", None) not in ("JPEG", "MPO"):
        return None
    return estimate_jpeg_quality(getattr(img, "quantization", None))


__all__ = [
    "estimate_jpeg_quality",
    "estimate_webp_quality",
    "ijg_table",
    "jpeg_quality_of",
    "riff_chunks",
    "vp8_quantizers",
    "webp_is_lossy",
]
