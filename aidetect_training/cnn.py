"""The small convolutional network of the seed project (and an improved variant).

``seed`` (the default): three blocks of 3x3 convolution + 2x2 max pooling with
32, 64 and 128 filters, a 256-unit dense layer, dropout 0.5 and a sigmoid: the
CIFAKE paper's kind of network (the seed reached 92.9 % on CIFAKE at 32x32).
``improved`` (``--cnn-variant improved``): two convolutions per block with batch
normalisation, global average pooling instead of flattening (so parameters do
not grow with the input size: the same network at 32 and at 200 pixels), and
a smaller dropout.

Both take raw 0..255 pixels; ``Rescaling(1/255)`` is the model's first layer, so
nobody can feed it differently scaled pixels by mistake. The output layer stays
float32 under mixed precision (a bfloat16 sigmoid loses the probability's tail).
"""

from __future__ import annotations

from dataclasses import dataclass

from aidetect.preprocess import InputSpec
from aidetect_training.config import RunConfig, Splits
from aidetect_training.keras_fit import Phase, Plan, keras_architecture
from aidetect_training.options import option


@dataclass
class CnnOptions:
    cnn_variant: str = option("seed", choices=("seed", "improved"), help="the network")


def build_seed_cnn(size: int):
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="ai_probability")(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def build_improved_cnn(size: int):
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (32, 64, 128):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="ai_probability")(x)
    return keras.Model(inputs, outputs, name="improved_cnn")


def build(cfg: RunConfig, splits: Splits, spec: InputSpec) -> Plan:
    opts: CnnOptions = cfg.arch_options
    variant = opts.cnn_variant
    model = build_improved_cnn(spec.size) if variant == "improved" else build_seed_cnn(spec.size)
    return Plan(
        model=model,
        phases=[Phase("train", cfg.epochs, cfg.learning_rate or 1e-3)],
        description=(
            f"{'Seed' if variant == 'seed' else 'Improved'} CNN "
            f"({model.count_params():,} parameters) trained on {len(splits.train):,} images "
            f"of {cfg.data.name} at {spec.size}x{spec.size} ({spec.policy} policy)."
        ),
        details={"variant": variant},
    )


ARCHITECTURE = keras_architecture(
    "cnn", build, help="the seed's small CNN, or an improved one", options=CnnOptions
)
