"""A small self-trained convolutional autoencoder with an 8x downsampling latent.

Shaped like (a much smaller) Stable Diffusion VAE: three stride-2 stages down to a
4-channel latent at 1/8 of the resolution, nearest-neighbour upsampling + convolutions
back up. Trained here, on CPU, on the train-split REAL crops only; its reconstructions
are generated images (the decoder paints every pixel from a 48x-compressed latent).
Fully convolutional: any input whose sides are multiples of 8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

GENERATOR = "ae8-selftrained"
WIDTHS = (32, 64, 96)
LATENT_CHANNELS = 4
DEFAULT_WEIGHTS = (
    Path(__file__).resolve().parents[2]
    / "aidetect_training"
    / "generators"
    / "ae8"
    / "ae8.weights.h5"
)


def build_autoencoder():
    import keras
    from keras import layers

    inp = keras.Input((None, None, 3), name="image")
    x = layers.Conv2D(WIDTHS[0], 3, padding="same", activation="relu", name="enc_in")(inp)
    for i, w in enumerate(WIDTHS):
        x = layers.Conv2D(w, 4, strides=2, padding="same", activation="relu", name=f"enc_down{i}")(
            x
        )
        x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"enc_conv{i}")(x)
    z = layers.Conv2D(LATENT_CHANNELS, 1, name="latent")(x)
    x = layers.Conv2D(WIDTHS[-1], 3, padding="same", activation="relu", name="dec_in")(z)
    for i, w in enumerate(reversed(WIDTHS)):
        x = layers.UpSampling2D(2, name=f"dec_up{i}")(x)
        x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"dec_conv{i}")(x)
    out = layers.Conv2D(3, 3, padding="same", name="dec_out")(x)
    return keras.Model(inp, out, name="ae8")


class Autoencoder:
    """Reconstruct uint8 RGB images (pixels scaled to [-1, 1] inside)."""

    scale = 1
    generator = GENERATOR

    def __init__(self, model) -> None:
        self.model = model

    @classmethod
    def load(cls, weights: str | Path | None = None) -> Autoencoder:
        path = Path(weights or DEFAULT_WEIGHTS)
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found: train it with aidetect_training/generators/train_autoencoder.py"
            )
        model = build_autoencoder()
        model.load_weights(path)
        return cls(model)

    def reconstruct_batch(self, images: np.ndarray) -> np.ndarray:
        if images.shape[1] % 8 or images.shape[2] % 8:
            raise ValueError("image sides must be multiples of 8")
        x = images.astype(np.float32) / 127.5 - 1.0
        y = np.asarray(self.model.predict_on_batch(x))
        return np.clip(np.rint((y + 1.0) * 127.5), 0, 255).astype(np.uint8)

    def reconstruct(self, image: np.ndarray) -> np.ndarray:
        return self.reconstruct_batch(image[None])[0]
