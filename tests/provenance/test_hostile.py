"""Hostile and broken input: no exceptions, bounded time, at most a neutral note."""

from __future__ import annotations

import json
import random
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from aidetect.provenance import analyse

from .support import (
    A1111,
    camera_exif,
    encode,
    insert_before_iend,
    png_chunk,
    png_with_text,
    small,
    triples,
    xmp_packet,
)


def fixtures() -> list[bytes]:
    exif = camera_exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + A1111.encode("utf-16-be")
    return [
        png_with_text({"parameters": A1111, "workflow": '{"nodes": [], "links": []}'}),
        encode(
            small(), "JPEG", exif=exif, xmp=xmp_packet("trainedAlgorithmicMedia"), comment=b"hello"
        ),
        encode(small(), "WEBP", exif=exif, xmp=xmp_packet("digitalCapture")),
        encode(small(), "PNG", exif=exif, xmp=xmp_packet("algorithmicMedia")),
        encode(small(), "TIFF", exif=exif),
        encode(small(), "GIF", comment=A1111.encode()),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"garbage" * 10,
        b"\xff\xd8\xff",
        b"\x89PNG\r\n\x1a\n",
        b"RIFF\x00\x00\x00\x00WEBP",
        b"\xff\xd8\xff\xe1\xff\xffExif\x00\x00MM\x00*",
    ],
)
def test_tiny_and_garbage_inputs(data):
    assert analyse(data) == []


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about the corrupt EXIF
def test_truncations_and_bit_flips_never_raise():
    rng = random.Random(1234)
    for data in fixtures():
        for cut in sorted({1, 2, 8, 16, 33, len(data) // 3, len(data) // 2, len(data) - 1}):
            for ev in (analyse(data[:cut]),):
                assert isinstance(ev, list)
        for _ in range(40):
            b = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            assert isinstance(analyse(bytes(b)), list)


def test_image_argument_mismatch_and_bad_pixels_are_tolerated():
    data = encode(small(), "PNG")
    other = Image.new("RGB", (300, 300))
    assert analyse(data, other, np.zeros((2, 2), np.uint8)) == []
    assert analyse(data, None, np.zeros((300, 300, 3), np.float32)) == []
    assert analyse(data, None, np.zeros((260, 300, 3), np.uint8)) == []


def test_huge_text_chunks_are_bounded():
    big = "x" * (3 << 20)
    bomb = png_chunk(b"zTXt", b"parameters\x00\x00" + zlib.compress(b"Steps: 1, " * (400 << 10)))
    deep = "[" * 100_000 + "]" * 100_000
    png = insert_before_iend(png_with_text({"Comment": big, "prompt": deep}), bomb)
    t = time.perf_counter()
    ev = analyse(png)
    assert time.perf_counter() - t < 2.0
    assert triples(ev) == [("png_text", "neutral", "weak")]  # read only in part, not evidence


def test_huge_and_hostile_xmp_is_bounded():
    filler = "<dc:subject>" + "y" * (3 << 20) + "</dc:subject>"
    packet = xmp_packet("trainedAlgorithmicMedia", extra=filler)
    t = time.perf_counter()
    ev = analyse(encode(small(), "PNG", xmp=packet))
    assert time.perf_counter() - t < 2.0
    # the iTXt chunk is cut at 1 MB: the XMP is not well-formed, and the cut is noted
    assert triples(ev) == [("xmp", "neutral", "weak"), ("png_text", "neutral", "weak")]
    laughs = (
        b'<!DOCTYPE l [<!ENTITY a "'
        + b"a" * 1000
        + b'">'
        + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(8))
        + b"]><x>&i;</x>"
    )
    assert triples(analyse(encode(small(), "JPEG", xmp=laughs))) == [("xmp", "neutral", "weak")]


def test_many_tiny_png_chunks_and_jpeg_segments():
    png = encode(small(), "PNG")
    junk = b"".join(png_chunk(b"tEXt", b"k%d\x00v" % i) for i in range(20_000))
    t = time.perf_counter()
    assert analyse(insert_before_iend(png, junk)) == []
    jpeg = encode(small(), "JPEG")
    segs = b"\xff\xfe\x00\x04hi" * 50_000
    assert analyse(jpeg[:2] + segs + jpeg[2:]) == []
    assert time.perf_counter() - t < 3.0


def test_invalid_json_and_odd_types_in_parameters():
    for value in (
        "{not json",
        json.dumps([1, 2, 3]),
        json.dumps({"a": {"b": {"c": 1}}}),
        "null",
        json.dumps({"prompt": "x", "steps": "y"}),
    ):
        ev = analyse(png_with_text({"parameters": value, "invokeai_metadata": "{bad"}))
        assert ev == []
