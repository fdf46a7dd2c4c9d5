"""``aidetect train`` and ``aidetect ensemble`` (registered by ``aidetect.cli``).

Heavy imports (Keras, scikit-learn) happen when a command runs, so
``aidetect --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aidetect_training import architectures
from aidetect_training.config import RunConfig
from aidetect_training.options import add_arguments, from_namespace
from aidetect_training.variants import parse_variants


def _variants_arg(text: str) -> tuple[str, ...]:
    """``parse_variants`` for argparse: its message instead of "invalid value"."""
    try:
        return parse_variants(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run's configuration from parsed ``aidetect train`` arguments (ValueError: usage)."""
    arch = architectures.get(args.arch)
    options = from_namespace(arch.options, args)
    return from_namespace(RunConfig, args, arch_options=options, progress=not args.quiet)


def parse_train(argv: list[str]) -> RunConfig:
    """``aidetect train ARGV`` as the run's configuration, defaults and input size resolved."""
    from aidetect_training.run import resolve

    parser = argparse.ArgumentParser(prog="aidetect")
    register(parser.add_subparsers(dest="command"))
    return resolve(config_from_args(parser.parse_args(["train", *argv])))


def cmd_train(args: argparse.Namespace) -> int:
    from aidetect.errors import AIDetectError
    from aidetect_training.run import resolve, run_training

    try:
        cfg = resolve(config_from_args(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.data.exists():
        print(f"error: {cfg.data} does not exist", file=sys.stderr)
        return 2
    try:
        meta = run_training(cfg)
    except ValueError as exc:  # DatasetError and bad settings; AIDetectError goes up to main
        if isinstance(exc, AIDetectError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(meta, indent=2))
    return 0


def cmd_ensemble(args: argparse.Namespace) -> int:
    from aidetect_training.ensemble import build_ensemble

    meta = build_ensemble(
        args.members,
        args.output,
        rule=args.rule,
        data=args.data,
        seed=args.seed,
        val=args.val,
        test=args.test,
        target_fpr=args.target_fpr,
        families=[f for f in (args.families or "").split(",") if f],
        equal_weights=args.equal_weights,
        threshold_variants=args.threshold_variants,
        version=args.version,
        progress=not args.quiet,
    )
    members = ", ".join(f"{m['name']} {m['weight']:.3f}" for m in meta["members"])
    print(f"ensemble {meta['name']} ({meta['ensemble_rule']}): {members}")
    print(f"threshold {meta['threshold']:.4f}, band {meta.get('uncertain_band')}")
    test = (meta.get("metrics") or {}).get("test")
    if test:
        print(
            f"test: accuracy {test.get('accuracy')}, AUC {test.get('roc_auc')}, "
            f"report {Path(args.output) / 'report'}"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model and write an artifact (" + ", ".join(architectures.TABLE) + ")",
        description="Train a detector from a labelled folder and write models/<name>/: model, "
        "metadata.json (threshold chosen on validation), README.md model card, and a test "
        "report in <output>/report/. See aidetect_training/README.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    table = architectures.all_architectures()
    add_arguments(p, RunConfig, choices={"arch": [a.name for a in table]})
    for arch in table:
        add_arguments(p.add_argument_group(f"{arch.name}: {arch.help}"), arch.options)
    p.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    p.add_argument("--json", action="store_true", help="print the final metadata as JSON")
    p.set_defaults(func=cmd_train)

    e = sub.add_parser(
        "ensemble",
        help="combine trained models into an ensemble artifact",
        description="Write an ensemble artifact whose members are models in the same models "
        "folder as --output. With --data, weights (rule mean) and the threshold are fitted on "
        "the validation split and the test split is evaluated.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    e.add_argument("--members", nargs="+", required=True, help="model names beside --output")
    e.add_argument("--output", required=True, type=Path, help="e.g. models/my-ensemble")
    e.add_argument("--rule", choices=["mean", "vote"], default="mean")
    e.add_argument("--data", type=Path, help="labelled data: fit weights and threshold")
    e.add_argument("--seed", type=int, default=0, help="the split seed used in training")
    e.add_argument("--val", type=float, default=0.15)
    e.add_argument("--test", type=float, default=0.15)
    e.add_argument("--target-fpr", type=float, default=0.05)
    e.add_argument(
        "--families",
        default="",
        help="with --data: fit on the AI images of these families only (comma-separated "
        "names or patterns, as `aidetect train --families`); default every family",
    )
    e.add_argument(
        "--equal-weights",
        action="store_true",
        help="with --data and rule mean: keep equal weights, fit only the threshold "
        "(fitted weights favour the member best on the families it was fitted on)",
    )
    e.add_argument(
        "--threshold-variants",
        type=_variants_arg,
        default=(),
        help="with --data: the threshold also holds on these copies of the "
        "validation reals, the band is taken on them pooled (as `aidetect train "
        "--threshold-variants`)",
    )
    e.add_argument("--version", default="1.0.0")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=cmd_ensemble)
