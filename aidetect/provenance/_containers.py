"""Bounded, pixel-free walks over JPEG, PNG and WebP containers.

These readers look only at metadata segments/chunks (never at compressed pixel
data) and stop at fixed limits, so a hostile file costs at most a few
milliseconds and a few megabytes: segment and chunk counts are capped, text
chunks are decompressed with a size cap (zTXt/iTXt bombs), XMP is capped.
Anything malformed ends the walk quietly; whatever was read up to that point
is kept.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from aidetect.compression import MAX_RIFF_CHUNKS, riff_chunks

MAX_SEGMENTS = MAX_RIFF_CHUNKS  # JPEG segments / PNG chunks / RIFF chunks looked at
MAX_TEXT_BYTES = 1 << 20  # one decompressed text chunk (Pillow uses the same 1 MB)
MAX_TEXT_TOTAL = 8 << 20  # all text chunks of one file together
MAX_TEXT_CHUNKS = 256
MAX_XMP_BYTES = 2 << 20  # one XMP packet (standard + extended JPEG XMP together)

XMP_JPEG_PREFIX = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXT_PREFIX = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Container:
    """What the metadata walk found. ``format`` is JPEG, PNG, WEBP or None."""

    format: str | None = None
    exif: bytes | None = None
    xmp: list[bytes] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # PNG text chunks, in order
    comments: list[bytes] = field(default_factory=list)  # JPEG COM segments
    has_c2pa: bool = False  # a container box/segment that can hold a C2PA manifest
    truncated_text: bool = False  # some text chunk was cut at MAX_TEXT_BYTES
    broken: bool = False  # the walk stopped at a malformed segment or chunk


def scan(data: bytes) -> Container:
    if data[:3] == b"\xff\xd8\xff":
        return _scan_jpeg(data)
    if data[:8] == PNG_SIGNATURE:
        return _scan_png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _scan_webp(data)
    return Container()


# --- JPEG -------------------------------------------------------------------------------------
def _scan_jpeg(data: bytes) -> Container:
    c = Container(format="JPEG")
    ext_parts: dict[bytes, dict[int, bytes]] = {}
    ext_size = 0
    pos, n = 2, len(data)
    for _ in range(MAX_SEGMENTS):
        if pos + 4 > n or data[pos] != 0xFF:
            c.broken = pos < n
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: metadata is over
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > n:
            c.broken = True
            break
        seg = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1:
            if seg.startswith(b"Exif\x00\x00") and c.exif is None:
                c.exif = seg
            elif seg.startswith(XMP_JPEG_PREFIX):
                c.xmp.append(seg[len(XMP_JPEG_PREFIX) : len(XMP_JPEG_PREFIX) + MAX_XMP_BYTES])
            elif seg.startswith(XMP_EXT_PREFIX) and len(seg) > len(XMP_EXT_PREFIX) + 40:
                body = seg[len(XMP_EXT_PREFIX) :]
                guid, (offset,) = body[:32], struct.unpack_from(">I", body, 36)
                chunk = body[40:]
                if ext_size + len(chunk) <= MAX_XMP_BYTES:
                    ext_parts.setdefault(guid, {})[offset] = chunk
                    ext_size += len(chunk)
        elif marker == 0xEB:  # APP11: JPEG-XT boxes, where C2PA puts its JUMBF
            if seg[:2] == b"JP" and (b"jumb" in seg[:64] or b"c2pa" in seg[:128]):
                c.has_c2pa = True
        elif marker == 0xFE and len(c.comments) < 16:
            c.comments.append(seg[:MAX_TEXT_BYTES])
        pos += 2 + length
    for parts in ext_parts.values():
        c.xmp.append(b"".join(parts[k] for k in sorted(parts)))
    return c


# --- PNG --------------------------------------------------------------------------------------
def _inflate(raw: bytes) -> tuple[bytes, bool]:
    """Decompress at most MAX_TEXT_BYTES; returns (data, truncated)."""
    d = zlib.decompressobj()
    out = d.decompress(raw, MAX_TEXT_BYTES)
    return out, bool(d.unconsumed_tail)


def _scan_png(data: bytes) -> Container:
    c = Container(format="PNG")
    pos, n = 8, len(data)
    text_total = 0
    for _ in range(MAX_SEGMENTS * 16):  # IDAT-heavy files have many chunks; each costs O(1)
        if pos + 8 > n:
            c.broken = True
            break
        length, ctype = struct.unpack_from(">I4s", data, pos)
        start, end = pos + 8, pos + 8 + length
        if end + 4 > n:
            c.broken = True
            break
        pos = end + 4  # skip the CRC
        if ctype == b"IEND":
            break
        if ctype in (b"IDAT", b"fdAT"):
            continue
        if ctype == b"caBX":
            c.has_c2pa = True
        elif ctype == b"eXIf" and c.exif is None:
            c.exif = data[start:end]
        elif ctype in (b"tEXt", b"zTXt", b"iTXt"):
            if len(c.texts) >= MAX_TEXT_CHUNKS or text_total >= MAX_TEXT_TOTAL:
                continue
            parsed = _png_text(ctype, data[start:end])
            if parsed is None:
                continue
            key, value, truncated = parsed
            c.truncated_text |= truncated
            text_total += len(value)
            if key == "XML:com.adobe.xmp":
                c.xmp.append(value.encode("utf-8", "replace")[:MAX_XMP_BYTES])
            else:
                c.texts.append((key, value))
    return c


def _png_text(ctype: bytes, body: bytes) -> tuple[str, str, bool] | None:
    try:
        key_raw, sep, rest = body.partition(b"\x00")
        if not sep or not 1 <= len(key_raw) <= 79:
            return None
        key = key_raw.decode("latin-1")
        if ctype == b"tEXt":
            return key, rest[:MAX_TEXT_BYTES].decode("latin-1"), len(rest) > MAX_TEXT_BYTES
        if ctype == b"zTXt":
            if not rest or rest[0] != 0:
                return None
            raw, truncated = _inflate(rest[1:])
            return key, raw.decode("latin-1"), truncated
        # iTXt: flag, method, language\0, translated keyword\0, text (UTF-8)
        if len(rest) < 2:
            return None
        flag, method = rest[0], rest[1]
        _lang, _, rest = rest[2:].partition(b"\x00")
        _tkey, _, raw = rest.partition(b"\x00")
        truncated = False
        if flag == 1:
            if method != 0:
                return None
            raw, truncated = _inflate(raw)
        elif len(raw) > MAX_TEXT_BYTES:
            raw, truncated = raw[:MAX_TEXT_BYTES], True
        return key, raw.decode("utf-8", "replace"), truncated
    except (zlib.error, ValueError, IndexError):
        return None


# --- WebP -------------------------------------------------------------------------------------
def _scan_webp(data: bytes) -> Container:
    c = Container(format="WEBP")
    for fourcc, start, end in riff_chunks(data):
        if fourcc is None:
            c.broken = True
        elif fourcc == b"EXIF" and c.exif is None:
            c.exif = data[start:end]
        elif fourcc == b"XMP ":
            c.xmp.append(data[start : min(end, start + MAX_XMP_BYTES)])
        elif fourcc == b"C2PA":
            c.has_c2pa = True
    return c
