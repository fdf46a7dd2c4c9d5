"""What every training run shares: data listing and splits, Keras fitting with
checkpoints, the threshold chosen on validation, the artifact, the test report
and the model card.

A run (``run_training``):

1. lists the data (``aidetect.datasets.list_samples``), splits it
   (``training.data.split_samples``) and prints counts per split, class and generator;
2. hands the splits to the architecture's ``train()`` (``training/svm.py``,
   ``cnn.py``, ``resnet50.py``), which returns a fitted model;
3. writes the artifact, loads it back through ``Registry`` and ``Detector`` (the
   serving path), scores the validation split and picks the threshold for the
   target false-positive rate on real images, plus an uncertain band;
4. evaluates the test split with ``aidetect.evaluation.evaluate`` into
   ``<output>/report/`` and writes the final metadata and model card.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aidetect.datasets import Sample, counts, detect_layout, list_samples
from aidetect.errors import AIDetectError
from aidetect.evaluation import compute_metrics, evaluate, summarise, threshold_for_fpr
from aidetect.imaging import read_file_limited
from aidetect.inference import Detector
from aidetect.preprocess import CropSpec, InputSpec
from aidetect.registry import Registry, validate_name, write_artifact
from training.data import class_weights, describe, split_samples, subset

#: The uncertain band's edges: thresholds for these false-positive rates on validation reals.
BAND_FPRS = (0.10, 0.01)
DEFAULT_SIZES = {"svm": 32, "cnn": 32, "resnet50": 200, "patchnet": 64}


@dataclass
class TrainConfig:
    data: Path
    arch: str
    output: Path
    name: str = ""
    epochs: int = 10
    fine_tune_epochs: int | None = None
    image_size: int | None = None
    policy: str = "resize"
    max_crops: int = 16
    unfreeze: int = 0
    weights: str = "imagenet"
    class_weight: str = "auto"
    augment: tuple[str, ...] = ()
    seed: int = 0
    batch_size: int = 32
    workers: int = 1
    limit: int = 0
    val: float = 0.15
    test: float = 0.15
    target_fpr: float = 0.05
    learning_rate: float | None = None
    mixed_precision: bool = False
    jit_compile: str = "auto"
    svm_mode: str = "fast"
    svm_subset: int = 2000
    svm_c: float | None = None
    cnn_variant: str = "seed"
    patches_per_image: int = 1
    paired: bool = True
    families: tuple[str, ...] = ()
    resume: bool = False
    version: str = "1.0.0"
    progress: bool = True
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data, self.output = Path(self.data), Path(self.output)
        self.name = self.name or self.output.name
        validate_name(self.name)
        if self.name != self.output.name:
            # the registry finds a model by its folder name
            raise ValueError(f"--name {self.name!r} must equal the output folder's name")
        if self.image_size is None:
            self.image_size = DEFAULT_SIZES.get(self.arch, 32)
        if self.arch == "resnet50" and self.image_size < 32:
            raise ValueError("ResNet50 needs an input of at least 32x32")

    def spec(self, scale: str = "raw") -> InputSpec:
        assert self.image_size is not None
        return InputSpec(
            policy=self.policy,  # type: ignore[arg-type]
            size=self.image_size,
            scale=scale,  # type: ignore[arg-type]
            crops=CropSpec(max_crops=self.max_crops),
        )

    def command_line(self) -> str:
        """The run as one ``aidetect train`` command with every setting spelled out."""
        if self.command:
            return self.command
        args = [
            "aidetect",
            "train",
            "--data",
            str(self.data),
            "--arch",
            self.arch,
            "--output",
            str(self.output),
            "--name",
            self.name,
            "--epochs",
            str(self.epochs),
            "--image-size",
            str(self.image_size),
            "--policy",
            self.policy,
            "--augment",
            ",".join(self.augment) or "none",
            "--class-weight",
            self.class_weight,
            "--seed",
            str(self.seed),
            "--batch-size",
            str(self.batch_size),
            "--target-fpr",
            str(self.target_fpr),
            "--val",
            str(self.val),
            "--test",
            str(self.test),
        ]
        if self.policy == "crops":
            args += ["--max-crops", str(self.max_crops)]
        if self.limit:
            args += ["--limit", str(self.limit)]
        if self.arch == "svm":
            args += ["--svm-mode", self.svm_mode]
            if self.svm_mode == "seed":
                args += ["--svm-subset", str(self.svm_subset)]
            if self.svm_c is not None:
                args += ["--svm-c", str(self.svm_c)]
        if self.arch == "cnn":
            args += ["--cnn-variant", self.cnn_variant]
        if self.patches_per_image != 1:
            args += ["--patches-per-image", str(self.patches_per_image)]
        if not self.paired:
            args.append("--unpaired")
        if self.families:
            args += ["--families", ",".join(self.families)]
        if self.arch == "resnet50":
            args += ["--weights", self.weights, "--unfreeze", str(self.unfreeze)]
            if self.fine_tune_epochs is not None:
                args += ["--fine-tune-epochs", str(self.fine_tune_epochs)]
        if self.learning_rate is not None:
            args += ["--learning-rate", str(self.learning_rate)]
        if self.mixed_precision:
            args.append("--mixed-precision")
        return shlex.join(args)


@dataclass
class Splits:
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    layout: str

    def as_dict(self) -> dict[str, list[Sample]]:
        return {"train": self.train, "val": self.val, "test": self.test}


@dataclass
class Trained:
    """What an architecture's ``train()`` hands back."""

    architecture: str
    description: str
    keras_model: Any = None
    sklearn_model: Any = None
    input_spec: InputSpec | None = None
    details: dict[str, Any] = field(default_factory=dict)  # hyper-parameters, history
    train_seconds: float = 0.0
    train_images: int = 0  # rows seen in training, all epochs (for images/s)


def log(cfg: TrainConfig, msg: str) -> None:
    if cfg.progress:
        print(msg, flush=True)


def load_splits(cfg: TrainConfig) -> Splits:
    samples = list_samples(cfg.data)
    if not samples:
        raise AIDetectError(f"{cfg.data}: no images found")
    if cfg.limit:
        samples = subset(samples, cfg.limit, cfg.seed, root=cfg.data)
    samples = split_samples(samples, cfg.val, cfg.test, cfg.seed, root=cfg.data)
    if cfg.families:
        samples = [s for s in samples if s.label == 0 or family_selected(s, cfg.families)]
    parts = {k: [s for s in samples if s.split == k] for k in ("train", "val", "test")}
    if not parts["train"] or len({s.label for s in parts["train"]}) < 2:
        raise AIDetectError("the training split needs images of both classes")
    return Splits(layout=detect_layout(cfg.data), **parts)


def family_selected(sample: Sample, patterns: Sequence[str]) -> bool:
    """Whether an AI sample's family (else its generator) matches one of ``patterns``
    (shell-style, e.g. ``esrgan-*``)."""
    from fnmatch import fnmatchcase

    key = sample.family or sample.generator
    return any(fnmatchcase(key, p) for p in patterns)


def training_data_meta(cfg: TrainConfig, splits: Splits) -> dict[str, Any]:
    weights = class_weights(splits.train) if cfg.class_weight == "auto" else None
    return {
        "dataset": str(cfg.data),
        "layout": splits.layout,
        "counts": counts(splits.train + splits.val + splits.test),
        "splits": {k: counts(v) for k, v in splits.as_dict().items()},
        "split_rule": (
            "existing split kept; otherwise sha256(seed:source_id or relative path), "
            f"seed {cfg.seed}, val {cfg.val}, test {cfg.test}"
        ),
        "class_weight": {str(k): round(v, 6) for k, v in weights.items()} if weights else None,
        "augment": list(cfg.augment),
        "families": list(cfg.families) or "all",
    }


# --- Keras fitting ----------------------------------------------------------------------------
def checkpoint_dir(cfg: TrainConfig) -> Path:
    return cfg.output / "checkpoints"


def prepare_checkpoints(cfg: TrainConfig) -> None:
    """A fresh run starts clean; ``--resume`` keeps what an interrupted run left."""
    ckpt = checkpoint_dir(cfg)
    if ckpt.exists() and not cfg.resume:
        shutil.rmtree(ckpt)
    ckpt.mkdir(parents=True, exist_ok=True)


def fit_keras(
    model: Any,
    train_ds: Any,
    val_ds: Any,
    epochs: int,
    cfg: TrainConfig,
    phase: str,
) -> dict[str, list[float]]:
    """``model.fit`` with checkpoints that survive an interruption.

    ``BackupAndRestore`` saves the model, optimizer and epoch after every epoch
    and restores them when the same run starts again (``--resume``), continuing
    from the next epoch; ``ModelCheckpoint`` keeps the latest weights of each
    phase. A finished phase leaves ``<phase>.history.json`` and is skipped on
    resume (its last weights are loaded instead).
    """
    import keras

    ckpt = checkpoint_dir(cfg)
    last = ckpt / f"{phase}-last.weights.h5"
    done = ckpt / f"{phase}.history.json"
    if cfg.resume and done.exists() and last.exists():
        log(cfg, f"[{phase}] finished in an earlier run: loading {last}")
        model.load_weights(last)
        return json.loads(done.read_text())
    callbacks = [
        keras.callbacks.BackupAndRestore(str(ckpt / f"backup-{phase}")),
        keras.callbacks.ModelCheckpoint(str(last), save_weights_only=True),
    ]
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        callbacks=callbacks,
        shuffle=False,  # ImageDataset shuffles itself, by seed and epoch
        verbose=1 if cfg.progress else 0,
    )
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    done.write_text(json.dumps(hist))
    return hist


def keras_setup(cfg: TrainConfig) -> None:
    """Seeds and precision for a Keras run (call before building the model)."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if cfg.mixed_precision else "float32")


def keras_teardown() -> None:
    import keras

    keras.mixed_precision.set_global_policy("float32")


# --- scoring through the serving path ---------------------------------------------------------
def score_samples(
    detector: Detector,
    model: str,
    samples: Sequence[Sample],
    batch_size: int = 64,
    return_samples: bool = False,
) -> tuple:
    """Labels, P(AI) and generators for samples, scored by ``Detector.detect_many``
    (and, with ``return_samples``, the samples that could be scored)."""
    ys, ps, gens, scored = [], [], [], []
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        blobs, kept = [], []
        for s in chunk:
            try:
                blobs.append(read_file_limited(s.path, detector.limits.max_bytes))
                kept.append(s)
            except (OSError, AIDetectError):
                continue
        for s, res in zip(kept, detector.detect_many(blobs, model), strict=True):
            if isinstance(res, AIDetectError):
                continue
            ys.append(s.label)
            ps.append(res.ai_probability)
            gens.append(s.generator or ("real" if s.label == 0 else "unknown"))
            scored.append(s)
    out = np.asarray(ys, dtype=int), np.asarray(ps, dtype=np.float64), gens
    return (*out, scored) if return_samples else out


def choose_threshold(
    y: np.ndarray, p: np.ndarray, target_fpr: float
) -> tuple[float, tuple[float, float] | None, str]:
    """Threshold for ``target_fpr`` on validation reals, and the uncertain band.

    The band runs from the threshold that allows 10 % false positives to the one
    that allows 1 % (widened to contain the threshold): below it the model says
    real, above it AI-generated, inside it uncertain.
    """
    if not (y == 0).any():
        return 0.5, None, "no real images in validation: default threshold 0.5, no band"
    t = threshold_for_fpr(y, p, target_fpr)
    lo = min(threshold_for_fpr(y, p, BAND_FPRS[0]), t)
    hi = max(threshold_for_fpr(y, p, BAND_FPRS[1]), t)
    rule = (
        f"threshold: lowest with false-positive rate <= {target_fpr} on {int((y == 0).sum())} "
        f"validation reals; uncertain band: thresholds for FPR {BAND_FPRS[0]} and {BAND_FPRS[1]}"
    )
    return t, (lo, hi), rule


# --- the run ----------------------------------------------------------------------------------
def finish_run(cfg: TrainConfig, splits: Splits, trained: Trained) -> dict[str, Any]:
    """Artifact, threshold on validation, test report, card; returns the final metadata."""
    assert trained.input_spec is not None
    out = cfg.output
    training_data = training_data_meta(cfg, splits)
    seconds = trained.train_seconds
    ips = trained.train_images / seconds if seconds > 0 else None
    meta: dict[str, Any] = {
        "name": cfg.name,
        "architecture": trained.architecture,
        "version": cfg.version,
        "description": trained.description,
        "format": "sklearn" if trained.sklearn_model is not None else "keras",
        "input": trained.input_spec.model_dump(),
        "output": "ai_probability",
        "threshold": 0.5,
        "training_data": training_data,
        "training": {
            **trained.details,
            "seconds": round(seconds, 2),
            "images_per_second": round(ips, 1) if ips else None,
            "seed": cfg.seed,
        },
        "command": cfg.command_line(),
    }
    # 1. the model file, with a provisional threshold
    write_artifact(out, meta, keras_model=trained.keras_model, sklearn_model=trained.sklearn_model)
    model_file = out / ("model.joblib" if meta["format"] == "sklearn" else "model.keras")

    # 2. the threshold, from validation scored through the serving path
    val_metrics: dict[str, Any] | None = None
    registry = Registry(out.parent)
    detector = Detector(registry, provenance=False)
    if splits.val:
        y, p, gens = score_samples(detector, cfg.name, splits.val)
        t, band, rule = choose_threshold(y, p, cfg.target_fpr)
        val_metrics = compute_metrics(y, p, t, gens, band)
    else:
        t, band, rule = 0.5, None, "no validation split: default threshold 0.5"
    meta.update(threshold=t, uncertain_band=band, threshold_rule=rule)
    meta["metrics"] = {"target_fpr": cfg.target_fpr, "validation": val_metrics}
    write_artifact(out, meta, model_file=model_file)
    # the model file is unchanged (same SHA-256): re-read only the metadata, not the model
    registry.load(cfg.name).metadata = registry.metadata(cfg.name)

    # 3. the test report, through Registry + Detector as served
    test_samples = splits.test or splits.val
    test_metrics: dict[str, Any] | None = None
    if test_samples:
        report = evaluate(
            detector,
            test_samples,
            out / "report",
            model=cfg.name,
            progress=cfg.progress,
            extra={"command": meta["command"], "split": "test" if splits.test else "val"},
        )
        test_metrics = summarise(report)
        test_metrics["report"] = "report/metrics.json"
        if not splits.test:
            test_metrics["note"] = "no test split: this is the validation split"
    meta["metrics"]["test"] = test_metrics
    final = write_artifact(out, meta, model_file=model_file, card=model_card(meta, cfg))
    return final.model_dump(mode="json", exclude_none=True)


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _metrics_table(metrics: dict[str, dict[str, Any] | None]) -> list[str]:
    keys = (
        "n",
        "accuracy",
        "roc_auc",
        "average_precision",
        "precision",
        "recall",
        "f1",
        "false_positive_rate",
        "uncertain_rate",
        "expected_calibration_error",
    )
    cols = [k for k, v in metrics.items() if v]
    if not cols:
        return ["Not measured (no validation or test images)."]
    lines = ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(_fmt(metrics[c].get(k)) for c in cols) + " |")  # type: ignore[union-attr]
    return lines


def model_card(meta: dict[str, Any], cfg: TrainConfig) -> str:
    """README.md for the artifact, with the numbers this run measured."""
    td = meta["training_data"]
    tr = meta["training"]
    m = meta["metrics"]
    spec = meta["input"]
    band = meta.get("uncertain_band")
    lines = [
        f"# {meta['name']} ({meta['architecture']}, v{meta['version']})",
        "",
        meta["description"],
        "",
        "## Intended use and limits",
        "",
        "Scores how likely an image is AI-generated (1 = AI-generated). It knows only the "
        "generators in its training data (below): expect much weaker results on other "
        "generators, on heavily re-compressed or resized images, and on content unlike the "
        "training set. A score is evidence, not proof; the uncertain band exists so that "
        "borderline images are not called fake.",
        "",
        "## Input",
        "",
        f"- policy `{spec['policy']}`, {spec['size']}x{spec['size']}, scale `{spec['scale']}`"
        + (
            f", up to {spec['crops']['max_crops']} crops, {spec['crops']['aggregate']}"
            if spec["policy"] == "crops"
            else ""
        ),
        "- decoding and preprocessing: `aidetect.imaging` and `aidetect.preprocess` "
        "(the same code in training and serving)",
        "",
        "## Decision",
        "",
        f"- threshold **{meta['threshold']:.4f}** ({meta.get('threshold_rule', '')})",
        f"- uncertain band: {f'[{band[0]:.4f}, {band[1]:.4f}]' if band else 'none'}",
        "",
        "## Training data",
        "",
        f"`{td['dataset']}` (layout `{td['layout']}`); split rule: {td['split_rule']}.",
        "",
        "```",
        describe_counts(td["splits"]),
        "```",
        "",
        f"- class weights: {td['class_weight'] or 'none'}",
        f"- augmentation: {', '.join(td['augment']) or 'none'}",
        f"- training time {tr['seconds']} s, {_fmt(tr.get('images_per_second'), 1)} images/s "
        f"(end to end from files, {tr.get('device', 'CPU')})",
        "",
        "## Metrics",
        "",
        f"Threshold chosen on validation for a false-positive rate of {cfg.target_fpr}.",
        "",
        *_metrics_table({"validation": m.get("validation"), "test": m.get("test")}),
        "",
    ]
    test = m.get("test") or {}
    if test.get("per_generator"):
        lines += ["Per generator (test):", "", "| generator | n | detection rate | AUC vs real |"]
        lines.append("|---|---|---|---|")
        for g, e in test["per_generator"].items():
            lines.append(
                f"| {g} | {e['n']} | {_fmt(e['detection_rate'])} | "
                f"{_fmt(e.get('roc_auc_vs_real'))} |"
            )
        lines.append("")
    lines += [
        "The full test report (predictions, plots) is in `report/`.",
        "",
        "## Reproduce",
        "",
        "```",
        meta["command"],
        "```",
        "",
        "Framework versions are in `metadata.json`.",
        "",
    ]
    return "\n".join(lines)


def describe_counts(split_counts: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, c in split_counts.items():
        pc = c["per_class"]
        gens = ", ".join(f"{g} {n}" for g, n in c["per_generator"].items())
        lines.append(
            f"{name:<5} {c['total']:>8} images  real {pc.get('real', 0):>7}  "
            f"AI {pc.get('ai_generated', 0):>7}  generators: {gens or '-'}"
        )
    return "\n".join(lines)


def summary(meta: dict[str, Any], cfg: TrainConfig) -> str:
    """One screen: what was trained, on what, how well, and what to do next."""
    m = meta.get("metrics", {})
    test = m.get("test") or {}
    val = m.get("validation") or {}
    band = meta.get("uncertain_band")
    tr = meta.get("training", {})
    rows = [
        "",
        "=" * 72,
        f"trained  {meta['name']}  ({meta['architecture']}, input {meta['input']['policy']} "
        f"{meta['input']['size']}px)",
        f"artifact {cfg.output}",
        f"data     {describe_counts(meta['training_data']['splits'])}".replace("\n", "\n         "),
        f"time     {tr.get('seconds')} s, {_fmt(tr.get('images_per_second'), 1)} images/s",
        f"decision threshold {_fmt(meta['threshold'])} (FPR <= {cfg.target_fpr} on val), "
        f"uncertain band {f'[{band[0]:.3f}, {band[1]:.3f}]' if band else 'none'}",
        f"val      accuracy {_fmt(val.get('accuracy'))}  AUC {_fmt(val.get('roc_auc'))}  "
        f"AP {_fmt(val.get('average_precision'))}",
        f"test     accuracy {_fmt(test.get('accuracy'))}  AUC {_fmt(test.get('roc_auc'))}  "
        f"AP {_fmt(test.get('average_precision'))}  FPR {_fmt(test.get('false_positive_rate'))}"
        f"  uncertain {_fmt(test.get('uncertain_rate'))}",
        f"report   {cfg.output / 'report'}",
        "next     aidetect evaluate --data DIR --model " + str(cfg.output) + " --report REPORT",
        f"         aidetect serve --models-dir {cfg.output.parent}",
        "=" * 72,
    ]
    return "\n".join(rows)


def run_training(cfg: TrainConfig) -> dict[str, Any]:
    """The whole run for ``aidetect train``; returns the artifact's metadata."""
    splits = load_splits(cfg)
    log(cfg, f"data: {cfg.data} (layout {splits.layout})\n{describe(splits.as_dict())}")
    if cfg.class_weight == "auto":
        w = class_weights(splits.train)
        log(cfg, f"class weights (n / (2 n_c)): real {w[0]:.3f}, AI {w[1]:.3f}")
    cfg.output.mkdir(parents=True, exist_ok=True)
    if cfg.arch == "svm":
        from training import svm as module
    elif cfg.arch == "cnn":
        from training import cnn as module  # type: ignore[no-redef]
    elif cfg.arch == "resnet50":
        from training import resnet50 as module  # type: ignore[no-redef]
    elif cfg.arch == "patchnet":
        from training import patchnet as module  # type: ignore[no-redef]
    else:
        raise ValueError(f"unknown architecture {cfg.arch!r}")
    started = time.perf_counter()
    trained = module.train(cfg, splits)
    if not trained.train_seconds:
        trained.train_seconds = time.perf_counter() - started
    meta = finish_run(cfg, splits, trained)
    log(cfg, summary(meta, cfg))
    return meta


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    d = asdict(cfg)
    d["data"], d["output"] = str(cfg.data), str(cfg.output)
    return d


def keras_device() -> str:
    """The backend and, where it can be asked without TensorFlow, the device."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        dev = jax.devices()[0]
        return f"keras-jax on {dev.platform} ({dev.device_kind})"
    return f"keras-{backend}"


def keras_datasets(cfg: TrainConfig, splits: Splits, spec: InputSpec):
    """Training (augmented, shuffled, class-weighted) and validation loaders."""
    from training.data import ImageDataset

    weights = class_weights(splits.train) if cfg.class_weight == "auto" else None
    common = {"batch_size": cfg.batch_size, "seed": cfg.seed, "workers": cfg.workers}
    train_ds = ImageDataset(
        splits.train, spec, augment=cfg.augment, shuffle=True, class_weight=weights, **common
    )
    val_ds = ImageDataset(splits.val, spec, **common) if splits.val else None
    return train_ds, val_ds


def compile_kwargs(cfg: TrainConfig) -> dict[str, Any]:
    import keras

    jit: bool | str = {"on": True, "off": False}.get(cfg.jit_compile, "auto")
    return {
        "loss": "binary_crossentropy",
        "metrics": ["accuracy", keras.metrics.AUC(name="auc")],
        "jit_compile": jit,
    }
