"""TAEF2, a tiny autoencoder for the FLUX.2 latent space, rebuilt in Keras 3.

The weights (``taef2_encoder.npz`` / ``taef2_decoder.npz``, float16, the keys of the
upstream PyTorch ``nn.Sequential`` state dicts; MIT, madebyollin/taesd) are not part of
this project: the corpus builder reads them from a folder given as an option
(``--taef2-weights DIR`` or ``--shared-data DIR`` with ``weights/taef2/`` in it).

A real photo's round trip (encoder -> 32-channel latent at 1/8 size -> decoder) is an
**aligned fake**: the same content, size and framing, only the latent decoder's
fingerprint differs. The network, read from the state dicts' shapes:

- ``Block``: three 3x3 convolutions with ReLU between them, added to the input, then
  ReLU; some blocks first add a "mid-block" ``pool`` residual (1x1 conv 64->256 without
  bias, GroupNorm(4, 256), ReLU, 1x1 conv 256->64 without bias).
- Encoder: conv 3->64, Block, [stride-2 conv without bias, 3 Blocks] x3 (the last three
  with mid-blocks), conv 64->32.
- Decoder: soft clamp ``3 tanh(x / 3)``, conv 32->64, ReLU, 3 Blocks with mid-blocks,
  [nearest upsampling x2, conv without bias, 3 Blocks] x3 (one Block at the end),
  conv 64->3, then clamp to [0, 1].

PyTorch pads every 3x3 convolution by one pixel on each side; for the stride-2 ones that
differs from Keras's ``"same"`` (which pads only bottom/right for even sizes), so the
padding is explicit here. Convolution kernels go from PyTorch's ``(out, in, kh, kw)`` to
Keras's ``(kh, kw, in, out)``; both compute cross-correlations, so nothing is flipped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

GENERATOR = "taef2"
FAMILY = "taef2"
LICENCE = "MIT (Copyright (c) 2023 Ollin Boer Bohan; madebyollin/taesd)"
#: SHA-256 of the upstream files as documented beside them (checked when present).
NPZ_FILES = ("taef2_encoder.npz", "taef2_decoder.npz")
MULTIPLE = 8  # image sides must be multiples of this (three stride-2 stages)
WIDTH = 64
LATENT = 32
#: Encoder/decoder layer index -> kind, from the state dicts' keys.
ENCODER_LAYOUT = (
    ("conv", 0, 3, WIDTH, True),
    ("block", 1, False),
    ("down", 2),
    ("block", 3, False),
    ("block", 4, False),
    ("block", 5, False),
    ("down", 6),
    ("block", 7, False),
    ("block", 8, False),
    ("block", 9, False),
    ("down", 10),
    ("block", 11, True),
    ("block", 12, True),
    ("block", 13, True),
    ("conv", 14, WIDTH, LATENT, True),
)
DECODER_LAYOUT = (
    ("clamp", 0),
    ("conv", 1, LATENT, WIDTH, True),
    ("relu", 2),
    ("block", 3, True),
    ("block", 4, True),
    ("block", 5, True),
    ("up", 6),
    ("conv", 7, WIDTH, WIDTH, False),
    ("block", 8, False),
    ("block", 9, False),
    ("block", 10, False),
    ("up", 11),
    ("conv", 12, WIDTH, WIDTH, False),
    ("block", 13, False),
    ("block", 14, False),
    ("block", 15, False),
    ("up", 16),
    ("conv", 17, WIDTH, WIDTH, False),
    ("block", 18, False),
    ("conv", 19, WIDTH, 3, True),
)


def find_weights(folder: str | Path) -> Path:
    """The folder holding the two ``.npz`` files: ``folder`` itself or ``folder/weights/taef2``."""
    folder = Path(folder).expanduser()
    for cand in (folder, folder / "taef2", folder / "weights" / "taef2"):
        if all((cand / f).is_file() for f in NPZ_FILES):
            return cand
    raise FileNotFoundError(
        f"TAEF2 weights ({', '.join(NPZ_FILES)}) not found in {folder} "
        "(nor in its taef2/ or weights/taef2/ folder)"
    )


def _conv(x, state: dict, key: str, out_ch: int, bias: bool, stride: int = 1, k: int = 3):
    from keras import layers

    name = key.replace(".", "_")
    if k == 3:
        x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
    conv = layers.Conv2D(out_ch, k, strides=stride, padding="valid", use_bias=bias, name=name)
    y = conv(x)
    w = np.asarray(state[f"{key}.weight"], np.float32).transpose(2, 3, 1, 0)
    conv.set_weights([w, np.asarray(state[f"{key}.bias"], np.float32)] if bias else [w])
    return y


def _block(x, state: dict, idx: int, mid: bool):
    from keras import layers

    if mid:
        p = _conv(x, state, f"{idx}.pool.0", 4 * WIDTH, False, k=1)
        gn = layers.GroupNormalization(groups=4, epsilon=1e-5, name=f"{idx}_pool_1")
        p = gn(p)
        gn.set_weights(
            [
                np.asarray(state[f"{idx}.pool.1.weight"], np.float32),
                np.asarray(state[f"{idx}.pool.1.bias"], np.float32),
            ]
        )
        p = layers.ReLU()(p)
        p = _conv(p, state, f"{idx}.pool.3", WIDTH, False, k=1)
        x = layers.Add()([x, p])
    y = _conv(x, state, f"{idx}.conv.0", WIDTH, True)
    y = layers.ReLU()(y)
    y = _conv(y, state, f"{idx}.conv.2", WIDTH, True)
    y = layers.ReLU()(y)
    y = _conv(y, state, f"{idx}.conv.4", WIDTH, True)
    return layers.ReLU()(layers.Add()([y, x]))


def build(state: dict, layout: tuple, in_channels: int, name: str):
    """A Keras model for one half of the autoencoder, weights from a state dict."""
    import keras
    from keras import layers, ops

    inp = keras.Input((None, None, in_channels), name=f"{name}_in")
    x = inp
    for item in layout:
        kind, idx = item[0], item[1]
        if kind == "conv":
            x = _conv(x, state, str(idx), item[3], item[4])
        elif kind == "down":
            x = _conv(x, state, str(idx), WIDTH, False, stride=2)
        elif kind == "block":
            x = _block(x, state, idx, item[2])
        elif kind == "up":
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"{idx}_up")(x)
        elif kind == "relu":
            x = layers.ReLU()(x)
        elif kind == "clamp":
            x = layers.Lambda(lambda t: ops.tanh(t / 3.0) * 3.0, name="soft_clamp")(x)
    return keras.Model(inp, x, name=name)


class TAEF2:
    """Encode and decode uint8 RGB images; ``reconstruct`` makes the aligned fake."""

    generator = GENERATOR

    def __init__(self, encoder, decoder) -> None:
        self.encoder = encoder
        self.decoder = decoder

    @classmethod
    def from_state_dicts(cls, encoder_state: dict, decoder_state: dict) -> TAEF2:
        return cls(
            build(encoder_state, ENCODER_LAYOUT, 3, "taef2_encoder"),
            build(decoder_state, DECODER_LAYOUT, LATENT, "taef2_decoder"),
        )

    @classmethod
    def load(cls, folder: str | Path) -> TAEF2:
        path = find_weights(folder)
        states = []
        for f in NPZ_FILES:
            with np.load(path / f) as z:
                states.append({k: z[k] for k in z.files})
        return cls.from_state_dicts(*states)

    @staticmethod
    def weights_digest(folder: str | Path) -> dict[str, str]:
        path = find_weights(folder)
        return {f: hashlib.sha256((path / f).read_bytes()).hexdigest() for f in NPZ_FILES}

    def reconstruct_batch(self, images: np.ndarray) -> np.ndarray:
        """(n, h, w, 3) uint8 with sides multiples of 8 -> the round trips, uint8."""
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError("expected (n, h, w, 3) uint8 images")
        if images.shape[1] % MULTIPLE or images.shape[2] % MULTIPLE:
            raise ValueError(f"image sides must be multiples of {MULTIPLE}")
        x = images.astype(np.float32) / 255.0
        z = self.encoder.predict_on_batch(x)
        y = np.asarray(self.decoder.predict_on_batch(z))
        return np.round(np.clip(y, 0.0, 1.0) * 255.0).astype(np.uint8)

    def reconstruct(self, image: np.ndarray) -> np.ndarray:
        """One uint8 RGB image of any size: padded by mirroring to a multiple of 8, then cut."""
        h, w = image.shape[:2]
        ph, pw = -h % MULTIPLE, -w % MULTIPLE
        padded = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="symmetric") if ph or pw else image
        out = self.reconstruct_batch(np.ascontiguousarray(padded)[None])[0]
        return np.ascontiguousarray(out[:h, :w])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def random_state_dicts(seed: int = 0) -> tuple[dict, dict]:
    """State dicts of the right keys and shapes with small random values (tests without
    the real weights exercise the same network)."""
    rng = np.random.default_rng(seed)

    def fill(layout: tuple) -> dict:
        state: dict = {}

        def conv(key: str, o: int, i: int, k: int, bias: bool) -> None:
            state[f"{key}.weight"] = (rng.standard_normal((o, i, k, k)) * 0.05).astype(np.float16)
            if bias:
                state[f"{key}.bias"] = np.zeros(o, np.float16)

        for item in layout:
            kind, idx = item[0], item[1]
            if kind == "conv":
                conv(str(idx), item[3], item[2], 3, item[4])
            elif kind == "down":
                conv(str(idx), WIDTH, WIDTH, 3, False)
            elif kind == "block":
                for j in (0, 2, 4):
                    conv(f"{idx}.conv.{j}", WIDTH, WIDTH, 3, True)
                if item[2]:
                    conv(f"{idx}.pool.0", 4 * WIDTH, WIDTH, 1, False)
                    state[f"{idx}.pool.1.weight"] = np.ones(4 * WIDTH, np.float16)
                    state[f"{idx}.pool.1.bias"] = np.zeros(4 * WIDTH, np.float16)
                    conv(f"{idx}.pool.3", WIDTH, 4 * WIDTH, 1, False)
        return state

    return fill(ENCODER_LAYOUT), fill(DECODER_LAYOUT)
