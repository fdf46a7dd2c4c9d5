"""Reader (and a tiny writer, for tests) of Qt resource bundles (``.rcc``).

Binary layout, as produced by Qt's ``rcc -binary`` (all integers big-endian):

* header: ``b"qres"``, version (u32), tree offset (u32), data offset (u32),
  names offset (u32), and from version 3 on, flags (u32);
* tree: fixed-size nodes (14 bytes in version 1, 22 from version 2 which adds a
  u64 last-modified time). Each node: name offset (u32), flags (u16: 1 = zlib
  compressed, 2 = directory, 4 = zstd compressed); a directory then holds child
  count (u32) and first child index (u32); a file holds country (u16),
  language (u16) and data offset (u32). Node 0 is the root directory;
* names: u16 length (in UTF-16 code units), u32 hash, UTF-16BE characters;
* data: u32 size then the payload; a zlib-compressed payload starts with Qt's
  ``qCompress`` prefix, the u32 uncompressed length, before the zlib stream.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

MAGIC = b"qres"
FLAG_COMPRESSED = 0x01
FLAG_DIRECTORY = 0x02
FLAG_COMPRESSED_ZSTD = 0x04


class RccError(ValueError):
    """The bytes are not a Qt resource bundle we can read."""


class RccReader:
    def __init__(self, data: bytes) -> None:
        if len(data) < 20 or data[:4] != MAGIC:
            raise RccError("not a Qt resource bundle (missing 'qres' magic)")
        self.data = data
        self.version, self.tree_offset, self.data_offset, self.names_offset = struct.unpack_from(
            ">IIII", data, 4
        )
        if self.version not in (1, 2, 3):
            raise RccError(f"unsupported rcc format version {self.version}")
        self.node_size = 14 if self.version == 1 else 22

    @classmethod
    def from_path(cls, path: str | Path) -> RccReader:
        return cls(Path(path).read_bytes())

    def _name(self, offset: int) -> str:
        pos = self.names_offset + offset
        (length,) = struct.unpack_from(">H", self.data, pos)
        raw = self.data[pos + 6 : pos + 6 + 2 * length]
        return raw.decode("utf-16-be")

    def _node(self, index: int) -> tuple[str, int, int, int]:
        pos = self.tree_offset + index * self.node_size
        if pos + 14 > len(self.data):
            raise RccError(f"tree node {index} out of range")
        name_off, flags = struct.unpack_from(">IH", self.data, pos)
        a, b = struct.unpack_from(">II", self.data, pos + 6)
        name = "" if index == 0 else self._name(name_off)
        return name, flags, a, b

    def _payload(self, flags: int, offset: int) -> bytes:
        pos = self.data_offset + offset
        (size,) = struct.unpack_from(">I", self.data, pos)
        blob = self.data[pos + 4 : pos + 4 + size]
        if flags & FLAG_COMPRESSED_ZSTD:
            raise RccError("zstd-compressed rcc entries are not supported")
        if flags & FLAG_COMPRESSED:
            (expected,) = struct.unpack_from(">I", blob, 0)
            out = zlib.decompress(blob[4:])
            if len(out) != expected:
                raise RccError(f"decompressed {len(out)} bytes, header says {expected}")
            return out
        return blob

    def _walk(self, index: int, prefix: str, depth: int) -> Iterator[tuple[str, int, int]]:
        if depth > 64:
            raise RccError("rcc tree too deep (corrupt?)")
        name, flags, a, b = self._node(index)
        path = f"{prefix}/{name}" if name else prefix
        if flags & FLAG_DIRECTORY:
            count, first = a, b
            for child in range(first, first + count):
                yield from self._walk(child, path, depth + 1)
        else:
            # a = country (u16) << 16 | language (u16); b = data offset
            yield path.lstrip("/"), flags, b

    def entries(self) -> dict[str, tuple[int, int]]:
        """Map each file path in the bundle to (flags, data offset)."""
        return {p: (f, off) for p, f, off in self._walk(0, "", 0)}

    def list(self) -> list[str]:
        return sorted(self.entries())

    def read(self, path: str) -> bytes:
        entries = self.entries()
        if path not in entries:
            raise KeyError(path)
        flags, off = entries[path]
        return self._payload(flags, off)

    def files(self) -> Iterator[tuple[str, bytes]]:
        for path, (flags, off) in sorted(self.entries().items()):
            yield path, self._payload(flags, off)


def qt_hash(name: str) -> int:
    """Qt's ``qt_hash`` of a resource name (stored with each name; readers ignore it)."""
    h = 0
    for ch in name:
        h = ((h << 4) + ord(ch)) & 0xFFFFFFFF
        h ^= (h & 0xF0000000) >> 23
        h &= 0x0FFFFFFF
    return h


def write_rcc(files: dict[str, bytes], version: int = 2, compress: bool = True) -> bytes:
    """Build a Qt resource bundle holding ``files`` (path -> bytes), laid out like ``rcc``."""
    # Build a directory tree.
    root: dict = {}
    for path, blob in files.items():
        node = root
        parts = [p for p in path.split("/") if p]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = blob

    names = bytearray()
    name_offsets: dict[str, int] = {}
    data = bytearray()

    def name_off(name: str) -> int:
        if name not in name_offsets:
            name_offsets[name] = len(names)
            enc = name.encode("utf-16-be")
            names.extend(struct.pack(">HI", len(enc) // 2, qt_hash(name)) + enc)
        return name_offsets[name]

    # Breadth-first numbering: each directory's children are contiguous (Qt sorts them by hash).
    nodes: list[tuple] = [("", root)]
    records: list[bytes] = []
    i = 0
    while i < len(nodes):
        name, content = nodes[i]
        noff = name_off(name) if i else 0
        if isinstance(content, dict):
            children = sorted(content.items(), key=lambda kv: qt_hash(kv[0]))
            first = len(nodes)
            nodes.extend(children)
            rec = struct.pack(">IHII", noff, FLAG_DIRECTORY, len(children), first)
        else:
            flags = 0
            payload = content
            if compress:
                payload = struct.pack(">I", len(content)) + zlib.compress(content, 9)
                flags = FLAG_COMPRESSED
            doff = len(data)
            data.extend(struct.pack(">I", len(payload)) + payload)
            rec = struct.pack(">IHHHI", noff, flags, 0, 1, doff)
        if version >= 2:
            rec += struct.pack(">Q", 0)
        records.append(rec)
        i += 1

    header_len = 20 if version < 3 else 24
    tree = b"".join(records)
    tree_off = header_len
    data_off = tree_off + len(tree)
    names_off = data_off + len(data)
    header = MAGIC + struct.pack(">IIII", version, tree_off, data_off, names_off)
    if version >= 3:
        header += struct.pack(">I", 0)
    return header + tree + bytes(data) + bytes(names)
