"""A seeded corpus of broken and hostile image files, generated in code.

``corpus(n_random, seed)`` returns ``(category, name, bytes)`` rows: the hand-made
hostile cases (decompression and text bombs, huge dimensions in tiny files, IFD
loops, thousands of frames or pages, oversized or nested metadata, polyglots), every
zero- and one-byte file, and ``n_random`` seeded mutations of valid files in every
accepted format (truncations, bit flips, byte splices, header field overwrites).
The same seed gives the same bytes, so a failure names a reproducible case.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image, PngImagePlugin

Row = tuple[str, str, bytes]


# --- building blocks --------------------------------------------------------------------------
def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _small_rgb(seed: int = 0, w: int = 48, h: int = 32) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


PNG_SIG = b"\x89PNG\r\n\x1a\n"


def _png(
    width: int, height: int, extra: list[bytes] = (), depth=8, ctype=2, idat=None, after=()
) -> bytes:
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, ctype, 0, 0, 0))
    if idat is None:  # real rows for small images; a token stream for claimed huge ones
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
        row = b"\x00" * (1 + min(4096, (width * channels * depth + 7) // 8))
        idat = zlib.compress(row * min(height, 64))
    return (
        PNG_SIG
        + ihdr
        + b"".join(extra)
        + _chunk(b"IDAT", idat)
        + b"".join(after)
        + _chunk(b"IEND", b"")
    )


def _blank_png(width: int, height: int) -> bytes:
    """A complete one-bit black PNG, compressed row by row (Pillow's encoder is far slower)."""
    z = zlib.compressobj(6)
    row = b"\x00" * (1 + (width + 7) // 8)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return _png(width, height, depth=1, ctype=0, idat=idat)


def valid_files(seed: int = 0) -> dict[str, bytes]:
    """One small valid file per accepted format and notable mode."""
    rgb = _small_rgb(seed)
    cmyk = rgb.convert("CMYK")
    frames = [_small_rgb(seed + i, 16, 16).convert("P") for i in range(3)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x0131] = "Stable Diffusion"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat, Steps: 20, Sampler: Euler a")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>", zip=True)
    return {
        "jpeg": _save(rgb, "JPEG", quality=90, exif=exif.tobytes()),
        "jpeg-progressive": _save(rgb, "JPEG", quality=80, progressive=True),
        "jpeg-cmyk": _save(cmyk, "JPEG"),
        "png": _save(rgb, "PNG", pnginfo=info),
        "png-rgba": _save(rgb.convert("RGBA"), "PNG"),
        "png-16bit": _save(Image.new("I;16", (24, 16), 40000), "PNG"),
        "png-palette": _save(rgb.convert("P"), "PNG", transparency=0),
        "gif": gif.getvalue(),
        "webp": _save(rgb, "WEBP", quality=80),
        "webp-lossless": _save(rgb, "WEBP", lossless=True),
        "bmp": _save(rgb, "BMP"),
        "tiff": _save(rgb, "TIFF"),
        "tiff-lzw": _save(rgb, "TIFF", compression="tiff_lzw"),
    }


# --- hand-made hostile cases ------------------------------------------------------------------
def _huge_dimension_files() -> list[Row]:
    rows: list[Row] = []
    for w, h in [(100_000, 100_000), (2**31 - 1, 1), (1, 2**31 - 1), (65_535, 65_535), (0, 10)]:
        rows.append(("huge-dims", f"png-ihdr-{w}x{h}", _png(w, h)))
    # real pixel data: 20000x20000 one-bit, a few hundred KB, 400 MP if decoded
    rows.append(("huge-dims", "png-1bit-20000", _blank_png(20_000, 20_000)))
    # just under the 50 MP default limit: legal, but the costliest input a client may send
    rows.append(("huge-dims", "png-1bit-7000x7000", _blank_png(7000, 7000)))
    jpeg = _save(_small_rgb(), "JPEG")
    sof = jpeg.find(b"\xff\xc0")
    for w, h in [(65_535, 65_535), (65_535, 1), (0, 0)]:
        b = bytearray(jpeg)
        b[sof + 5 : sof + 9] = struct.pack(">HH", h, w)
        rows.append(("huge-dims", f"jpeg-sof-{w}x{h}", bytes(b)))
    gif = bytearray(_save(_small_rgb().convert("P"), "GIF"))
    gif[6:10] = struct.pack("<HH", 65_535, 65_535)
    rows.append(("huge-dims", "gif-screen-65535", bytes(gif)))
    bmp = bytearray(_save(_small_rgb(), "BMP"))
    bmp[18:26] = struct.pack("<ii", 60_000, -60_000)
    rows.append(("huge-dims", "bmp-60000", bytes(bmp)))
    riff = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + b"\xff\xff\xff" + b"\xff\xff\xff"
    rows.append(
        ("huge-dims", "webp-vp8x-16M", b"RIFF" + struct.pack("<I", len(riff) + 4) + b"WEBP" + riff)
    )
    tif = bytearray(_save(_small_rgb(), "TIFF"))
    rows.append(("huge-dims", "tiff-header-only", bytes(tif[:8])))
    return rows


def _text_bombs() -> list[Row]:
    rows: list[Row] = []
    zeros = zlib.compress(b"\x00" * (64 << 20), 9)  # 64 MB of zeros in ~64 KB
    text_bomb = zlib.compress(b"A" * (64 << 20), 9)
    rows.append(
        (
            "text-bomb",
            "png-ztxt-64MB",
            _png(8, 8, [_chunk(b"zTXt", b"Comment\x00\x00" + text_bomb)]),
        )
    )
    rows.append(
        (
            "text-bomb",
            "png-itxt-compressed-64MB",
            _png(8, 8, [_chunk(b"iTXt", b"parameters\x00\x01\x00\x00\x00" + text_bomb)]),
        )
    )
    rows.append(
        (
            "text-bomb",
            "png-itxt-xmp-64MB",
            _png(8, 8, [_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + text_bomb)]),
        )
    )
    rows.append(
        ("text-bomb", "png-iccp-64MB", _png(8, 8, [_chunk(b"iCCP", b"icc\x00\x00" + zeros)]))
    )
    rows.append(("text-bomb", "png-idat-bomb-4096sq", _png(4096, 4096, idat=zeros)))
    many = [_chunk(b"tEXt", b"k%d\x00" % i + b"v" * 100) for i in range(20_000)]
    rows.append(("text-bomb", "png-20000-text-chunks", _png(8, 8, many)))
    rows.append(
        (
            "text-bomb",
            "png-tEXt-8MB",
            _png(8, 8, [_chunk(b"tEXt", b"Comment\x00" + b"x" * (8 << 20))]),
        )
    )
    rows.append(
        (
            "text-bomb",
            "png-text-after-idat",
            _png(8, 8, after=[_chunk(b"zTXt", b"c\x00\x00" + text_bomb)]),
        )
    )
    rows.append(
        (
            "text-bomb",
            "png-bad-crc-text",
            _png(8, 8, [b"\x00\x00\x00\x05tEXtab\x00cd\xde\xad\xbe\xef"]),
        )
    )
    rows.append(
        ("text-bomb", "png-chunk-len-4GB", _png(8, 8, [b"\xff\xff\xff\xfftEXt" + b"a\x00b"]))
    )
    return rows


def _metadata_cases() -> list[Row]:
    rows: list[Row] = []
    base = _small_rgb()
    # EXIF with an IFD that points to itself, and sub-IFD pointers that point back
    ifd_loop = (
        b"MM\x00*\x00\x00\x00\x08"
        + b"\x00\x02"
        + struct.pack(">HHII", 0x8769, 4, 1, 8)  # ExifIFD -> offset 8 (itself)
        + struct.pack(">HHII", 0x0112, 3, 1, 6 << 16)
        + struct.pack(">I", 8)  # next IFD -> itself
    )
    rows.append(
        ("exif", "jpeg-exif-ifd-loop", _save(base, "JPEG", exif=b"Exif\x00\x00" + ifd_loop))
    )
    rows.append(("exif", "png-exif-ifd-loop", _save(base, "PNG", exif=b"Exif\x00\x00" + ifd_loop)))
    # an entry claiming 2^30 values at a far offset
    big_count = (
        b"II*\x00\x08\x00\x00\x00\x01\x00"
        + struct.pack("<HHII", 0x010F, 2, 2**30, 0x7FFFFFF0)
        + b"\x00" * 4
    )
    rows.append(
        ("exif", "jpeg-exif-huge-count", _save(base, "JPEG", exif=b"Exif\x00\x00" + big_count))
    )
    # a 10,000-entry IFD, and many nested GPS/Exif pointers
    entries = b"".join(
        struct.pack("<HHII", 0x9000 + (i % 200), 2, 4, 0x41414141) for i in range(5000)
    )
    many = b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 5000) + entries + b"\x00" * 4
    rows.append(("exif", "png-exif-5000-entries", _save(base, "PNG", exif=b"Exif\x00\x00" + many)))
    exif = Image.Exif()
    exif[0x9286] = (
        "UNICODE\x00" + "parameters: " + "x" * 60_000
    )  # UserComment near the 64 KB APP1 cap
    exif[0x0112] = 9  # invalid orientation
    rows.append(("exif", "jpeg-exif-60KB-usercomment", _save(base, "JPEG", exif=exif.tobytes())))
    for orient in (0, 5, 7, 8, 255, 65535):
        e = Image.Exif()
        e[0x0112] = orient
        rows.append(("exif", f"jpeg-orientation-{orient}", _save(base, "JPEG", exif=e.tobytes())))
    rows.append(
        (
            "exif",
            "png-exif-10MB",
            _save(base, "PNG", exif=b"Exif\x00\x00II*\x00" + b"\x00" * (10 << 20)),
        )
    )
    # XMP: deep nesting, DTD / entity expansion, huge packets, in JPEG (APP1) and PNG (iTXt)
    deep = (
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + "<a>" * 50_000 + "</a>" * 50_000 + "</x:xmpmeta>"
    )
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'
            for i in range(10)
        )
        + ']><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>'
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    )
    huge = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><r>" + "<li>y</li>" * 400_000 + "</r></x:xmpmeta>"
    for label, packet in [
        ("deep", deep),
        ("laughs", laughs),
        ("external-entity", external),
        ("4MB", huge),
    ]:
        rows.append(
            (
                "xmp",
                f"png-xmp-{label}",
                _png(
                    8,
                    8,
                    [_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet.encode())],
                ),
            )
        )
        app1 = b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode()[:65_000]
        jpeg = _save(base, "JPEG")
        seg = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
        rows.append(("xmp", f"jpeg-xmp-{label}", jpeg[:2] + seg + jpeg[2:]))
    # many APP segments, and a JPEG comment bomb
    jpeg = _save(base, "JPEG")
    segs = b"".join(b"\xff\xe2" + struct.pack(">H", 102) + b"\x00" * 100 for _ in range(20_000))
    rows.append(("exif", "jpeg-20000-app-segments", jpeg[:2] + segs + jpeg[2:]))
    return rows


def _frames_and_pages() -> list[Row]:
    rows: list[Row] = []
    tiny = [Image.new("P", (4, 4), i % 256) for i in range(3000)]
    buf = io.BytesIO()
    tiny[0].save(buf, "GIF", save_all=True, append_images=tiny[1:], duration=10, disposal=2)
    rows.append(("frames", "gif-3000-frames", buf.getvalue()))
    big = [Image.new("P", (512, 512), i % 256) for i in range(200)]
    buf = io.BytesIO()
    big[0].save(buf, "GIF", save_all=True, append_images=big[1:], duration=10)
    rows.append(("frames", "gif-200-frames-512px", buf.getvalue()))
    pages = [Image.new("RGB", (8, 8), (i % 256, 0, 0)) for i in range(1000)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    rows.append(("frames", "tiff-1000-pages", buf.getvalue()))
    buf = io.BytesIO()
    pages[0].save(buf, "PNG", save_all=True, append_images=pages[1:500])
    rows.append(("frames", "apng-500-frames", buf.getvalue()))
    buf = io.BytesIO()
    pages[0].save(buf, "WEBP", save_all=True, append_images=pages[1:300])
    rows.append(("frames", "webp-300-frames", buf.getvalue()))
    # a TIFF whose next-IFD offset points back at its first IFD (a loop)
    tif = bytearray(_save(Image.new("RGB", (8, 8)), "TIFF"))
    first = struct.unpack("<I", tif[4:8])[0]
    n = struct.unpack("<H", tif[first : first + 2])[0]
    tif[first + 2 + 12 * n : first + 6 + 12 * n] = struct.pack("<I", first)
    rows.append(("frames", "tiff-ifd-loop", bytes(tif)))
    # MPO-like: JPEG with thousands of SOI..EOI images appended
    one = _save(Image.new("RGB", (8, 8)), "JPEG")
    rows.append(("frames", "jpeg-2000-concatenated", one * 2000))
    return rows


def _polyglots() -> list[Row]:
    jpeg = _save(_small_rgb(), "JPEG")
    png = _save(_small_rgb(), "PNG")
    gif = _save(_small_rgb().convert("P"), "GIF")
    zipped = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("evil.sh", "#!/bin/sh\necho pwned\n")
    html = b"<html><script>alert(1)</script></html>"
    return [
        ("polyglot", "jpeg+zip", jpeg + zipped.getvalue()),
        ("polyglot", "png+html", png + html),
        ("polyglot", "gif-js", b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1);" + gif[13:]),
        ("polyglot", "html-with-jpeg-name", html),
        ("polyglot", "svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("polyglot", "pdf-with-jpeg-inside", b"%PDF-1.4\n" + jpeg + b"\n%%EOF"),
        ("polyglot", "jpeg-header-then-pdf", b"\xff\xd8\xff\xe0" + b"%PDF-1.4 " * 100),
        ("polyglot", "png-sig-then-zip", PNG_SIG + zipped.getvalue()),
        ("polyglot", "riff-webp-header-only", b"RIFF\x00\x00\x00\x00WEBP"),
        ("polyglot", "bmp-sig-text", b"BM" + b"hello world" * 10),
        ("polyglot", "tiff-sig-only", b"II*\x00"),
        ("polyglot", "eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"),
        ("polyglot", "ico", _save(_small_rgb(), "ICO")),
        ("polyglot", "psd-sig", b"8BPS" + b"\x00" * 100),
        ("polyglot", "utf16-bom", "\ufeff<svg/>".encode("utf-16")),
    ]


def regressions() -> list[Row]:
    """Files that crashed the decoder once (found by ``scripts/bench --fuzz``)."""
    # a bit-flipped TIFF whose page lost its dimensions: TypeError from Pillow's n_frames
    _, _, tiff = mutations(9045, seed=1)[9044]
    return [("regression", "tiff-missing-dimensions", tiff)]


def hostile_cases() -> list[Row]:
    rows = [("tiny", "zero-bytes", b"")]
    rows += [("tiny", f"one-byte-{i:02x}", bytes([i])) for i in range(256)]
    rows += [
        ("tiny", f"signature-only-{i}", s)
        for i, s in enumerate(
            [
                b"\xff\xd8",
                b"\xff\xd8\xff",
                PNG_SIG,
                b"GIF89a",
                b"GIF87a",
                b"BM",
                b"II*\x00",
                b"MM\x00*",
                b"RIFF",
            ]
        )
    ]
    rows += _huge_dimension_files()
    rows += _text_bombs()
    rows += _metadata_cases()
    rows += _frames_and_pages()
    rows += _polyglots()
    rows += regressions()
    return rows


# --- seeded mutations -------------------------------------------------------------------------
def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(1, len(data))]


def _flip_bits(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    head = rng.random() < 0.5  # half the time aim at the header, where parsers branch
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(0, min(len(b), 128) if head else len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def _splice(rng: random.Random, data: bytes) -> bytes:
    i, j = sorted(rng.randrange(len(data)) for _ in range(2))
    filler = rng.choice([b"\x00", b"\xff", rng.randbytes(1)]) * rng.randint(1, 4096)
    return data[:i] + filler + data[j:]


def _overwrite_int(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    i = rng.randrange(0, max(1, min(len(b) - 4, 256)))
    b[i : i + 4] = rng.choice(
        [b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x00", b"\x80\x00\x00\x00"]
    )
    return bytes(b)


def _duplicate(rng: random.Random, data: bytes) -> bytes:
    i, j = sorted(rng.randrange(len(data)) for _ in range(2))
    return data[:j] + data[i:j] * rng.randint(2, 50) + data[j:]


MUTATORS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncated": _truncate,
    "bit-flipped": _flip_bits,
    "spliced": _splice,
    "int-overwrite": _overwrite_int,
    "duplicated": _duplicate,
}


def mutations(n: int, seed: int = 0) -> list[Row]:
    rng = random.Random(seed)
    valid = valid_files(seed)
    names = sorted(valid)
    kinds = sorted(MUTATORS)
    rows = []
    for k in range(n):
        fmt = names[k % len(names)]
        kind = kinds[(k // len(names)) % len(kinds)]
        rows.append((kind, f"{fmt}-{kind}-{k}", MUTATORS[kind](rng, valid[fmt])))
    return rows


def corpus(n_random: int = 800, seed: int = 0) -> list[Row]:
    """The hostile cases, the valid files themselves, and ``n_random`` seeded mutations."""
    rows = hostile_cases()
    rows += [("valid", f"valid-{k}", v) for k, v in valid_files(seed).items()]
    rows += mutations(n_random, seed)
    return rows
