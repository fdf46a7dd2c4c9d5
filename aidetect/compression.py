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


_CANDIDATES = {q: (ijg_table(STD_LUMA, q), ijg_table(STD_CHROMA, q)) for q in range(1, 101)}


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
    best, best_err = None, np.inf
    for q in range(100, 0, -1):
        cl, cc = _CANDIDATES[q]
        err = float(np.sum(np.abs(luma - cl) / cl))
        if chroma is not None:
            err += float(np.sum(np.abs(chroma - cc) / cc))
        if err < best_err:
            best, best_err = q, err
    return best


def webp_is_lossy(data: bytes) -> bool | None:
    """True for a lossy WebP (a ``VP8 `` image chunk, also inside an animation frame),
    False for a lossless one (``VP8L``), None when ``data`` is not a readable WebP.

    A WebP does not record a quality setting, so only lossy or not can be told.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    pos, end = 12, len(data)
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if fourcc == b"VP8 ":
            return True
        if fourcc == b"VP8L":
            return False
        if fourcc == b"ANMF":  # an animation frame: 16 bytes of frame header, then chunks
            pos += 8 + 16
            continue
        pos += 8 + size + (size & 1)
    return None


def jpeg_quality_of(img) -> int | None:
    """The estimated quality of an opened Pillow image when it is a JPEG (or MPO), else None."""
    if getattr(img, "format", None) not in ("JPEG", "MPO"):
        return None
    return estimate_jpeg_quality(getattr(img, "quantization", None))


__all__ = ["estimate_jpeg_quality", "ijg_table", "jpeg_quality_of", "webp_is_lossy"]
