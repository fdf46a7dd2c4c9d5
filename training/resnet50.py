"""ResNet50 transfer learning (the seed's ArtiFact model, done as Keras recommends).

- ``keras.applications.ResNet50(include_top=False)`` with ImageNet weights by
  default (``--weights imagenet``: downloaded by Keras once, into ``~/.keras``),
  ``--weights none`` (random initialisation: tests, or no network) or
  ``--weights PATH`` (a ``resnet50 ... notop`` weights file copied by hand).
- ``aidetect.layers.ResNetPreprocess`` inside the model: inputs are raw 0..255
  RGB and the model does ResNet's own BGR/mean-subtraction. The seed fed 1/255
  pixels to a network that expects this, one reason it reached only ~65 %.
- Phase 1 trains the new head (global average pooling, dropout, sigmoid) with the
  base frozen. Phase 2 (``--unfreeze N``; the seed's final model used 5) makes the
  last N layers of the base trainable and fine-tunes at a low rate (1e-5), so the
  pretrained features are adjusted, not destroyed.
"""

from __future__ import annotations

import time
from pathlib import Path

from aidetect.errors import AIDetectError
from training.common import (
    Splits,
    TrainConfig,
    Trained,
    compile_kwargs,
    fit_keras,
    keras_datasets,
    keras_device,
    keras_setup,
    keras_teardown,
    log,
    prepare_checkpoints,
)

HEAD_LR = 1e-3
FINE_TUNE_LR = 1e-5


def resolve_weights(weights: str) -> str | None:
    if weights in ("none", "None", ""):
        return None
    if weights == "imagenet":
        return "imagenet"
    path = Path(weights)
    if not path.is_file():
        raise AIDetectError(f"--weights {weights}: not 'imagenet', 'none' or a weights file")
    return str(path)


def build(size: int, weights: str | None, dropout: float = 0.2):
    """(model, base): raw pixels -> ResNetPreprocess -> ResNet50 (inference-mode BN) -> P(AI)."""
    import keras
    from keras import layers

    from aidetect.layers import ResNetPreprocess

    try:
        base = keras.applications.ResNet50(
            include_top=False, weights=weights, input_shape=(size, size, 3)
        )
    except Exception as exc:  # no network, a wrong file: say what to do
        raise AIDetectError(
            f"cannot load ResNet50 weights {weights!r}: {exc}. Without network access use "
            "--weights none (random init) or --weights PATH/resnet50_..._notop.h5"
        ) from exc
    base.trainable = False
    inputs = keras.Input((size, size, 3), name="pixels")
    x = ResNetPreprocess(name="resnet_preprocess")(inputs)
    # training=False keeps every BatchNormalization layer in inference mode, also
    # after layers are unfrozen for fine-tuning: their moving mean and variance,
    # learned on ImageNet, are not overwritten by the statistics of small, very
    # different batches (which wrecks what the base learned); only gamma/beta and
    # the other unfrozen weights move. See keras-io's transfer-learning guide.
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="ai_probability")(x)
    return keras.Model(inputs, outputs, name="resnet50_detector"), base


def unfreeze_last(base, n: int) -> int:
    """Make the last ``n`` layers of the base trainable; returns how many have weights."""
    base.trainable = True
    for layer in base.layers[:-n] if n < len(base.layers) else []:
        layer.trainable = False
    return sum(1 for layer in base.layers[-n:] if layer.weights)


def train(cfg: TrainConfig, splits: Splits) -> Trained:
    import keras

    spec = cfg.spec("raw")
    weights = resolve_weights(cfg.weights)
    keras_setup(cfg)
    try:
        model, base = build(spec.size, weights)
        train_ds, val_ds = keras_datasets(cfg, splits, spec)
        prepare_checkpoints(cfg)
        log(cfg, f"ResNet50 ({model.count_params():,} parameters), {keras_device()}")
        started = time.perf_counter()
        # phase 1: the head alone
        head_lr = cfg.learning_rate or HEAD_LR
        model.compile(optimizer=keras.optimizers.Adam(head_lr), **compile_kwargs(cfg))
        history = {"head": fit_keras(model, train_ds, val_ds, cfg.epochs, cfg, "head")}
        rows = len(splits.train) * cfg.epochs
        # phase 2: fine-tune the last N layers at a low rate (recompile: trainability changed)
        ft_epochs = cfg.fine_tune_epochs if cfg.fine_tune_epochs is not None else cfg.epochs
        if cfg.unfreeze > 0 and ft_epochs > 0:
            n = unfreeze_last(base, cfg.unfreeze)
            log(cfg, f"fine-tuning the last {cfg.unfreeze} layers ({n} with weights)")
            model.compile(optimizer=keras.optimizers.Adam(FINE_TUNE_LR), **compile_kwargs(cfg))
            history["fine_tune"] = fit_keras(model, train_ds, val_ds, ft_epochs, cfg, "finetune")
            rows += len(splits.train) * ft_epochs
        seconds = time.perf_counter() - started
    finally:
        keras_teardown()
    return Trained(
        architecture="resnet50",
        description=(
            f"ResNet50 ({cfg.weights} weights, last {cfg.unfreeze} layers fine-tuned) with a "
            f"sigmoid head, trained on {len(splits.train):,} images of {cfg.data.name} at "
            f"{spec.size}x{spec.size} ({spec.policy} policy)."
        ),
        keras_model=model,
        input_spec=spec,
        details={
            "weights": cfg.weights,
            "unfreeze": cfg.unfreeze,
            "epochs": cfg.epochs,
            "fine_tune_epochs": ft_epochs if cfg.unfreeze > 0 else 0,
            "batch_size": cfg.batch_size,
            "learning_rate": {"head": head_lr, "fine_tune": FINE_TUNE_LR},
            "mixed_precision": cfg.mixed_precision,
            "device": keras_device(),
            "history": history,
        },
        train_seconds=seconds,
        train_images=rows,
    )
