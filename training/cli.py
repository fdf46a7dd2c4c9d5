"""``aidetect train`` and ``aidetect ensemble`` (registered by ``aidetect.cli``).

Heavy imports (Keras, scikit-learn) happen when a command runs, so
``aidetect --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ARCHS = ("svm", "cnn", "resnet50", "patchnet")


def _workers_default() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def cmd_train(args: argparse.Namespace) -> int:
    from aidetect.errors import AIDetectError
    from training.common import TrainConfig, run_training
    from training.data import parse_augment

    try:
        cfg = TrainConfig(
            data=args.data,
            arch=args.arch,
            output=args.output,
            name=args.name or "",
            epochs=args.epochs,
            fine_tune_epochs=args.fine_tune_epochs,
            image_size=args.image_size,
            policy=args.policy,
            max_crops=args.max_crops,
            unfreeze=args.unfreeze,
            weights=args.weights,
            class_weight=args.class_weight,
            augment=parse_augment(args.augment),
            seed=args.seed,
            batch_size=args.batch_size,
            workers=args.workers or _workers_default(),
            limit=args.limit,
            val=args.val,
            test=args.test,
            target_fpr=args.target_fpr,
            learning_rate=args.learning_rate,
            mixed_precision=args.mixed_precision,
            jit_compile=args.jit_compile,
            svm_mode=args.svm_mode,
            svm_subset=args.svm_subset,
            svm_c=args.svm_c,
            cnn_variant=args.cnn_variant,
            patches_per_image=args.patches_per_image,
            paired=not args.unpaired,
            families=tuple(f.strip() for f in (args.families or "").split(",") if f.strip()),
            resume=args.resume,
            version=args.version,
            progress=not args.quiet,
        )
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
    from training.ensemble import build_ensemble

    meta = build_ensemble(
        args.members,
        args.output,
        rule=args.rule,
        data=args.data,
        seed=args.seed,
        val=args.val,
        test=args.test,
        target_fpr=args.target_fpr,
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
        help="train a model and write an artifact (svm, cnn, resnet50)",
        description="Train a detector from a labelled folder and write models/<name>/: model, "
        "metadata.json (threshold chosen on validation), README.md model card, and a test "
        "report in <output>/report/. See training/README.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--data",
        required=True,
        type=Path,
        help="REAL/FAKE folders, CIFAKE, "
        "manifest.csv (path,label[,generator][,source_id][,split]) or ArtiFact",
    )
    p.add_argument("--arch", required=True, choices=ARCHS)
    p.add_argument(
        "--output",
        required=True,
        type=Path,
        help="artifact folder, e.g. models/my-cnn (its name is the model's name)",
    )
    p.add_argument("--name", help="model name (must equal the output folder's name)")
    p.add_argument("--epochs", type=int, default=10, help="epochs (resnet50: head phase)")
    p.add_argument("--fine-tune-epochs", type=int, help="resnet50 phase 2 (default: --epochs)")
    p.add_argument(
        "--image-size",
        type=int,
        help="model input size (default: 32 for svm/cnn, 200 for resnet50)",
    )
    p.add_argument(
        "--policy",
        choices=["resize", "crops"],
        default="resize",
        help="resize whole images, or native-resolution crops (design notes 4)",
    )
    p.add_argument("--max-crops", type=int, default=16, help="crops policy: crops per image")
    p.add_argument(
        "--unfreeze",
        type=int,
        default=0,
        help="resnet50: fine-tune the last N base layers (the seed used 5)",
    )
    p.add_argument(
        "--weights",
        default="imagenet",
        help="resnet50: imagenet (downloaded), none, or a weights file path",
    )
    p.add_argument(
        "--class-weight",
        choices=["auto", "none"],
        default="auto",
        help="auto: n / (2 n_class) from the training split",
    )
    p.add_argument(
        "--augment",
        default="default",
        help="comma list of flip,rotate,zoom,jpeg,blur,crop; or none, default "
        "(flip,jpeg,blur,crop), all",
    )
    p.add_argument("--seed", type=int, default=0, help="splits, shuffling, augmentation, init")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--workers", type=int, default=0, help="decoding processes (default: every core)"
    )
    p.add_argument("--limit", type=int, default=0, help="use at most N images (quick runs)")
    p.add_argument("--val", type=float, default=0.15, help="validation fraction")
    p.add_argument("--test", type=float, default=0.15, help="test fraction")
    p.add_argument(
        "--target-fpr",
        type=float,
        default=0.05,
        help="threshold: this false-positive rate on validation reals",
    )
    p.add_argument("--learning-rate", type=float, help="default: 1e-3 (resnet50 head too)")
    p.add_argument(
        "--mixed-precision",
        action="store_true",
        help="mixed_bfloat16 compute (GPUs); the output layer stays float32",
    )
    p.add_argument(
        "--jit-compile",
        choices=["auto", "on", "off"],
        default="auto",
        help="XLA compilation (auto: on GPU / JAX, off on TensorFlow CPU)",
    )
    p.add_argument(
        "--svm-mode",
        choices=["fast", "seed"],
        default="fast",
        help="fast: linear SVM on residual features, all data; seed: raw pixels, "
        "grid-searched SVC on a subset",
    )
    p.add_argument("--svm-subset", type=int, default=2000, help="svm seed mode: images used")
    p.add_argument("--svm-c", type=float, help="svm fast mode: C (default 0.1)")
    p.add_argument("--cnn-variant", choices=["seed", "improved"], default="seed")
    p.add_argument(
        "--patches-per-image",
        type=int,
        default=1,
        help="training rows (native-resolution windows under --policy crops) cut from each "
        "decoded and augmented training image (patchnet, svm)",
    )
    p.add_argument(
        "--unpaired",
        action="store_true",
        help="augment the members of an aligned pair (same pair_id) independently "
        "(default: identically, so they differ only in what the generator changed)",
    )
    p.add_argument(
        "--families",
        default=None,
        help="train on AI images of these families only (comma-separated, shell patterns "
        "such as esrgan-*; the manifest's family column, else the generator); real "
        "images are always kept",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from <output>/checkpoints/",
    )
    p.add_argument("--version", default="1.0.0", help="model version recorded in metadata")
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
    e.add_argument("--version", default="1.0.0")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=cmd_ensemble)
