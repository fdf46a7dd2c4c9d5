"""``python -m aidetect_training.experiments``: one subcommand per experiment."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aidetect_training.experiments import __doc__ as DOC
from aidetect_training.experiments.calibration import cmd_calibration
from aidetect_training.experiments.lofo import cmd_lofo
from aidetect_training.experiments.report import cmd_report
from aidetect_training.experiments.robustness import cmd_robustness
from aidetect_training.experiments.seed import cmd_seed
from aidetect_training.experiments.shared import FAMILIES
from aidetect_training.variants import VARIANTS

#: where the seed project's Keras file is, when ``--seed-model`` is not given
SEED_MODEL_ENV = "AIDETECT_SEED_MODEL"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m aidetect_training.experiments", description=DOC)
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, models: bool = True):
        sp.add_argument("--data", type=Path, required=True, help="the corpus (manifest.csv)")
        sp.add_argument("--out", type=Path, required=True)
        sp.add_argument("--force", action="store_true", help="redo reports (and LOFO models)")
        if models:
            sp.add_argument("--models-dir", type=Path, default=Path("models"))
            sp.add_argument("--models", help="comma list (default: every finished model)")

    r = sub.add_parser("robustness", help="evaluate on JPEG/downscaled/cropped test copies")
    common(r)
    r.add_argument("--variants", help=f"comma list (default: {','.join(VARIANTS)})")
    r.set_defaults(func=cmd_robustness)

    lo = sub.add_parser("lofo", help="leave one generator family out: retrain and test")
    common(lo, models=False)
    recipe = lo.add_mutually_exclusive_group(required=True)
    recipe.add_argument(
        "--arch",
        choices=("svm", "cnn"),
        help="retrain this architecture (crops policy, 16 crops, seed 0) on a manifest "
        "without the family",
    )
    recipe.add_argument(
        "--like",
        metavar="MODEL",
        help="retrain MODEL's recorded recipe (its metadata's command: every option but "
        "--output, --name and --families, which drops the held-out family) on --data as given, "
        "and score each model on every picture of the family it never saw "
        "(MODEL: a name in --models-dir or an artifact folder)",
    )
    lo.add_argument("--models-dir", type=Path, default=Path("models"), help="where --like looks")
    lo.add_argument("--epochs", type=int, help="--arch only (default: 6)")
    lo.add_argument("--image-size", type=int, help="--arch only (default: 128)")
    lo.add_argument("--workers", type=int, default=0, help="aidetect train --workers")
    lo.add_argument(
        "--families",
        help=f"comma list of families to leave out (default: {','.join(FAMILIES)}; with "
        "--like: the text-to-image families MODEL trained on)",
    )
    lo.add_argument(
        "--resume", action="store_true", help="continue interrupted trainings (aidetect --resume)"
    )
    lo.add_argument(
        "--docs",
        type=Path,
        help="with --like: write its section of this file (docs/evaluation.md), between "
        "<!-- lofo-like:start --> and <!-- lofo-like:end -->",
    )
    lo.set_defaults(func=cmd_lofo)

    c = sub.add_parser("calibration", help="ECE, reliability, threshold and test FPR per model")
    common(c)
    c.set_defaults(func=cmd_calibration)

    s = sub.add_parser("seed", help="the seed's CIFAKE model on the same test split")
    common(s, models=False)
    seed_model = os.environ.get(SEED_MODEL_ENV)
    s.add_argument(
        "--seed-model",
        type=Path,
        default=Path(seed_model) if seed_model else None,
        required=not seed_model,
        help=f"the seed's my_model.keras (default: ${SEED_MODEL_ENV})",
    )
    s.set_defaults(func=cmd_seed)

    rp = sub.add_parser("report", help="write docs/evaluation.md and model-card snippets")
    rp.add_argument("--out", type=Path, required=True, help="folder holding the results")
    rp.add_argument("--data", type=Path, required=True, help="the corpus (manifest.csv)")
    rp.add_argument("--doc", type=Path, default=Path("docs/evaluation.md"))
    rp.add_argument("--print-cards", action="store_true", help="also print the card snippets")
    rp.add_argument(
        "--template",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "docs" / "templates" / "evaluation.md",
        help="the report's prose, with {placeholders} filled from the results",
    )
    rp.set_defaults(func=cmd_report)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for the recorded command
    args.func(args)
    return 0
