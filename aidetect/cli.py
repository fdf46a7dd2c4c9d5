"""The ``aidetect`` command line: predict, models, evaluate, and the commands other parts register.

A thin layer over the core library; heavy imports (TensorFlow) happen only in the
commands that need them, so ``aidetect --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from aidetect import __version__
from aidetect.settings import Settings

COMMAND_GROUP = "aidetect.commands"

NO_MODEL_HELP = """\
No model is installed in {models_dir}.

The service needs at least one model artifact (models/<name>/metadata.json). Either:
  - train one:   aidetect train --data PATH/TO/CIFAKE --arch cnn --output {models_dir}/my-cnn
  - import the seed project's Keras file:
                 aidetect models import-legacy PATH/TO/my_model.keras --name seed-cifake-cnn
  - or point AIDETECT_MODELS_DIR at a folder of models.
"""


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "models_dir", None):
        overrides["models_dir"] = args.models_dir
    return Settings(**overrides)


def _detector(args: argparse.Namespace, settings: Settings):
    """The detector (no model loaded yet) and model name the arguments ask for."""
    from aidetect.batch import detector_for

    detector, name = detector_for(
        settings, getattr(args, "model", None), no_provenance=getattr(args, "no_provenance", False)
    )
    if not detector.registry.names():
        sys.stderr.write(NO_MODEL_HELP.format(models_dir=detector.registry.root))
        raise SystemExit(2)
    return detector, name


def _ray_options(args: argparse.Namespace):
    from aidetect.ray_engine import RayOptions

    return RayOptions(
        address=args.address,
        workers=args.workers,
        cpus_per_worker=args.cpus_per_worker,
        batch_size=args.batch_size,
        progress=not args.quiet,
    )


def _score_records(args: argparse.Namespace, settings: Settings, detector, name, sources):
    """One record per source (``aidetect.batch.record``), in order, with either engine."""
    from aidetect.batch import record, score_sources

    no_provenance = getattr(args, "no_provenance", False)
    if args.engine == "ray":
        from aidetect.ray_engine import score_records

        detector.registry.metadata(name or detector.default_model)  # unknown model: fail here
        yield from score_records(
            list(sources),
            settings,
            args.model,
            no_provenance=no_provenance,
            options=_ray_options(args),
        )
        return
    for path, res in score_sources(detector, sources, name, batch_size=args.batch_size):
        yield record(path, res)


# --- predict ----------------------------------------------------------------------------------
def cmd_predict(args: argparse.Namespace) -> int:
    from aidetect.batch import RecordWriter, iter_images, output_format

    settings = _settings(args)
    detector, name = _detector(args, settings)
    records = _score_records(args, settings, detector, name, iter_images(args.paths))
    with RecordWriter(output_format(args.format, args.output), args.output or sys.stdout) as writer:
        for rec in records:
            writer.write(rec)
    print(f"{writer.n_ok} image(s) scored, {writer.n_err} error(s)", file=sys.stderr)
    return 0 if writer.n_ok or not writer.n_err else 1


# --- models -----------------------------------------------------------------------------------
def cmd_models(args: argparse.Namespace) -> int:
    from aidetect.registry import Registry

    settings = _settings(args)
    registry = Registry(settings.models_dir)
    action = getattr(args, "models_action", None) or "list"
    if action == "import-legacy":
        from aidetect.registry import import_legacy

        out = registry.root / args.name
        meta = import_legacy(args.file, out, name=args.name, image_size=args.size)
        print(f"imported {args.file} as {out} (input {meta.input.size}px, output P(real))")
        return 0
    names = registry.names()
    if not names:
        sys.stderr.write(NO_MODEL_HELP.format(models_dir=registry.root))
        return 2
    default = settings.default_model or registry.default_name()
    rows = []
    status = 0
    for n in names:
        try:
            meta = registry.verify(n) if action == "verify" else registry.metadata(n)
            rows.append(
                {
                    "name": n,
                    "default": n == default,
                    "architecture": meta.architecture,
                    "version": meta.version,
                    "input": meta.input.model_dump() if meta.input else None,
                    "members": [m.name for m in meta.members] if meta.members else None,
                    "threshold": meta.threshold,
                    "metrics": meta.headline_metrics(),
                    "metrics_n": meta.metrics_sample_size(),
                    "scope": meta.scope.model_dump() if meta.scope else None,
                    "status": "ok",
                }
            )
        except Exception as exc:
            rows.append({"name": n, "status": f"error: {exc}"})
            status = 1
    if args.json:
        print(json.dumps(rows, indent=2))
        return status
    if action == "verify":
        for r in rows:
            verdict = "verified (SHA-256 matches)" if r["status"] == "ok" else r["status"]
            print(f"{r['name']}: {verdict}")
        return status
    for r in rows:
        if r["status"] != "ok":
            print(f"  {r['name']:<24} {r['status']}")
            continue
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in r["metrics"].items() if v is not None)
        policy = f"{r['input']['policy']} {r['input']['size']}px" if r["input"] else "ensemble"
        mark = "*" if r["default"] else " "
        print(
            f"{mark} {r['name']:<24} {r['architecture']:<10} v{r['version']:<10} {policy:<14} "
            f"t={r['threshold']:.3f}  {metrics or 'no metrics recorded'}"
        )
    print("(* = default)")
    return status


# --- evaluate ---------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    from aidetect.datasets import evaluation_samples
    from aidetect.evaluation import evaluate, training_data_warning

    settings = _settings(args)
    detector, name = _detector(args, settings)
    samples = evaluation_samples(args.data)
    warning = training_data_warning(
        detector.resolve(name).metadata.training_data, args.data, samples
    )
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr, flush=True)
    scored = None
    if args.engine == "ray":  # the same records, scored on the cluster; the same report
        from aidetect.batch import result_of
        from aidetect.evaluation import Scored

        records = _score_records(args, settings, detector, name, [str(s.path) for s in samples])
        scored = Scored([(s, result_of(r)) for s, r in zip(samples, records, strict=True)])
    metrics = evaluate(
        detector,
        samples,
        args.report,
        model=name,
        batch_size=args.batch_size,
        progress=not args.quiet,
        scored=scored,
        extra={
            "command": " ".join(["aidetect", *sys.argv[1:]]),
            "warnings": [warning] if warning else [],
        },
    )
    keys = ("n", "accuracy", "precision", "recall", "f1", "roc_auc", "average_precision")
    summary = {k: metrics.get(k) for k in keys}
    print(json.dumps({"model": metrics["model"], **summary, "report": str(args.report)}, indent=2))
    return 0


# --- parser -----------------------------------------------------------------------------------
def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine (--engine ray needs: pip install 'aidetect[ray]')")
    g.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: this process; ray: Ray Data actors on a Ray cluster",
    )
    g.add_argument(
        "--address",
        help="Ray cluster: 'auto', HOST:PORT of the head, or ray://HOST:10001; "
        "default: a private Ray on 127.0.0.1 in this process",
    )
    g.add_argument(
        "--workers", type=int, help="Ray actors, each loading the model once (default: 1 per CPU)"
    )
    g.add_argument("--cpus-per-worker", type=float, default=1.0, help="CPUs Ray reserves per actor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aidetect", description="Detect AI-generated images (API server, CLI, training)."
    )
    parser.add_argument("--version", action="version", version=f"aidetect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="score image files and folders")
    p.add_argument(
        "paths", nargs="+", help="image files, folders (searched recursively) or URIs (s3://...)"
    )
    p.add_argument("--model", help="a model name, or the path of an artifact folder")
    p.add_argument(
        "--format",
        choices=["jsonl", "csv", "parquet"],
        help="default: from the --output suffix (.csv, .parquet), else jsonl",
    )
    p.add_argument("--output", "-o", help="write here instead of standard output")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--no-provenance", action="store_true", help="pixels only")
    p.add_argument("--models-dir", type=Path)
    p.add_argument("--quiet", action="store_true", help="no progress bar (Ray engine)")
    add_engine_arguments(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("models", help="list, verify or import models")
    p.add_argument("--models-dir", type=Path)
    p.add_argument("--json", action="store_true")
    msub = p.add_subparsers(dest="models_action")
    for action, text in (
        ("list", "installed models with headline metrics"),
        ("verify", "check every model file against its SHA-256"),
    ):
        # --json and --models-dir after the action too (``models list --json``);
        # SUPPRESS keeps a value given before the action.
        a = msub.add_parser(action, help=text)
        a.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        a.add_argument("--models-dir", type=Path, default=argparse.SUPPRESS)
    imp = msub.add_parser("import-legacy", help="import a seed model file (HDF5/.keras)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--name", required=True)
    imp.add_argument("--size", type=int, help="input size (default: read from the model)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("evaluate", help="score a labelled folder and write a report")
    p.add_argument("--data", required=True, type=Path, help="REAL/FAKE folders, CIFAKE, manifest")
    p.add_argument("--model", help="a model name or artifact folder (default: the served one)")
    p.add_argument("--report", required=True, type=Path, help="output folder")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--models-dir", type=Path)
    add_engine_arguments(p)
    p.set_defaults(func=cmd_evaluate)

    for entry in command_entry_points():
        try:
            register = entry.load()
        except ImportError as exc:  # that part is not installed: its commands are absent
            if exc.name not in (entry.module, entry.module.split(".", 1)[0]):
                raise
            continue
        register(sub)
    return parser


def command_entry_points() -> list:
    """The other parts' subcommands (serve, train, ensemble, corpus, ...).

    Each part declares ``register(subparsers)`` in the ``aidetect.commands`` entry-point
    group (pyproject.toml), so the core names none of the packages built on it. An
    install made before a group entry was added needs ``pip install -e .`` again.
    """
    from importlib.metadata import entry_points

    return sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    from aidetect.errors import AIDetectError

    try:
        rc = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return rc
    except AIDetectError as exc:
        print(f"error ({exc.code}): {exc.detail}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # ``aidetect models --json | head``: the reader left; stop quietly, as cat does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
