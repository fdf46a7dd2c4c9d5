"""Labelled image collections on disk, listed (never loaded) as ``Sample`` rows.

Layouts understood (labels: 1 = AI-generated, 0 = real):

- generic folders: ``DIR/REAL`` and ``DIR/FAKE`` (any case), or ``0_real``/``1_fake``,
  searched recursively below each;
- CIFAKE: ``DIR/{train,test}/{REAL,FAKE}`` (``split`` from the folder; ``val`` too);
- a CSV manifest ``DIR/manifest.csv`` (or a CSV file given directly) with columns
  ``path,label[,generator][,source_id][,split][,family][,pair_id][,content]``; ``path``
  relative to the CSV;
- ArtiFact: ``DIR/<source>/metadata.csv`` with ``image_path`` (or ``filename``) and
  ``target`` (0 = real, otherwise a generator id; the source folder names the
  generator).

Evaluation and training both list data through here.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aidetect.imaging import IMAGE_SUFFIXES

REAL_NAMES = {"real", "0_real", "reals", "0"}
FAKE_NAMES = {"fake", "1_fake", "fakes", "ai", "1", "synthetic", "generated"}
SPLIT_NAMES = {"train": "train", "test": "test", "val": "val", "valid": "val", "validation": "val"}
#: ``manifest.csv``: the columns, in the order written (``path`` and ``label`` required to read)
MANIFEST_COLUMNS = ("path", "label", "generator", "source_id", "split")
#: written when any sample has them (corpus-v2): lineage, aligned pair, content kind
OPTIONAL_COLUMNS = ("family", "pair_id", "content")


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int  # 1 = AI-generated, 0 = real
    generator: str = ""
    source_id: str = ""
    split: str = ""
    #: the generator's lineage (corpus-v2's ``family`` column), for per-family results
    family: str = ""
    #: images sharing a ``pair_id`` are one aligned pair (a real crop and its round trip):
    #: training augments both members alike
    pair_id: str = ""
    content: str = ""  # photo, art, anime, other (when the data says)


class DatasetError(ValueError):
    pass


def _images_below(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            if Path(f).suffix.lower() in IMAGE_SUFFIXES:
                yield Path(root) / f


def _class_dirs(folder: Path) -> dict[int, Path]:
    found: dict[int, Path] = {}
    if not folder.is_dir():
        return found
    for child in sorted(folder.iterdir()):
        if not child.is_dir():
            continue
        name = child.name.lower()
        if name in REAL_NAMES:
            found[0] = child
        elif name in FAKE_NAMES:
            found[1] = child
    return found


def _parse_label(value: str, where: str) -> int:
    v = str(value).strip().lower()
    if v in ("0", "real", "0_real", "false"):
        return 0
    if v in ("1", "fake", "ai", "ai_generated", "1_fake", "true"):
        return 1
    raise DatasetError(f"{where}: label {value!r} is not 0/1 or real/fake")


def read_manifest(csv_path: Path) -> list[Sample]:
    base = csv_path.parent
    out = []
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"path", "label"} <= set(reader.fieldnames):
            raise DatasetError(f"{csv_path} needs at least the columns path,label")
        for i, row in enumerate(reader, start=2):
            path = Path(row["path"])
            out.append(
                Sample(
                    path=path if path.is_absolute() else base / path,
                    label=_parse_label(row["label"], f"{csv_path}:{i}"),
                    generator=(row.get("generator") or "").strip(),
                    source_id=(row.get("source_id") or "").strip(),
                    split=SPLIT_NAMES.get((row.get("split") or "").strip().lower(), ""),
                    family=(row.get("family") or "").strip(),
                    pair_id=(row.get("pair_id") or "").strip(),
                    content=(row.get("content") or "").strip(),
                )
            )
    return out


def write_manifest(csv_path: str | os.PathLike[str], samples: Iterable[Sample]) -> Path:
    """Write a ``manifest.csv`` that ``read_manifest`` reads back as the same samples.

    Paths below the CSV's folder are written relative to it (POSIX separators), so
    the folder can move; others absolute.
    """
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    base = csv_path.parent.resolve()
    samples = list(samples)
    extra = [c for c in OPTIONAL_COLUMNS if any(getattr(s, c) for s in samples)]
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*MANIFEST_COLUMNS, *extra])
        for s in samples:
            path = Path(s.path) if Path(s.path).is_absolute() else base / s.path
            try:
                shown = path.resolve().relative_to(base).as_posix()
            except ValueError:
                shown = str(path.resolve())
            row = [shown, s.label, s.generator, s.source_id, s.split]
            w.writerow([*row, *(getattr(s, c) for c in extra)])
    return csv_path


def unit_hash(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``parts``: sha256 of ``"a:b:..."``.

    The split rule of the corpus builder (``"split", seed, source_id``) and of
    training (``seed, source_id or relative path``), and their seeded choices.
    """
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def family_of(generator: str) -> str:
    """A generator's family: ``esrgan-thick-x4`` -> ``esrgan-thick`` (the ``-xN`` scale
    dropped), ``ae8-selftrained`` -> ``ae8``; other names (``real``) are their own."""
    head, sep, tail = generator.rpartition("-x")
    if sep and head and tail.isdigit():
        return head
    return generator.removesuffix("-selftrained") or "unknown"


def read_artifact(root: Path) -> list[Sample]:
    out = []
    for meta in sorted(root.glob("*/metadata.csv")):
        source = meta.parent.name
        with open(meta, newline="") as f:
            reader = csv.DictReader(f)
            cols = set(reader.fieldnames or [])
            key = (
                "image_path" if "image_path" in cols else "filename" if "filename" in cols else None
            )
            if key is None or "target" not in cols:
                raise DatasetError(f"{meta} needs image_path (or filename) and target columns")
            for row in reader:
                target = str(row["target"]).strip()
                label = 0 if target in ("0", "0.0") else 1
                rel = Path(row[key])
                path = meta.parent / rel
                out.append(
                    Sample(
                        path=path,
                        label=label,
                        generator="real" if label == 0 else source,
                        source_id=f"{source}/{row.get('source_id') or rel}",
                    )
                )
    return out


def detect_layout(root: Path) -> str:
    if root.is_file() and root.suffix.lower() == ".csv":
        return "manifest"
    if (root / "manifest.csv").is_file():
        return "manifest"
    if any(_class_dirs(root / s) for s in SPLIT_NAMES if (root / s).is_dir()):
        return "cifake"
    if _class_dirs(root):
        return "folders"
    if any(root.glob("*/metadata.csv")):
        return "artifact"
    raise DatasetError(
        f"{root}: no REAL/FAKE (or 0_real/1_fake) folders, train|test/REAL|FAKE, "
        "manifest.csv or ArtiFact metadata.csv found"
    )


def list_samples(root: str | os.PathLike[str], layout: str = "auto") -> list[Sample]:
    """Every labelled image below ``root`` (paths and labels only)."""
    root = Path(root)
    layout = detect_layout(root) if layout == "auto" else layout
    if layout == "manifest":
        return read_manifest(root if root.is_file() else root / "manifest.csv")
    if layout == "artifact":
        return read_artifact(root)
    if layout == "cifake":
        out = []
        for split_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            split = SPLIT_NAMES.get(split_dir.name.lower())
            if split is None:
                continue
            for label, d in sorted(_class_dirs(split_dir).items()):
                out += [
                    Sample(p, label, "real" if label == 0 else "", split=split)
                    for p in _images_below(d)
                ]
        return out
    if layout == "folders":
        out = []
        for label, d in sorted(_class_dirs(root).items()):
            out += [Sample(p, label, "real" if label == 0 else "") for p in _images_below(d)]
        return out
    raise DatasetError(f"unknown layout {layout!r}")


def evaluation_samples(root: str | os.PathLike[str]) -> list[Sample]:
    """What ``aidetect evaluate`` scores: the test split where there is one, else everything."""
    samples = list_samples(root)
    if not samples:
        raise DatasetError(f"{root}: no images found")
    test = [s for s in samples if s.split == "test"]
    return test or samples


def counts(samples: Iterable[Sample]) -> dict[str, object]:
    samples = list(samples)
    by_class = Counter("ai_generated" if s.label else "real" for s in samples)
    by_gen = Counter(s.generator or ("real" if s.label == 0 else "unknown") for s in samples)
    by_split = Counter(s.split or "unsplit" for s in samples)
    return {
        "total": len(samples),
        "per_class": dict(sorted(by_class.items())),
        "per_generator": dict(sorted(by_gen.items())),
        "per_split": dict(sorted(by_split.items())),
    }
