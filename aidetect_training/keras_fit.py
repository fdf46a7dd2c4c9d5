"""Training a Keras architecture, written once: an architecture gives a builder and phases.

``keras_architecture(name, build, ...)`` makes the architecture's ``train``: seeds
and precision (``setup``), the model from ``build(cfg, splits, spec)``, the data loaders
(augmented, shuffled, class-weighted training; validation), fresh or resumed
checkpoints, then each ``Phase`` in turn (its ``before`` hook, compile with Adam at
the phase's rate, ``fit`` with checkpoints), and ``teardown`` whatever happens.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aidetect.preprocess import InputSpec
from aidetect_training.config import Architecture, RunConfig, Splits, Trained, log


@dataclass
class Phase:
    """One ``fit``: ``name`` keys its history; ``checkpoint`` names its files."""

    name: str
    epochs: int
    learning_rate: float
    checkpoint: str = ""
    #: runs before the phase is compiled (e.g. unfreeze layers); returns a line to log
    before: Callable[[], str | None] | None = None

    def __post_init__(self) -> None:
        self.checkpoint = self.checkpoint or self.name


@dataclass
class Plan:
    """What an architecture's builder returns."""

    model: Any
    phases: list[Phase]
    description: str
    details: dict[str, Any] = field(default_factory=dict)


Builder = Callable[[RunConfig, Splits, InputSpec], Plan]
#: the model's input (policy, size, scale) from the run's options
SpecFn = Callable[[RunConfig], InputSpec]
#: (training loader, validation loader or None)
LoadersFn = Callable[[RunConfig, Splits, InputSpec], tuple[Any, Any]]


def checkpoint_dir(cfg: RunConfig) -> Path:
    return cfg.output / "checkpoints"


def prepare_checkpoints(cfg: RunConfig) -> None:
    """A fresh run starts clean; ``--resume`` keeps what an interrupted run left."""
    ckpt = checkpoint_dir(cfg)
    if ckpt.exists() and not cfg.resume:
        shutil.rmtree(ckpt)
    ckpt.mkdir(parents=True, exist_ok=True)


def fit(model: Any, train_ds: Any, val_ds: Any, cfg: RunConfig, phase: Phase) -> dict:
    """``model.fit`` with checkpoints that survive an interruption.

    ``BackupAndRestore`` saves the model, optimizer and epoch after every epoch
    and restores them when the same run starts again (``--resume``), continuing
    from the next epoch; ``ModelCheckpoint`` keeps the latest weights of each
    phase. A finished phase leaves ``<phase>.history.json`` and is skipped on
    resume (its last weights are loaded instead).
    """
    import keras

    ckpt = checkpoint_dir(cfg)
    last = ckpt / f"{phase.checkpoint}-last.weights.h5"
    done = ckpt / f"{phase.checkpoint}.history.json"
    if cfg.resume and done.exists() and last.exists():
        log(cfg, f"[{phase.name}] finished in an earlier run: loading {last}")
        model.load_weights(last)
        return json.loads(done.read_text())
    callbacks = [
        keras.callbacks.BackupAndRestore(str(ckpt / f"backup-{phase.checkpoint}")),
        keras.callbacks.ModelCheckpoint(str(last), save_weights_only=True),
    ]
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=phase.epochs,
        callbacks=callbacks,
        shuffle=False,  # ImageDataset shuffles itself, by seed and epoch
        verbose=1 if cfg.progress else 0,
    )
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    done.write_text(json.dumps(hist))
    return hist


def setup(cfg: RunConfig) -> None:
    """Seeds and precision for a Keras run (before the model is built)."""
    import keras

    keras.utils.set_random_seed(cfg.seed)
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if cfg.mixed_precision else "float32")


def teardown() -> None:
    import keras

    keras.mixed_precision.set_global_policy("float32")


def device() -> str:
    """The backend and, where it can be asked without TensorFlow, the device."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        dev = jax.devices()[0]
        return f"keras-jax on {dev.platform} ({dev.device_kind})"
    return f"keras-{backend}"


def datasets(cfg: RunConfig, splits: Splits, spec: InputSpec):
    """Training (augmented, shuffled, class-weighted) and validation loaders."""
    from aidetect_training.data import ImageDataset, class_weights

    weights = class_weights(splits.train) if cfg.class_weight == "auto" else None
    common = {"batch_size": cfg.batch_size, "seed": cfg.seed, "workers": cfg.workers}
    train_ds = ImageDataset(
        splits.train,
        spec,
        augment=cfg.augment,
        shuffle=True,
        class_weight=weights,
        patches=cfg.patches_per_image,
        paired=cfg.paired,
        **common,
    )
    val_ds = (
        ImageDataset(splits.val, spec, patches=cfg.patches_per_image, **common)
        if splits.val
        else None
    )
    return train_ds, val_ds


def compile_model(model: Any, cfg: RunConfig, learning_rate: float) -> None:
    import keras

    jit: bool | str = {"on": True, "off": False}.get(cfg.jit_compile, "auto")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(name="auc")],
        jit_compile=jit,
    )


def raw_pixels(cfg: RunConfig) -> InputSpec:
    """The default input: the run's policy and size, raw 0..255 pixels (scaling in the model)."""
    return cfg.spec("raw")


def copy_weights(src: Any, dst: Any, label: str) -> list[str]:
    """Copy ``src``'s weights into ``dst``: in order when both have as many weighted
    layers (their auto-generated names may differ between processes: ``conv2d`` here,
    ``conv2d_3`` there), else each source layer into the layer of the same name, for a
    model grown with named layers (see ``init_weights``). Returns the names of ``dst``'s
    weighted layers that got nothing."""
    src_layers = {lay.name: lay for lay in src.layers if lay.weights}
    dst_layers = {lay.name: lay for lay in dst.layers if lay.weights}
    if len(src_layers) == len(dst_layers):
        try:
            dst.set_weights(src.get_weights())
        except ValueError as exc:
            raise ValueError(f"--init-from {label}: weights do not fit: {exc}") from exc
        return []
    missing = [n for n in src_layers if n not in dst_layers]
    if missing:
        raise ValueError(f"--init-from {label}: weights do not fit: no layer {missing} here")
    for lname, layer in src_layers.items():
        try:
            dst_layers[lname].set_weights(layer.get_weights())
        except ValueError as exc:
            raise ValueError(f"--init-from {label}: weights do not fit ({lname}): {exc}") from exc
    return [n for n in dst_layers if n not in src_layers]


def init_weights(model: Any, name: str, spec: InputSpec, cfg: RunConfig) -> dict[str, Any]:
    """Copy the weights of ``--init-from`` (verified like serving does) into ``model``.

    The source must be a model of the same architecture, input size and policy, with the
    same layers (every weight copied in order; Keras checks each shape) or a subset of
    them by name: layers ``model`` has and the source lacks (e.g. patchnet's
    ``--patchnet-coarse`` branch) keep their own initialisation (listed in the returned
    record). A
    source layer with no place in ``model`` is a ValueError (``aidetect train`` reports
    it as a usage error); returns what the metadata records.
    """
    from aidetect.registry import LoadedModel, registry_for
    from aidetect.settings import get_settings

    assert cfg.init_from is not None
    registry, source = registry_for(str(cfg.init_from), get_settings().models_dir)
    loaded = registry.load(source or "")
    meta = loaded.metadata
    if not isinstance(loaded, LoadedModel) or meta.format != "keras":
        raise ValueError(f"--init-from {cfg.init_from}: not a Keras model")
    if meta.architecture != name:
        raise ValueError(f"--init-from {cfg.init_from} is a {meta.architecture} model, not {name}")
    src = meta.input
    if src is None or (src.policy, src.size) != (spec.policy, spec.size):
        raise ValueError(
            f"--init-from {cfg.init_from}: its input ({src.policy if src else '?'} "
            f"{src.size if src else '?'}px) differs from this run's ({spec.policy} {spec.size}px)"
        )
    new_layers = copy_weights(loaded.estimator, model, str(cfg.init_from))
    if cfg.freeze_init:
        if not new_layers:
            raise ValueError(
                f"--freeze-init: every layer comes from {cfg.init_from}, nothing would train"
            )
        for layer in model.layers:
            if layer.weights and layer.name not in new_layers:
                layer.trainable = False
    log(cfg, f"starting from the weights of {meta.name} {meta.version} ({meta.sha256})")
    # the source's own command (and its source, if it had one): the chain that rebuilds it
    source: dict[str, Any] = {"name": meta.name, "version": meta.version, "sha256": meta.sha256}
    if new_layers:
        source["new_layers"] = new_layers
        source["frozen"] = cfg.freeze_init
        log(cfg, f"layers not in {meta.name}, trained from their initialisation: {new_layers}")
    if meta.command:
        source["command"] = meta.command
    training = getattr(meta, "training", None)  # an extra field of the metadata
    chain = training.get("init_from") if isinstance(training, dict) else None
    if chain:
        source["init_from"] = chain
    return source


def train_keras(
    name: str,
    build: Builder,
    cfg: RunConfig,
    splits: Splits,
    *,
    input_spec: SpecFn = raw_pixels,
    loaders: LoadersFn = datasets,
) -> Trained:
    """Build, then fit each phase."""
    spec = input_spec(cfg)
    setup(cfg)
    try:
        plan = build(cfg, splits, spec)
        model = plan.model
        if cfg.init_from is not None:
            plan.details["init_from"] = init_weights(model, name, spec, cfg)
        train_ds, val_ds = loaders(cfg, splits, spec)
        prepare_checkpoints(cfg)
        log(cfg, f"training {model.name}: {model.count_params():,} parameters, {device()}")
        started = time.perf_counter()
        history: dict[str, Any] = {}
        rows = 0
        for phase in plan.phases:
            if phase.epochs <= 0:
                continue
            if phase.before is not None and (line := phase.before()):
                log(cfg, line)
            compile_model(model, cfg, phase.learning_rate)
            history[phase.name] = fit(model, train_ds, val_ds, cfg, phase)
            rows += len(splits.train) * phase.epochs
        seconds = time.perf_counter() - started
    finally:
        teardown()
    rates = {p.name: p.learning_rate for p in plan.phases}
    return Trained(
        architecture=name,
        description=plan.description,
        keras_model=model,
        input_spec=spec,
        details={
            **plan.details,
            "epochs": cfg.epochs,
            "batch_size": cfg.batch_size,
            "learning_rate": next(iter(rates.values())) if len(rates) == 1 else rates,
            "mixed_precision": cfg.mixed_precision,
            "device": device(),
            # one phase: its history; several: keyed by phase
            "history": history.get(plan.phases[0].name, {}) if len(plan.phases) == 1 else history,
        },
        train_seconds=seconds,
        train_images=rows,
    )


def keras_architecture(
    name: str,
    build: Builder,
    *,
    help: str,
    options: type | None = None,
    default_size: int = 32,
    min_size: int = 1,
    default_policy: str = "resize",
    input_spec: SpecFn = raw_pixels,
    loaders: LoadersFn = datasets,
) -> Architecture:
    """A table row for a Keras architecture from its builder (and its options).

    ``input_spec`` and ``loaders`` replace the defaults when an architecture needs its own
    input (e.g. another scale) or data pipeline (e.g. its own augmentation strength).
    """

    def train(cfg: RunConfig, splits: Splits) -> Trained:
        return train_keras(name, build, cfg, splits, input_spec=input_spec, loaders=loaders)

    extra = {"options": options} if options is not None else {}
    return Architecture(
        name=name,
        help=help,
        train=train,
        default_size=default_size,
        min_size=min_size,
        default_policy=default_policy,
        **extra,
    )
