"""``patchnet``: a small CNN that scores native-resolution patches on a fixed residual
front end; the image score pools the patch logits.

Why this shape (docs/evaluation.md, the design notes): generators leave their traces in
the relations of neighbouring pixels (up-sampling, decoder convolutions), which resizing
destroys and content hides. So the network

1. never resizes: it sees ``size x size`` windows cut at native resolution (``crops``
   policy; serving cuts up to ``--max-crops`` windows on an even grid and averages their
   logits, and the per-window scores are the heatmap);
2. starts from fixed, non-trainable residuals rather than pixels: the neighbouring-pixel
   residual of NPR (CVPR 2024: the image minus its nearest-neighbour 2x down-and-up
   copy, zero wherever a 2x up-sampler copied pixels) and three second-order high-pass
   filters per channel (Laplacian, horizontal, vertical), amplified by a fixed gain, so
   content and colour are mostly gone before anything is learned;
3. stays small (about 0.2M parameters, plain convolutions with biases) with a small
   receptive field at full resolution before striding (in the spirit of LaDeDa), so it
   trains on this 2-core CPU in minutes and cannot memorise content.

No batch normalisation: with aligned pairs side by side in a batch, batch statistics let a
network compare the two members instead of judging each patch on its own (measured here:
training AUC 0.98, held-out pairs 0.54-0.59 with it; 0.86 without it, same data).

Input: raw 0..255 pixels (``scale raw``); the scaling is inside the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aidetect_training.keras_fit import Phase, Plan, keras_architecture
from aidetect_training.options import option


@dataclass
class PatchnetOptions:
    patchnet_gain: float = option(
        20.0, help="patchnet: fixed gain on the residuals (pixels scaled to 0..gain)"
    )
    patchnet_width: int = option(
        24, help="patchnet: filters of the first convolution (later ones scale with it)"
    )


#: (filters as a multiple of the width / 24, stride) per convolution
LAYERS = ((24, 1), (32, 2), (48, 1), (64, 2), (96, 1), (128, 2))


def highpass_kernels() -> np.ndarray:
    """(3, 3, 3 channels, 3 filters) depthwise kernels: Laplacian, d2/dx2, d2/dy2."""
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32) / 4.0
    dxx = np.array([[0, 0, 0], [1, -2, 1], [0, 0, 0]], np.float32) / 2.0
    dyy = dxx.T.copy()
    k = np.stack([lap, dxx, dyy], axis=-1)
    return np.repeat(k[:, :, None, :], 3, axis=2)


def build_patchnet(size: int | None = None, gain: float = 20.0, width: int = 24):
    """The network; ``size`` None builds it fully convolutional (any patch size)."""
    import keras
    from keras import layers

    from aidetect.layers import NeighbourResidual

    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(gain / 255.0, name="scale")(inputs)
    residual = NeighbourResidual(name="npr_residual")(x)
    hp = layers.DepthwiseConv2D(
        3, padding="same", depth_multiplier=3, use_bias=False, trainable=False, name="highpass"
    )
    high = hp(x)
    hp.set_weights([highpass_kernels()])
    y = layers.Concatenate(name="residuals")([residual, high])
    for i, (filters, stride) in enumerate(LAYERS):
        y = layers.Conv2D(
            max(4, round(filters * width / 24)),
            3,
            strides=stride,
            padding="same",
            activation="relu",
            name=f"conv{i}",
        )(y)
    y = layers.GlobalAveragePooling2D(name="pool")(y)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="ai_probability")(y)
    return keras.Model(inputs, outputs, name="patchnet")


def build(cfg, splits, spec) -> Plan:
    if spec.policy != "crops":
        raise ValueError("patchnet scores native-resolution patches: use --policy crops")
    opts: PatchnetOptions = cfg.arch_options
    model = build_patchnet(spec.size, opts.patchnet_gain, opts.patchnet_width)
    return Plan(
        model=model,
        phases=[Phase("train", cfg.epochs, cfg.learning_rate or 1e-3)],
        description=(
            f"patchnet: a {model.count_params():,}-parameter CNN on fixed neighbouring-pixel "
            f"and high-pass residuals, scoring {spec.size}x{spec.size} native-resolution "
            f"patches (up to {spec.crops.max_crops} per image, logits averaged); trained on "
            f"{len(splits.train):,} images of {cfg.data.name}, "
            f"{cfg.patches_per_image} patches each per epoch."
        ),
        details={
            "parameters": model.count_params(),
            "gain": opts.patchnet_gain,
            "width": opts.patchnet_width,
            "patches_per_image": cfg.patches_per_image,
            "paired_augmentation": cfg.paired,
        },
    )


ARCHITECTURE = keras_architecture(
    "patchnet",
    build,
    help="small CNN on fixed residuals scoring native-resolution patches (pooled logits)",
    options=PatchnetOptions,
    default_size=64,
    min_size=16,
    default_policy="crops",
)
