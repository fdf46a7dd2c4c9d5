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

from dataclasses import dataclass
from pathlib import Path

from aidetect.errors import AIDetectError
from aidetect.preprocess import InputSpec
from aidetect_training.config import RunConfig, Splits
from aidetect_training.keras_fit import Phase, Plan, keras_architecture
from aidetect_training.options import option

HEAD_LR = 1e-3
FINE_TUNE_LR = 1e-5


@dataclass
class ResNetOptions:
    weights: str = option(
        "imagenet", help="resnet50: imagenet (downloaded), none, or a weights file path"
    )
    unfreeze: int = option(0, help="resnet50: fine-tune the last N base layers (the seed used 5)")
    fine_tune_epochs: int | None = option(None, help="resnet50 phase 2 (default: --epochs)")


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


def plan(cfg: RunConfig, splits: Splits, spec: InputSpec) -> Plan:
    opts: ResNetOptions = cfg.arch_options
    model, base = build(spec.size, resolve_weights(opts.weights))
    ft_epochs = opts.fine_tune_epochs if opts.fine_tune_epochs is not None else cfg.epochs
    ft_epochs = ft_epochs if opts.unfreeze > 0 else 0

    def unfreeze() -> str:
        n = unfreeze_last(base, opts.unfreeze)
        return f"fine-tuning the last {opts.unfreeze} layers ({n} with weights)"

    return Plan(
        model=model,
        phases=[
            # phase 1: the head alone
            Phase("head", cfg.epochs, cfg.learning_rate or HEAD_LR),
            # phase 2: the last N layers at a low rate (recompiled: trainability changed)
            Phase("fine_tune", ft_epochs, FINE_TUNE_LR, checkpoint="finetune", before=unfreeze),
        ],
        description=(
            f"ResNet50 ({opts.weights} weights, last {opts.unfreeze} layers fine-tuned) with a "
            f"sigmoid head, trained on {len(splits.train):,} images of {cfg.data.name} at "
            f"{spec.size}x{spec.size} ({spec.policy} policy)."
        ),
        details={
            "weights": opts.weights,
            "unfreeze": opts.unfreeze,
            "fine_tune_epochs": ft_epochs,
        },
    )


ARCHITECTURE = keras_architecture(
    "resnet50",
    plan,
    help="ResNet50 transfer learning (ImageNet weights, optional fine-tuning)",
    options=ResNetOptions,
    default_size=200,
    min_size=32,
)
