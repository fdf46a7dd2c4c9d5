"""``patchnet``: a small CNN that scores native-resolution patches on a fixed residual
front end; the image score pools the patch logits.

Why this shape (research in docs/evaluation.md and the design notes): generators leave
their traces in the relations of neighbouring pixels (up-sampling, decoder
convolutions), which resizing destroys and content hides. So the network

1. never resizes: it sees ``size x size`` windows cut at native resolution
   (``--policy crops``; serving cuts up to ``--max-crops`` windows on an even grid and
   averages their logits, and the per-window scores are the heatmap);
2. starts from fixed, non-trainable residuals rather than pixels: the neighbouring-pixel
   residual of NPR (CVPR 2024: the image minus its nearest-neighbour 2x down-and-up
   copy, which is zero wherever a 2x up-sampler copied pixels) and three second-order
   high-pass filters per channel (Laplacian, horizontal, vertical), so content and
   colour are mostly gone before anything is learned;
3. stays small (about 0.2M parameters) with a small receptive field at full
   resolution before striding (in the spirit of LaDeDa), so it trains on this 2-core CPU
   in minutes and cannot memorise content.

Input: raw 0..255 pixels (``scale raw``); the scaling is inside the model.
"""

from __future__ import annotations

import time

import numpy as np

from training.common import (
    Splits,
    TrainConfig,
    Trained,
    compile_kwargs,
    fit_keras,
    keras_device,
    keras_setup,
    keras_teardown,
    log,
    prepare_checkpoints,
)

WIDTHS = ((24, 1), (32, 2), (48, 1), (64, 2), (96, 1), (128, 2))  # (filters, stride)


def _highpass_kernels() -> np.ndarray:
    """(3, 3, 3 channels, 3 filters) depthwise kernels: Laplacian, d2/dx2, d2/dy2."""
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32) / 4.0
    dxx = np.array([[0, 0, 0], [1, -2, 1], [0, 0, 0]], np.float32) / 2.0
    dyy = dxx.T.copy()
    k = np.stack([lap, dxx, dyy], axis=-1)  # (3, 3, 3 filters)
    return np.repeat(k[:, :, None, :], 3, axis=2)  # same filters for each channel


def build_patchnet(size: int | None = None, widths=WIDTHS):
    """The network; ``size`` None builds it fully convolutional (any patch size)."""
    import keras
    from keras import layers

    from aidetect.layers import NeighbourResidual

    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(1.0 / 255.0, name="unit")(inputs)
    residual = NeighbourResidual(name="npr_residual")(x)
    hp = layers.DepthwiseConv2D(
        3, padding="same", depth_multiplier=3, use_bias=False, trainable=False, name="highpass"
    )
    high = hp(x)
    hp.set_weights([_highpass_kernels()])
    y = layers.Concatenate(name="residuals")([residual, high])
    # residuals are a few grey levels: normalise their scale before learning
    y = layers.BatchNormalization(name="residual_norm")(y)
    for i, (filters, stride) in enumerate(widths):
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"c{i}")(
            y
        )
        y = layers.BatchNormalization(name=f"bn{i}")(y)
        y = layers.Activation("relu", name=f"relu{i}")(y)
    y = layers.GlobalAveragePooling2D(name="pool")(y)
    y = layers.Dropout(0.2, name="dropout")(y)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="ai_probability")(y)
    return keras.Model(inputs, outputs, name="patchnet")


def train(cfg: TrainConfig, splits: Splits) -> Trained:
    import keras

    from training.data import ImageDataset, class_weights

    if cfg.policy != "crops":
        raise ValueError("patchnet scores native-resolution patches: use --policy crops")
    spec = cfg.spec("raw")
    keras_setup(cfg)
    try:
        model = build_patchnet(spec.size)
        lr = cfg.learning_rate or 2e-3
        steps = max(1, -(-len(splits.train) // cfg.batch_size)) * cfg.epochs
        schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps, alpha=0.05)
        model.compile(
            optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4), **compile_kwargs(cfg)
        )
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
        prepare_checkpoints(cfg)
        log(cfg, f"training {model.name}: {model.count_params():,} parameters, {keras_device()}")
        started = time.perf_counter()
        history = fit_keras(model, train_ds, val_ds, cfg.epochs, cfg, "train")
        seconds = time.perf_counter() - started
    finally:
        keras_teardown()
    patches = len(splits.train) * cfg.patches_per_image * cfg.epochs
    return Trained(
        architecture="patchnet",
        description=(
            f"patchnet: a {model.count_params():,}-parameter CNN on fixed neighbouring-pixel "
            f"and high-pass residuals, scoring {spec.size}x{spec.size} native-resolution "
            f"patches (up to {spec.crops.max_crops} per image, logits averaged); trained on "
            f"{len(splits.train):,} crops of {cfg.data.name}."
        ),
        keras_model=model,
        input_spec=spec,
        details={
            "epochs": cfg.epochs,
            "batch_size": cfg.batch_size,
            "patches_per_image": cfg.patches_per_image,
            "paired_augmentation": cfg.paired,
            "learning_rate": lr,
            "schedule": "AdamW, cosine decay to 5 %, weight decay 1e-4",
            "parameters": model.count_params(),
            "patches_per_second": round(patches / seconds, 1) if seconds else None,
            "mixed_precision": cfg.mixed_precision,
            "device": keras_device(),
            "history": history,
        },
        train_seconds=seconds,
        train_images=len(splits.train) * cfg.epochs,
    )
