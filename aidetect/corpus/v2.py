"""corpus-v2: camera photos, their aligned TAEF2 round trips, super-resolution fakes and
genuine text-to-image outputs, each fake a named family in the manifest.

Built on top of the corpus-v1 builder (``aidetect.corpus.build.build_corpus``), which cuts
the REAL crops and makes the super-resolution (ESRGAN) fakes; this module then adds

- **aligned fakes** (family ``taef2``): every REAL crop's round trip through the TAEF2
  autoencoder. Same content, size, framing and split as the real crop (``pair_id`` links
  the two); when the crop's source photo was lossy, the fake is compressed the same way
  before it is stored: JPEG at the source's quality, or lossy WebP at the quality that
  reproduces the source's VP8 quantisers (``aidetect.compression``), so that both members
  of a pair carry one compression of the same kind and strength ("JPEG matching", as in
  DDA, extended to WebP on 2026-12-03: before, fakes of lossy-WebP photos, half of
  corpus-v2's sources, were stored clean while their real crops carried WebP's history);
- **genuine generator outputs** (families ``sd1``, ``sd2``, ``sdxl``, ``sd3``, ``flux1``,
  ``stable-cascade``, ``pixart``, ``hunyuan-dit``: the catalog's ``family`` column):
  native-resolution crops of each picture in ``<shared>/data/generated``, split by
  picture, near-duplicate series (same seed or prompt, one dHash apart) kept in one split.

The super-resolution fakes are compressed like their source photos in the same way (since
2026-12-03; ``summary.json`` keeps each lossy source's codec as ``source_codecs``, so
``aidetect corpus add-families`` matches the families it adds too).

Every file is written by the one encoder of the corpus (``encode_png``: 8-bit RGB PNG, no
metadata), the crop size is the same for every class, and the manifest gains the columns
``family``, ``pair_id`` and ``content`` (``photo``, ``art``, ``anime``, ``other``).
The TAEF2 weights and the generated pictures are read from a folder given as an option and
never copied anywhere but the corpus.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing as mp
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from aidetect.corpus import build as v1
from aidetect.corpus import sources as src_mod
from aidetect.datasets import Sample, family_of, unit_hash, write_manifest
from aidetect.imaging import codec_roundtrip

log = logging.getLogger(__name__)

#: the ESRGAN families made by the v1 builder in corpus-v2 (downscale, then upscale)
DEFAULT_SR_FAMILIES = ("esrgan-slim", "esrgan-medium", "esrgan-thick")


# ----------------------------------------------------------------------------- aligned fakes
_TAE = None


def _init_taef2_worker(weights: str, threads: int) -> None:
    global _TAE
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except Exception:  # another Keras backend: nothing to set
        pass
    from aidetect.corpus.taef2 import TAEF2

    _TAE = TAEF2.load(weights)


Codec = v1.Codec


def _taef2_chunk(jobs: list[tuple[str, str, Codec | None]]) -> list[float]:
    """Round-trip a chunk of same-sized crops in one batch; returns seconds per crop."""
    assert _TAE is not None
    reals = [np.asarray(Image.open(src).convert("RGB")) for src, _, _ in jobs]
    t0 = time.perf_counter()
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, r in enumerate(reals):
        by_shape.setdefault(r.shape, []).append(i)
    fakes: list[np.ndarray | None] = [None] * len(reals)
    for idx in by_shape.values():
        out = _TAE.reconstruct_batch(np.stack([reals[i] for i in idx]))
        for i, f in zip(idx, out, strict=True):
            fakes[i] = f
    for (_, dst, codec), fake in zip(jobs, fakes, strict=True):
        assert fake is not None
        Path(dst).write_bytes(v1.encode_png(codec_roundtrip(fake, codec)))
    dt = (time.perf_counter() - t0) / max(1, len(jobs))
    return [dt] * len(jobs)


# ----------------------------------------------------------------------------- genuine outputs
@dataclass
class Generated:
    path: Path
    file: str
    generator: str
    folder: str
    family: str
    content: str
    licence: str
    source: str


def read_catalog(folder: str | Path) -> list[Generated]:
    folder = Path(folder)
    out = []
    with open(folder / "catalog.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out.append(
                Generated(
                    path=folder / row["file"],
                    file=row["file"],
                    generator=row["generator"],
                    folder=row["folder"],
                    family=row["family"],
                    content=row.get("content", ""),
                    licence=row.get("licence", ""),
                    source=f"{row.get('source_repo', '')}@{row.get('source_commit', '')[:12]}:"
                    f"{row.get('source_path', '')}",
                )
            )
    return out


def find_generated(shared: str | Path) -> Path | None:
    shared = Path(shared).expanduser()
    for cand in (shared, shared / "generated", shared / "data" / "generated"):
        if (cand / "catalog.tsv").is_file():
            return cand
    return None


def genuine_crops(
    out: Path,
    generated_dir: Path,
    crop: int,
    max_crops: int,
    seed: int,
    dedupe_distance: int = 6,
) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    """Native-resolution crops of every catalogued picture; rows for the manifest and sources."""
    rows: list[dict[str, str]] = []
    srcs: list[dict[str, object]] = []
    series: list[tuple[int, str]] = []  # (dhash, series id) of pictures seen so far
    for g in sorted(read_catalog(generated_dir), key=lambda g: g.file):
        try:
            pixels = v1.load_photo(g.path)
        except Exception as exc:  # an unreadable picture skips itself, not the build
            log.warning("skipping %s: %s", g.file, exc)
            continue
        stem = src_mod._slug(f"gen-{g.folder}-{Path(g.file).stem}")[:120]
        h = v1.dhash(pixels)
        sid = next((s for hh, s in series if v1.hamming(h, hh) <= dedupe_distance), None)
        if sid is None:
            sid = stem
            series.append((h, sid))
        split = v1.assign_split(sid, seed)
        rng = np.random.default_rng(int(unit_hash("gen-crops", seed, stem) * 2**63))
        wins = v1.crop_windows(pixels.shape[0], pixels.shape[1], crop, max_crops, rng)
        for y, x in wins:
            rel = f"{split}/FAKE/{stem}_{y}_{x}.png"
            (out / rel).write_bytes(
                v1.encode_png(np.ascontiguousarray(pixels[y : y + crop, x : x + crop]))
            )
            rows.append(
                {
                    "path": rel,
                    "label": "1",
                    "generator": g.folder,
                    "source_id": sid,
                    "split": split,
                    "family": g.family,
                    "pair_id": "",
                    "content": g.content,
                }
            )
        srcs.append(
            {
                "file": g.file,
                "generator": g.generator,
                "family": g.family,
                "content": g.content,
                "series": sid,
                "split": split,
                "crops": len(wins),
                "licence": g.licence,
                "source": g.source,
            }
        )
    return rows, srcs


# ----------------------------------------------------------------------------- the build
def build_corpus_v2(
    out: str | Path,
    shared_data: str | Path,
    sources: str = "all",
    crop: int = 256,
    max_crops_per_photo: int = 8,
    max_crops_per_generated: int = 12,
    sr_families: str | list[str] | None = None,
    sr_per_real: float = 0.3,
    seed: int = 0,
    limit_photos: int | None = None,
    cache: str | Path | None = None,
    npm_cache: str | Path | None = None,
    workers: int = 2,
    taef2_weights: str | Path | None = None,
    jpeg_match: bool = True,
    generated: bool = True,
    rescaled: float | None = None,
) -> dict:
    """Build corpus-v2 in ``out``; returns the summary (also in ``summary.json``)."""
    t_start = time.time()
    out = Path(out)
    shared = Path(shared_data).expanduser()
    from aidetect.corpus.taef2 import FAMILY, GENERATOR, LICENCE, TAEF2, find_weights

    weights = find_weights(taef2_weights or shared)
    gen_dir = find_generated(shared) if generated else None
    if generated and gen_dir is None:
        raise FileNotFoundError(f"no catalog.tsv of generated pictures in {shared}")
    if isinstance(sr_families, list | tuple):
        sr_families = ",".join(sr_families)
    extra = extra_real_photos(shared)

    # 1. REAL crops and super-resolution fakes: the corpus-v1 builder
    summary_v1 = v1.build_corpus(
        out,
        sources=sources,
        crop=crop,
        max_crops_per_photo=max_crops_per_photo,
        families=sr_families or ",".join(DEFAULT_SR_FAMILIES),
        seed=seed,
        limit_photos=limit_photos,
        cache=cache,
        npm_cache=npm_cache,
        workers=workers,
        fakes_per_real=sr_per_real,
        extra_photos=extra,
        rescaled=rescaled,
        match_compression=jpeg_match,
    )
    rows = v1.read_rows(out / "manifest.csv")
    for r in rows:
        r["family"] = "real" if r["label"] == "0" else family_of(r["generator"])
        r["pair_id"] = Path(r["path"]).stem if r["label"] == "0" else ""
        r["content"] = "photo"
    for r in rows:  # an SR fake belongs to the real crop it was made from
        if r["label"] == "1":
            r["pair_id"] = Path(r["path"]).stem.rsplit("_", 1)[0]

    # the v1 builder read each photo's compression as it loaded it, and stored the
    # super-resolution fakes compressed like their sources (the aligned fakes below follow
    # the same codecs); before 2026-12-03 those fakes were stored clean while their real
    # crops carried the source's JPEG or WebP history
    codecs = v1.codecs_from_json(summary_v1.get("source_codecs"))
    sr_fakes = sum(1 for r in rows if r["label"] == "1")
    lossless = set(summary_v1.get("lossless_crops", []))

    # 2. aligned fakes: every REAL crop through TAEF2, compression-matched to its source photo
    reals = [r for r in rows if r["label"] == "0"]
    jobs = []
    for r in reals:
        stem = Path(r["path"]).stem
        q = v1.crop_codec(r["path"], r["source_id"], codecs, lossless)
        rel = f"{r['split']}/FAKE/{stem}_{GENERATOR}.png"
        jobs.append((str(out / r["path"]), str(out / rel), q))
        rows.append(
            {
                "path": rel,
                "label": "1",
                "generator": GENERATOR,
                "source_id": r["source_id"],
                "split": r["split"],
                "family": FAMILY,
                "pair_id": stem,
                "content": "photo",
            }
        )
    t0 = time.time()
    times: list[float] = []
    chunks = [jobs[i : i + 8] for i in range(0, len(jobs), 8)]
    if workers > 1 and len(chunks) > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers, initializer=_init_taef2_worker, initargs=(str(weights), 1)) as pool:
            for k, ts in enumerate(pool.imap(_taef2_chunk, chunks)):
                times += ts
                if (k + 1) % 20 == 0:
                    log.info("taef2: %d/%d crops (%.0fs)", len(times), len(jobs), time.time() - t0)
    else:
        _init_taef2_worker(str(weights), 0)
        for ch in chunks:
            times += _taef2_chunk(ch)
    taef2_seconds = time.time() - t0

    # 3. genuine generator outputs
    gen_sources: list[dict[str, object]] = []
    if gen_dir is not None:
        gen_rows, gen_sources = genuine_crops(out, gen_dir, crop, max_crops_per_generated, seed)
        rows += gen_rows

    rows.sort(key=lambda r: r["path"])
    write_manifest_v2(out / "manifest.csv", rows)
    if gen_sources:
        with open(out / "generated_sources.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(gen_sources[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(gen_sources)

    summary = v1.summarize_v2(rows)
    summary.update(
        {
            "corpus": "corpus-v2",
            "seed": seed,
            "crop": crop,
            "encoding": "PNG, 8-bit RGB, no metadata, zlib level 6 (every class)",
            "sources": sources,
            "photos_used": summary_v1["photos_used"],
            "photos_skipped": summary_v1["photos_skipped"],
            "source_failures": summary_v1["source_failures"],
            "extra_real_photos": len(extra),
            "generators": [
                *summary_v1["generators"],
                {
                    "generator": GENERATOR,
                    "family": FAMILY,
                    "package": f"TAEF2 weights from {weights} (not part of the project)",
                    "weights_sha256": TAEF2.weights_digest(weights),
                    "licence": LICENCE,
                },
            ],
            "fake_throughput": {
                **summary_v1["fake_throughput"],
                GENERATOR: {
                    "crops": len(times),
                    "median_s_per_crop": round(float(np.median(times)), 4) if times else None,
                    "wall_seconds": round(taef2_seconds, 1),
                },
            },
            "aligned": {
                "jpeg_match": jpeg_match,
                "pairs": len(jobs),
                "lossless_pairs": sum(1 for j in jobs if j[2] is None),
                "jpeg_matched_pairs": sum(1 for j in jobs if j[2] and j[2][0] == "JPEG"),
                "webp_matched_pairs": sum(1 for j in jobs if j[2] and j[2][0] == "WEBP"),
                "source_quality_histogram": dict(
                    Counter(
                        str(c[1]) for c in codecs.values() if c and c[0] == "JPEG"
                    ).most_common()
                ),
                "source_webp_quality_histogram": dict(
                    Counter(
                        str(c[1]) for c in codecs.values() if c and c[0] == "WEBP"
                    ).most_common()
                ),
            },
            "super_resolution": summary_v1.get(
                "super_resolution", {"fakes": sr_fakes, "compression_matched": 0}
            ),
            "source_codecs": v1.codecs_to_json(codecs),
            **{k: summary_v1[k] for k in ("rescaled_copies", "lossless_crops") if k in summary_v1},
            "generated_dir": str(gen_dir) if gen_dir else None,
            "generated_pictures": len(gen_sources),
            "workers": workers,
            "build_seconds": round(time.time() - t_start, 1),
        }
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def extra_real_photos(shared: Path) -> list[src_mod.Photo]:
    """Camera photos under ``<shared>/data/real`` (or ``<shared>/real``), if any."""
    from aidetect.imaging import IMAGE_SUFFIXES

    for cand in (shared / "data" / "real", shared / "real"):
        if cand.is_dir():
            files = sorted(p for p in cand.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            return [
                src_mod.Photo(p, "shared", "shared-real", "", p.relative_to(cand).as_posix(), "")
                for p in files
            ]
    return []


def write_manifest_v2(path: Path, rows: list[dict[str, str]]) -> None:
    """The manifest, through the one manifest writer (``aidetect.datasets``)."""
    write_manifest(
        path,
        [
            Sample(
                path=path.parent / r["path"],
                label=int(r["label"]),
                generator=r["generator"],
                source_id=r["source_id"],
                split=r["split"],
                family=r.get("family", ""),
                pair_id=r.get("pair_id", ""),
                content=r.get("content", ""),
            )
            for r in rows
        ],
    )
