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

import time

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


def train(cfg: TrainConfig, splits: Splits) -> Trained:
    import keras

    spec = cfg.spec("raw")
    keras_setup(cfg)
    try:
        size = spec.size
        model = build_improved_cnn(size) if cfg.cnn_variant == "improved" else build_seed_cnn(size)
        lr = cfg.learning_rate or 1e-3
        model.compile(optimizer=keras.optimizers.Adam(lr), **compile_kwargs(cfg))
        train_ds, val_ds = keras_datasets(cfg, splits, spec)
        prepare_checkpoints(cfg)
        log(cfg, f"training {model.name}: {model.count_params():,} parameters, {keras_device()}")
        started = time.perf_counter()
        history = fit_keras(model, train_ds, val_ds, cfg.epochs, cfg, "train")
        seconds = time.perf_counter() - started
    finally:
        keras_teardown()
    return Trained(
        architecture="cnn",
        description=(
            f"{'Seed' if cfg.cnn_variant == 'seed' else 'Improved'} CNN "
            f"({model.count_params():,} parameters) trained on {len(splits.train):,} images "
            f"of {cfg.data.name} at {size}x{size} ({spec.policy} policy)."
        ),
        keras_model=model,
        input_spec=spec,
        details={
            "variant": cfg.cnn_variant,
            "epochs": cfg.epochs,
            "batch_size": cfg.batch_size,
            "learning_rate": lr,
            "mixed_precision": cfg.mixed_precision,
            "device": keras_device(),
            "history": history,
        },
        train_seconds=seconds,
        train_images=len(splits.train) * cfg.epochs,
    )
