import struct
import zlib

import pytest

from aidetect.corpus.rcc import RccError, RccReader, qt_hash, write_rcc


def _name(name: str) -> bytes:
    enc = name.encode("utf-16-be")
    return struct.pack(">HI", len(enc) // 2, qt_hash(name)) + enc


def hand_made_rcc() -> bytes:
    """A bundle laid out by hand, following Qt's rcc format (version 2, 22-byte nodes).

    Tree: / -> img/ -> {a.webp (zlib-compressed), b.txt (stored)}
    """
    a = b"RIFF....WEBPpretend image bytes" * 3
    b = b"plain text"
    names = bytearray()
    off_img = len(names)
    names += _name("img")
    off_a = len(names)
    names += _name("a.webp")
    off_b = len(names)
    names += _name("b.txt")
    payload_a = struct.pack(">I", len(a)) + zlib.compress(a)
    data = struct.pack(">I", len(payload_a)) + payload_a
    off_data_b = len(data)
    data += struct.pack(">I", len(b)) + b
    ts = struct.pack(">Q", 0)
    tree = (
        struct.pack(">IHII", 0, 2, 1, 1)
        + ts  # 0: root dir, 1 child starting at node 1
        + struct.pack(">IHII", off_img, 2, 2, 2)
        + ts  # 1: img/, 2 children from node 2
        + struct.pack(">IHHHI", off_a, 1, 0, 1, 0)
        + ts  # 2: a.webp, compressed
        + struct.pack(">IHHHI", off_b, 0, 0, 1, off_data_b)
        + ts  # 3: b.txt, stored
    )
    tree_off = 20
    data_off = tree_off + len(tree)
    names_off = data_off + len(data)
    header = b"qres" + struct.pack(">IIII", 2, tree_off, data_off, names_off)
    return header + tree + data + bytes(names), a, b


def test_reads_hand_made_bundle():
    blob, a, b = hand_made_rcc()
    r = RccReader(blob)
    assert r.version == 2
    assert r.list() == ["img/a.webp", "img/b.txt"]
    assert r.read("img/a.webp") == a
    assert r.read("img/b.txt") == b


@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(version, compress):
    files = {
        "gcompris/src/activities/erase/resource/kitten.webp": bytes(range(256)) * 10,
        "gcompris/src/activities/erase/resource/lang/x.svg": b"<svg/>",
        "top.txt": b"hello",
    }
    r = RccReader(write_rcc(files, version=version, compress=compress))
    assert r.list() == sorted(files)
    assert dict(r.files()) == files


def test_rejects_non_rcc():
    with pytest.raises(RccError):
        RccReader(b"PK\x03\x04 not a qt resource")
    with pytest.raises(KeyError):
        RccReader(write_rcc({"a": b"1"})).read("missing")
