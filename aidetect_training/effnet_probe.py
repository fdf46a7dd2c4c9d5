"""``effnet-probe``: a small trainable head on frozen EfficientNet-Lite0 features (issue #14).

Frozen ImageNet features as a probe for generator traces: the network is
``aidetect_training.efficientnet_lite`` (the Lite0 ImageNet weights, package extra
``aidetect[effnet]``) cut after stage ``--effnet-stage`` (1-7; early stages keep
low-level, high-resolution traces, late ones are mostly content), frozen; on top a 1x1
convolution (``--effnet-width`` filters, ReLU), global average pooling and a sigmoid.
Only the head trains.

Like ``patchnet`` it never resizes a picture: it sees ``--image-size`` windows cut at
native resolution (``crops`` policy), and the image score is the mean of up to
``--max-crops`` window logits. The saved ``.keras`` file uses standard Keras layers only
(the batch norms are folded into the convolutions), so serving needs neither the weights
package nor this module.

``--effnet-weights none`` builds the same network with random frozen weights (tests, or
without the package); the model card says which.
"""

from __future__ import annotations

from dataclasses import dataclass

from aidetect.errors import AIDetectError
from aidetect_training.keras_fit import Phase, Plan, keras_architecture
from aidetect_training.options import option


@dataclass
class EffnetProbeOptions:
    effnet_stage: int = option(
        3, help="effnet-probe: keep EfficientNet-Lite0's stem and stages 1..N (1-7) as features"
    )
    effnet_width: int = option(64, help="effnet-probe: filters of the head's 1x1 convolution")
    effnet_weights: str = option(
        "imagenet",
        choices=("imagenet", "none"),
        help="effnet-probe: imagenet (the aidetect[effnet] package) or none (random, frozen)",
    )


def build_probe(size: int | None, stage: int, width: int, state: dict):
    import keras
    from keras import layers

    from aidetect_training import efficientnet_lite

    features = efficientnet_lite.build(state, stages=stage, size=size, name="effnet_features")
    features.trainable = False
    inputs = keras.Input((size, size, 3), name="pixels")
    x = features(inputs)
    x = layers.Conv2D(width, 1, activation="relu", name="head_conv")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="ai_probability")(x)
    return keras.Model(inputs, outputs, name="effnet_probe")


def build(cfg, splits, spec) -> Plan:
    from aidetect_training import efficientnet_lite

    if spec.policy != "crops":
        raise ValueError("effnet-probe scores native-resolution windows: use --policy crops")
    opts: EffnetProbeOptions = cfg.arch_options
    if not 1 <= opts.effnet_stage <= len(efficientnet_lite.STAGE_STRIDES):
        raise AIDetectError("--effnet-stage must be between 1 and 7")
    if opts.effnet_weights == "imagenet":
        try:
            state = efficientnet_lite.load_state_dict()
        except efficientnet_lite.MissingWeights as exc:
            raise AIDetectError(f"{exc}; or train with --effnet-weights none") from exc
    else:
        state = efficientnet_lite.random_state(cfg.seed)
    model = build_probe(spec.size, opts.effnet_stage, opts.effnet_width, state)
    frozen = model.get_layer("effnet_features").count_params()
    trainable = model.count_params() - frozen
    return Plan(
        model=model,
        phases=[Phase("train", cfg.epochs, cfg.learning_rate or 1e-3)],
        description=(
            f"effnet-probe: frozen EfficientNet-Lite0 stem and stages 1-{opts.effnet_stage} "
            f"({opts.effnet_weights} weights, {frozen:,} parameters) and a "
            f"{trainable:,}-parameter head (1x1 conv, average pooling, sigmoid), scoring "
            f"{spec.size}x{spec.size} native-resolution windows (up to "
            f"{spec.crops.max_crops} per image, logits averaged); trained on "
            f"{len(splits.train):,} images of {cfg.data.name}, "
            f"{cfg.patches_per_image} windows each per epoch."
        ),
        details={
            "stage": opts.effnet_stage,
            "width": opts.effnet_width,
            "weights": opts.effnet_weights,
            "weights_source": (
                f"{efficientnet_lite.PACKAGE}=={efficientnet_lite.PIN}, {efficientnet_lite.LICENCE}"
                if opts.effnet_weights == "imagenet"
                else "random (--effnet-weights none)"
            ),
            "frozen_parameters": frozen,
            "trainable_parameters": trainable,
            "patches_per_image": cfg.patches_per_image,
            "paired_augmentation": cfg.paired,
        },
    )


ARCHITECTURE = keras_architecture(
    "effnet-probe",
    build,
    help="trainable head on frozen EfficientNet-Lite0 features of native-resolution windows",
    options=EffnetProbeOptions,
    default_size=128,
    min_size=32,
    default_policy="crops",
)
