"""The UpscalerJS ESRGAN super-resolution networks, rebuilt in Keras 3 from their TF.js files.

The npm packages ``@upscalerjs/esrgan-slim``, ``esrgan-medium``, ``esrgan-thick`` and
``default-model`` (all 1.0.0, MIT) ship TensorFlow.js *layers* models:
``models/x{2,3,4,8}/model.json`` (a Keras functional topology) plus weight shards
(little-endian float32, concatenated in ``weightsManifest`` order). ``default-model``
is byte-identical to ``esrgan-slim`` x2.

Layers used: InputLayer, Conv2D, Activation(relu), Concatenate, Add, UpSampling2D (RDN),
and two custom layers of UpscalerJS (RRDN): ``MultiplyBeta`` (multiply by 0.2) and
``PixelShuffle{s}x`` (``tf.depthToSpace(x, s, 'NHWC')``).

Value range, from UpscalerJS's ``packages/shared/src/esrgan/esrgan.js``: the RDN models
(slim, medium, default) take and return 0..255, the RRDN model (thick) 0..1.

``idealo-gans`` is ``models/idealo/gans`` of ``@upscalerjs/models@0.9.0`` (MIT): idealo's
own pretrained GAN RRDN x4 from ``image-super-resolution`` (a different network from
``esrgan-thick``: narrower dense blocks, other weights), converted with uint8-quantized
weights. It takes and returns 0..1, as idealo's code does (``lr / 255``): fed 0..255 its
output spans -132..347 on a photo crop, fed 0..1 it stays within -7..272.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: model size -> npm package. All version 1.0.0, licence MIT (package.json).
NPM_PACKAGES = {
    "slim": "@upscalerjs/esrgan-slim",
    "medium": "@upscalerjs/esrgan-medium",
    "thick": "@upscalerjs/esrgan-thick",
    "default": "@upscalerjs/default-model",
    "idealo-gans": "@upscalerjs/models",
}
NPM_VERSION = "1.0.0"
#: packages at another version than NPM_VERSION
NPM_VERSIONS = {"idealo-gans": "0.9.0"}
SCALES = (2, 3, 4, 8)
#: models with a single scale
ONLY_SCALE = {"default": 2, "idealo-gans": 4}
#: Input/output value range per architecture (UpscalerJS esrgan.js: rdn 0..255, rrdn 0..1).
VALUE_RANGE = {"slim": 255.0, "medium": 255.0, "thick": 1.0, "default": 255.0, "idealo-gans": 1.0}


def npm_version(size: str) -> str:
    return NPM_VERSIONS.get(size, NPM_VERSION)


def model_json_path(package_dir: Path, size: str, scale: int) -> Path:
    if size in ONLY_SCALE and scale != ONLY_SCALE[size]:
        raise ValueError(f"{NPM_PACKAGES[size]} only has a x{ONLY_SCALE[size]} network")
    if size == "default":
        return package_dir / "models" / "model.json"
    if size == "idealo-gans":
        return package_dir / "models" / "idealo" / "gans" / "model.json"
    return package_dir / "models" / f"x{scale}" / "model.json"


def depth_to_space(x, block: int):
    """TensorFlow's DepthToSpace (NHWC): channel index = (dy * block + dx) * C_out + c."""
    from keras import ops

    shape = ops.shape(x)
    b, h, w, c = shape[0], shape[1], shape[2], x.shape[-1]
    c_out = c // (block * block)
    x = ops.reshape(x, (b, h, w, block, block, c_out))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (b, h * block, w * block, c_out))


def _custom_layers():
    import keras

    class MultiplyBeta(keras.layers.Layer):
        def __init__(self, beta: float = 0.2, **kwargs):
            super().__init__(**kwargs)
            self.beta = beta

        def call(self, x):
            return x * self.beta

    class PixelShuffle(keras.layers.Layer):
        def __init__(self, scale: int, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, x):
            return depth_to_space(x, self.scale)

        def compute_output_shape(self, input_shape):
            b, h, w, c = input_shape
            s = self.scale
            return (b, None if h is None else h * s, None if w is None else w * s, c // (s * s))

    return MultiplyBeta, PixelShuffle


def build_keras_model(model_json: dict):
    """Rebuild the functional graph of a TF.js layers model with Keras 3 layers."""
    import keras

    multiply_beta, pixel_shuffle = _custom_layers()
    config = model_json["modelTopology"]["model_config"]["config"]
    tensors: dict[str, object] = {}
    layers: dict[str, object] = {}
    for spec in config["layers"]:
        cls, cfg, name = spec["class_name"], spec["config"], spec["name"]
        if cls == "InputLayer":
            shape = tuple(cfg["batch_input_shape"][1:])
            tensors[name] = keras.Input(shape=shape, name=name)
            continue
        if cls == "Conv2D":
            if cfg.get("activation", "linear") != "linear" or cfg.get("groups", 1) != 1:
                raise ValueError(f"unsupported Conv2D config in {name}")
            layer = keras.layers.Conv2D(
                cfg["filters"],
                tuple(cfg["kernel_size"]),
                strides=tuple(cfg["strides"]),
                padding=cfg["padding"],
                dilation_rate=tuple(cfg["dilation_rate"]),
                use_bias=cfg["use_bias"],
                name=name,
            )
        elif cls == "Activation":
            layer = keras.layers.Activation(cfg["activation"], name=name)
        elif cls == "Concatenate":
            layer = keras.layers.Concatenate(axis=cfg["axis"], name=name)
        elif cls == "Add":
            layer = keras.layers.Add(name=name)
        elif cls == "UpSampling2D":
            layer = keras.layers.UpSampling2D(
                size=tuple(cfg["size"]),
                interpolation=cfg.get("interpolation", "nearest"),
                name=name,
            )
        elif cls == "MultiplyBeta":
            layer = multiply_beta(cfg.get("beta", 0.2), name=name)
        elif cls.startswith("PixelShuffle"):
            scale = int(cfg.get("scale") or cls[len("PixelShuffle") : -1])
            layer = pixel_shuffle(scale, name=name)
        else:
            raise ValueError(f"unsupported layer class {cls} ({name})")
        inbound = spec["inbound_nodes"]
        if len(inbound) != 1:
            raise ValueError(f"layer {name} is shared; not supported")
        inputs = [tensors[src[0]] for src in inbound[0]]
        tensors[name] = layer(inputs if len(inputs) > 1 else inputs[0])
        layers[name] = layer
    ins = [tensors[n[0]] for n in config["input_layers"]]
    outs = [tensors[n[0]] for n in config["output_layers"]]
    return keras.Model(
        ins[0] if len(ins) == 1 else ins, outs[0] if len(outs) == 1 else outs
    ), layers


#: TF.js affine weight quantization (tfjs-converter ``--quantize_uint8/uint16``)
QUANTIZED = {"uint8": np.dtype("u1"), "uint16": np.dtype("<u2")}


def read_weights(model_json: dict, base_dir: Path) -> dict[str, np.ndarray]:
    """The named float32 weights of a TF.js model (shards concatenated per group).

    Quantized weights (``quantization: {dtype: uint8|uint16, scale, min}``, as in
    ``@upscalerjs/models``) are restored as tfjs-core's ``decodeWeights`` does:
    ``q * scale + min``.
    """
    out: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        blob = b"".join((base_dir / p).read_bytes() for p in group["paths"])
        pos = 0
        for w in group["weights"]:
            q = w.get("quantization")
            if w.get("dtype", "float32") != "float32" or (q and q["dtype"] not in QUANTIZED):
                raise ValueError(f"unsupported weight encoding for {w['name']}")
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            if q:
                dt = QUANTIZED[q["dtype"]]
                raw = np.frombuffer(blob, dtype=dt, count=n, offset=pos)
                arr = (raw * np.float32(q["scale"]) + np.float32(q["min"])).astype(np.float32)
                pos += dt.itemsize * n
            else:
                arr = np.frombuffer(blob, dtype="<f4", count=n, offset=pos)
                pos += 4 * n
            out[w["name"]] = arr.reshape(w["shape"])
        if pos != len(blob):
            raise ValueError(f"weight shards hold {len(blob)} bytes, manifest uses {pos}")
    return out


def load_tfjs_model(model_json_file: Path):
    model_json = json.loads(Path(model_json_file).read_text())
    model, layers = build_keras_model(model_json)
    weights = read_weights(model_json, Path(model_json_file).parent)
    used = set()
    for name, layer in layers.items():
        if not layer.weights:
            continue
        values = []
        for suffix in ("kernel", "bias"):
            key = f"{name}/{suffix}"
            if key not in weights:
                raise KeyError(f"missing weight {key}")
            values.append(weights[key])
            used.add(key)
        layer.set_weights(values)
    unused = set(weights) - used
    if unused:
        raise ValueError(f"weights not used by the graph: {sorted(unused)[:5]}")
    return model


@dataclass
class Upscaler:
    """One pretrained ESRGAN network: ``upscale(uint8 HxWx3) -> uint8 (sH)x(sW)x3``."""

    size: str
    scale: int
    model: object
    value_range: float

    @property
    def generator(self) -> str:
        return f"esrgan-{self.size}-x{self.scale}"

    @classmethod
    def load(cls, package_dir: Path, size: str, scale: int) -> Upscaler:
        model = load_tfjs_model(model_json_path(Path(package_dir), size, scale))
        return cls(size=size, scale=scale, model=model, value_range=VALUE_RANGE[size])

    def upscale_batch(self, images: np.ndarray) -> np.ndarray:
        x = images.astype(np.float32) * (self.value_range / 255.0)
        y = np.asarray(self.model.predict_on_batch(x))
        y = y * (255.0 / self.value_range)
        return np.clip(np.rint(y), 0, 255).astype(np.uint8)

    def upscale(self, image: np.ndarray) -> np.ndarray:
        return self.upscale_batch(image[None])[0]
