"""Safe image decoding: bytes in, upright 8-bit RGB pixels out.

Every entry point (API, CLI, evaluation, training) decodes through here, so an
image means the same pixels everywhere. DecodeLimits are checked on the header before
any pixel is decoded; Pillow's decompression-bomb guard stays on underneath.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from aidetect.compression import jpeg_quality_of, webp_is_lossy
from aidetect.errors import (
    EmptyInputError,
    FileNotFoundInputError,
    TooManyBytesError,
    TooManyPixelsError,
    UndecodableImageError,
    UnreadableFileError,
    UnsupportedImageTypeError,
)

# Never silently decode half an image: a truncated file is an error, not a grey stripe.
ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.init()  # register every plugin so ``formats=`` below can name them

#: Pillow formats we open (the JPEG plugin also opens MPO, stereo cameras' multi-picture JPEG).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
ACCEPTED_MIME_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/bmp",
    "image/tiff",
)
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
)

# Leading bytes of the formats above: a file that starts like an image but does not
# decode is "undecodable" (400); anything else is "not a supported image" (415).
_SIGNATURES: tuple[bytes, ...] = (
    b"\xff\xd8\xff",  # JPEG / MPO
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF little-endian
    b"MM\x00*",  # TIFF big-endian
    b"II+\x00",  # BigTIFF
    b"MM\x00+",
)


#: TIFF tags of the first page that make a layout Pillow does not read.
_TIFF_BITS, _TIFF_PLANAR, _TIFF_SAMPLE_FORMAT = 258, 284, 339


def unsupported_tiff_layout(data: bytes) -> str | None:
    """Name the layout of a readable classic TIFF header Pillow refuses, else ``None``.

    Floating-point samples, samples wider than 16 bits and colour planes stored
    separately (``multipage_rgb.tif`` of scikit-image has all three) are a
    supported format in an unsupported layout: 415 with the reason, not "corrupt".
    """
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    e = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(e + "I", data, 4)
        (n,) = struct.unpack_from(e + "H", data, ifd)
        tags: dict[int, tuple[int, int, int]] = {}
        for i in range(min(n, 512)):
            tag, typ, count, value = struct.unpack_from(e + "HHII", data, ifd + 2 + 12 * i)
            if typ == 3 and count <= 2:  # SHORT values sit in the first bytes of the field
                value = struct.unpack_from(e + "H", data, ifd + 2 + 12 * i + 8)[0]
            tags[tag] = (typ, count, value)
        reasons = []
        if _TIFF_SAMPLE_FORMAT in tags and tags[_TIFF_SAMPLE_FORMAT][1] <= 2:
            if tags[_TIFF_SAMPLE_FORMAT][2] == 3:
                reasons.append("floating-point samples")
        elif _TIFF_SAMPLE_FORMAT in tags:
            (fmt,) = struct.unpack_from(e + "H", data, tags[_TIFF_SAMPLE_FORMAT][2])
            if fmt == 3:
                reasons.append("floating-point samples")
        if _TIFF_BITS in tags:
            typ, count, value = tags[_TIFF_BITS]
            bits = value if count <= 2 else struct.unpack_from(e + "H", data, value)[0]
            if bits > 16:
                reasons.append(f"{bits}-bit samples")
        if _TIFF_PLANAR in tags and tags[_TIFF_PLANAR][2] == 2:
            reasons.append("colour planes separately")
    except struct.error:
        return None
    return ", ".join(reasons) or None


def looks_like_image(data: bytes) -> bool:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return any(data.startswith(sig) for sig in _SIGNATURES)


@dataclass(frozen=True)
class DecodeLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000


DEFAULT_LIMITS = DecodeLimits()


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image and what we know about the file it came from."""

    pixels: np.ndarray  # (height, width, 3) uint8, C-contiguous
    format: str  # Pillow format name of the file: JPEG, PNG, ...
    mode: str  # the file's own mode before conversion: RGB, RGBA, CMYK, I;16, ...
    n_frames: int = 1
    #: A JPEG's quality estimated from its quantisation tables (``aidetect.compression``);
    #: None for other formats.
    jpeg_quality: int | None = None
    #: For a WebP, whether it is lossy (``aidetect.compression.webp_is_lossy``); else None.
    webp_lossy: bool | None = None
    #: The opened, unconverted Pillow image (metadata: EXIF, XMP, PNG text); None once dropped.
    original: Image.Image | None = field(default=None, repr=False, compare=False)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def open_image(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Image.Image:
    """Open (parse the header of) an image, enforcing the byte and pixel limits.

    No pixel data is decoded here, so a 20000x20000 PNG of a few hundred KB is
    refused before it can take 1.2 GB of memory.
    """
    if not data:
        raise EmptyInputError("The upload is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise TooManyBytesError(
            f"The file has {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixelsError(f"The image has too many pixels: {exc}") from exc
    except UnidentifiedImageError as exc:
        layout = unsupported_tiff_layout(data)
        if layout:
            raise UnsupportedImageTypeError(
                f"This TIFF stores {layout}, which is not read here (scientific TIFFs often "
                "do). Save it as an 8- or 16-bit RGB TIFF, PNG or JPEG."
            ) from exc
        if looks_like_image(data):
            raise UndecodableImageError(
                "The file looks like an image but its header cannot be read."
            ) from exc
        raise UnsupportedImageTypeError(
            "Not a supported image. Accepted: JPEG, PNG, WebP, GIF, BMP, TIFF."
        ) from exc
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as exc:
        raise UndecodableImageError(f"The image header is corrupt: {exc}") from exc
    width, height = img.size
    if width <= 0 or height <= 0:
        raise UndecodableImageError("The image has no pixels.")
    if width * height > limits.max_pixels:
        raise TooManyPixelsError(
            f"The image is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {limits.max_pixels:,}."
        )
    return img


#: What Pillow's plugins raise on corrupt data past the header (fuzzing found IndexError
#: from truncated GIF frames and TypeError from TIFF pages with broken dimensions).
_CORRUPT = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    TypeError,
    KeyError,
)


def to_rgb_array(img: Image.Image) -> np.ndarray:
    """Decode pixels, apply EXIF orientation and convert any mode to 8-bit RGB.

    Transparent areas are composited over white (their hidden colour values are
    arbitrary and must not reach the model); 16-bit and 32-bit integer images are
    scaled to 8 bits instead of clipped; CMYK goes through Pillow's conversion.
    """
    try:
        img.seek(0)  # GIF, MPO, multi-page TIFF: the first frame
        img.load()
        img = ImageOps.exif_transpose(img)
        arr = _convert(img)
    except Image.DecompressionBombError as exc:
        raise TooManyPixelsError(f"The image has too many pixels: {exc}") from exc
    except (*_CORRUPT, MemoryError) as exc:
        raise UndecodableImageError(f"The image data is truncated or corrupt: {exc}") from exc
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _convert(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img)
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(img)
        if mode == "F":
            a = np.nan_to_num(a.astype(np.float64))
            hi = float(a.max()) if a.size else 1.0
            a = a / hi * 255.0 if hi > 1.0 else a * 255.0
        elif mode == "I" and a.size and int(a.max()) <= 255:
            pass  # 8-bit data stored as 32-bit
        else:
            a = a.astype(np.float64) / 257.0  # 0..65535 -> 0..255
        grey = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    elif mode == "P":
        img = img.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB"))


def decode_image(
    data: bytes, limits: DecodeLimits = DEFAULT_LIMITS, *, keep_original: bool = False
) -> DecodedImage:
    """Bytes to a ``DecodedImage``; raises a typed ``AIDetectError`` on any failure."""
    img = open_image(data, limits)
    fmt = img.format or "unknown"
    mode = img.mode
    try:  # counting frames walks every frame header (GIF, TIFF, APNG): they may be broken
        n_frames = int(getattr(img, "n_frames", 1) or 1)
    except _CORRUPT as exc:
        raise UndecodableImageError(f"The image's frames are truncated or corrupt: {exc}") from exc
    pixels = to_rgb_array(img)
    return DecodedImage(
        pixels=pixels,
        format=fmt,
        mode=mode,
        n_frames=n_frames,
        jpeg_quality=jpeg_quality_of(img),
        webp_lossy=webp_is_lossy(data) if fmt == "WEBP" else None,
        original=img if keep_original else None,
    )


def read_file_limited(path: str | Path, max_bytes: int) -> bytes:
    """Read a file, refusing it early if it is larger than ``max_bytes``."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise TooManyBytesError(
                f"{p.name} has {size:,} bytes; the limit is {max_bytes:,} bytes."
            )
        return p.read_bytes()
    except FileNotFoundError as exc:
        raise FileNotFoundInputError(f"{p} does not exist.") from exc
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {p}: {exc.strerror or exc}") from exc


#: Peak memory that decoding and scoring take per pixel of an image, rounded up from the
#: measured ~14 bytes (2 to 24 MP PNGs, every shipped model, with or without a heatmap:
#: Pillow's 4-byte RGB image kept for provenance, the RGB array, the scope check and the
#: provenance readers). The server reserves this much before it decodes an upload.
WORKING_BYTES_PER_PIXEL = 16


def working_bytes(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> int:
    """The memory decoding and scoring ``data`` will need, read from its header alone
    (nothing is decoded); raises the same typed errors ``decode_image`` would."""
    width, height = open_image(data, limits).size
    return width * height * WORKING_BYTES_PER_PIXEL


def decode_file(path: str | Path, limits: DecodeLimits = DEFAULT_LIMITS) -> DecodedImage:
    return decode_image(read_file_limited(path, limits.max_bytes), limits)


def _roundtrip(pixels: np.ndarray, fmt: str, **options) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buf, fmt, **options)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB")).copy()


def webp_roundtrip(pixels: np.ndarray, quality: int) -> np.ndarray:
    """RGB uint8 pixels through a Pillow lossy WebP encode and decode at ``quality``."""
    return _roundtrip(pixels, "WEBP", quality=int(quality), lossless=False)


def jpeg_roundtrip(pixels: np.ndarray, quality: int) -> np.ndarray:
    """RGB uint8 pixels through a Pillow JPEG encode and decode at ``quality`` (default
    4:2:0 chroma subsampling): what re-saving a picture does to it."""
    return _roundtrip(pixels, "JPEG", quality=int(quality))


def codec_roundtrip(pixels: np.ndarray, codec: tuple[str, int] | None) -> np.ndarray:
    """``pixels`` compressed the way ``codec`` says: ``("JPEG", quality)`` or
    ``("WEBP", quality)`` (lossy); ``None`` (a lossless source) leaves them as they are."""
    if codec is None:
        return pixels
    fmt, quality = codec
    if fmt == "JPEG":
        return jpeg_roundtrip(pixels, quality)
    if fmt == "WEBP":
        return webp_roundtrip(pixels, quality)
    raise ValueError(f"unknown codec {fmt!r}")
