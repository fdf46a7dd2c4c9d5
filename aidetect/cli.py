"""The ``aidetect`` command line: predict, models, evaluate, and the commands other parts register.

A thin layer over the core library; heavy imports (TensorFlow) happen only in the
commands that need them, so ``aidetect --help`` is instant.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator
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
    from aidetect.inference import Detector
    from aidetect.registry import registry_for

    registry, name = registry_for(getattr(args, "model", None), settings.models_dir)
    if not registry.names():
        sys.stderr.write(NO_MODEL_HELP.format(models_dir=registry.root))
        raise SystemExit(2)
    detector = Detector.from_settings(
        settings,
        registry=registry,
        default_model=name,
        provenance=settings.provenance and not getattr(args, "no_provenance", False),
    )
    return detector, name


# --- predict ----------------------------------------------------------------------------------
def iter_images(paths: list[str]) -> Iterator[Path]:
    from aidetect.imaging import IMAGE_SUFFIXES

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if Path(f).suffix.lower() in IMAGE_SUFFIXES:
                        yield Path(root) / f
        else:
            yield p


CSV_FIELDS = [
    "path",
    "ok",
    "verdict",
    "ai_probability",
    "model",
    "width",
    "height",
    "format",
    "evidence",
    "error_code",
    "error",
]


def _row(path: Path, res) -> dict:
    from aidetect.errors import AIDetectError

    if isinstance(res, AIDetectError):
        return {"path": str(path), "ok": False, "error": {"code": res.code, "detail": res.detail}}
    return {"path": str(path), "ok": True, **res.model_dump(mode="json", exclude={"heatmap"})}


def _csv_row(row: dict) -> dict:
    if not row["ok"]:
        return {
            "path": row["path"],
            "ok": False,
            "error_code": row["error"]["code"],
            "error": row["error"]["detail"],
        }
    return {
        "path": row["path"],
        "ok": True,
        "verdict": row["verdict"],
        "ai_probability": f"{row['ai_probability']:.6f}",
        "model": row["model"]["name"],
        "width": row["image"]["width"],
        "height": row["image"]["height"],
        "format": row["image"]["format"],
        "evidence": "; ".join(
            f"{e['kind']}:{e['signal']}/{e['strength']}" for e in row["evidence"]
        ),
    }


def cmd_predict(args: argparse.Namespace) -> int:
    settings = _settings(args)
    detector, name = _detector(args, settings)
    if args.output:
        with open(args.output, "w", newline="") as out:
            return _predict(args, detector, name, out)
    return _predict(args, detector, name, sys.stdout)


def _predict(args, detector, name, out) -> int:
    writer = None
    if args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()
    n_ok = n_err = 0

    def emit(path: Path, res) -> None:
        nonlocal n_ok, n_err
        row = _row(path, res)
        n_ok, n_err = n_ok + row["ok"], n_err + (not row["ok"])
        if writer is not None:
            writer.writerow(_csv_row(row))
        else:
            out.write(json.dumps(row) + "\n")
        out.flush()

    for path, res in detector.score_files(
        iter_images(args.paths), name, batch_size=args.batch_size
    ):
        emit(path, res)
    print(f"{n_ok} image(s) scored, {n_err} error(s)", file=sys.stderr)
    return 0 if n_ok or not n_err else 1


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
    metrics = evaluate(
        detector,
        samples,
        args.report,
        model=name,
        batch_size=args.batch_size,
        progress=not args.quiet,
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
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aidetect", description="Detect AI-generated images (API server, CLI, training)."
    )
    parser.add_argument("--version", action="version", version=f"aidetect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="score image files and folders")
    p.add_argument("paths", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--model", help="a model name, or the path of an artifact folder")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--output", "-o", help="write here instead of standard output")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--no-provenance", action="store_true", help="pixels only")
    p.add_argument("--models-dir", type=Path)
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
