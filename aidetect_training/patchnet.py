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
    patchnet_coarse: int = option(
        0,
        choices=(0, 2, 4),
        help="patchnet: add a branch that sees the same residuals of the patch average-"
        "pooled by this factor (2 or 4; 0: none), i.e. coarser frequencies, which JPEG "
        "quantises less; its pooled features are added to the main path's through a "
        "zero-initialised projection, so a model grown from a plain patchnet "
        "(--init-from) starts out identical to it",
    )


#: (filters as a multiple of the width / 24, stride) per convolution
LAYERS = ((24, 1), (32, 2), (48, 1), (64, 2), (96, 1), (128, 2))
#: the coarse branch's convolutions (same convention)
COARSE_LAYERS = ((24, 1), (48, 2), (96, 2))


def highpass_kernels() -> np.ndarray:
    """(3, 3, 3 channels, 3 filters) depthwise kernels: Laplacian, d2/dx2, d2/dy2."""
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32) / 4.0
    dxx = np.array([[0, 0, 0], [1, -2, 1], [0, 0, 0]], np.float32) / 2.0
    dyy = dxx.T.copy()
    k = np.stack([lap, dxx, dyy], axis=-1)
    return np.repeat(k[:, :, None, :], 3, axis=2)


def _residuals(x, prefix: str = ""):
    """The fixed front end: NPR residual and the three high-pass filters per channel."""
    from keras import layers

    from aidetect.layers import NeighbourResidual

    residual = NeighbourResidual(name=f"{prefix}npr_residual")(x)
    hp = layers.DepthwiseConv2D(
        3,
        padding="same",
        depth_multiplier=3,
        use_bias=False,
        trainable=False,
        name=f"{prefix}highpass",
    )
    high = hp(x)
    hp.set_weights([highpass_kernels()])
    return layers.Concatenate(name=f"{prefix}residuals")([residual, high])


def _convs(y, spec, width: int, prefix: str = ""):
    from keras import layers

    for i, (filters, stride) in enumerate(spec):
        y = layers.Conv2D(
            max(4, round(filters * width / 24)),
            3,
            strides=stride,
            padding="same",
            activation="relu",
            name=f"{prefix}conv{i}",
        )(y)
    return y


def build_patchnet(size: int | None = None, gain: float = 20.0, width: int = 24, coarse: int = 0):
    """The network; ``size`` None builds it fully convolutional (any patch size).

    ``coarse`` > 0 adds a branch on the patch average-pooled by that factor (the same
    fixed residuals, three convolutions), whose pooled features pass through a
    zero-initialised ``coarse_proj`` and are added to the main path's before the output
    layer; every main-path layer keeps its name and shape, so a plain patchnet's weights
    load into it (``aidetect_training.keras_fit``'s ``--init-from``)."""
    import keras
    from keras import layers

    if coarse not in (0, 2, 4):
        raise ValueError("--patchnet-coarse is 0 (no branch), 2 or 4")
    if coarse and size is not None and size % (4 * coarse):
        raise ValueError(f"--patchnet-coarse {coarse} needs a patch size divisible by {4 * coarse}")
    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(gain / 255.0, name="scale")(inputs)
    y = _convs(_residuals(x), LAYERS, width)
    y = layers.GlobalAveragePooling2D(name="pool")(y)
    if coarse:
        small = layers.AveragePooling2D(coarse, name="coarse_downscale")(x)
        c = _convs(_residuals(small, "coarse_"), COARSE_LAYERS, width, "coarse_")
        c = layers.GlobalAveragePooling2D(name="coarse_pool")(c)
        c = layers.Dense(
            y.shape[-1], kernel_initializer="zeros", bias_initializer="zeros", name="coarse_proj"
        )(c)
        y = layers.Add(name="pooled")([y, c])
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="ai_probability")(y)
    return keras.Model(inputs, outputs, name="patchnet")


def build(cfg, splits, spec) -> Plan:
    if spec.policy != "crops":
        raise ValueError("patchnet scores native-resolution patches: use --policy crops")
    opts: PatchnetOptions = cfg.arch_options
    model = build_patchnet(spec.size, opts.patchnet_gain, opts.patchnet_width, opts.patchnet_coarse)
    return Plan(
        model=model,
        phases=[Phase("train", cfg.epochs, cfg.learning_rate or 1e-3)],
        description=(
            f"patchnet: a {model.count_params():,}-parameter CNN on fixed neighbouring-pixel "
            f"and high-pass residuals"
            + (
                f" (and the same residuals of the patch pooled {opts.patchnet_coarse}x)"
                if opts.patchnet_coarse
                else ""
            )
            + f", scoring {spec.size}x{spec.size} native-resolution "
            f"patches (up to {spec.crops.max_crops} per image, logits averaged); trained on "
            f"{len(splits.train):,} images of {cfg.data.name}, "
            f"{cfg.patches_per_image} patches each per epoch."
        ),
        details={
            "parameters": model.count_params(),
            "gain": opts.patchnet_gain,
            "width": opts.patchnet_width,
            "coarse": opts.patchnet_coarse,
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
