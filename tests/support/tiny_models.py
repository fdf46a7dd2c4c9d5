"""Small real models for tests and smoke runs: built, briefly trained, saved as artifacts.

``python -m tests.support.tiny_models OUTDIR`` writes ``OUTDIR/tiny-cnn`` (Keras,
``crops`` policy), ``OUTDIR/tiny-svm`` (scikit-learn on residual features,
``resize`` policy) and ``OUTDIR/tiny-ensemble``. They learn a toy task (smooth
noise = "real", blocky up-sampled noise = "AI") in a few seconds, so answers are
real model outputs, not constants. Nothing here is ever committed as a model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def toy_images(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 RGB images and labels: 0 = smooth camera-like noise, 1 = 2x up-sampled."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(n):
        base = rng.normal(128, 40, (size, size, 3))
        if i % 2:
            small = rng.normal(128, 40, (size // 2, size // 2, 3))
            base = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)  # nearest up-sampling
        images.append(np.clip(base, 0, 255).astype(np.uint8))
        labels.append(i % 2)
    return np.stack(images), np.array(labels)


def build_keras(out: Path, size: int = 32, name: str = "tiny-cnn", default: bool = True):
    import keras

    from aidetect.preprocess import InputSpec, preprocess
    from aidetect.registry import write_artifact

    keras.utils.set_random_seed(0)
    spec = InputSpec(policy="crops", size=size, scale="raw", crops={"max_crops": 4})
    x_u8, y = toy_images(256, size)
    x = np.concatenate([preprocess(img, spec)[0] for img in x_u8])
    model = keras.Sequential(
        [
            keras.Input((size, size, 3)),
            keras.layers.Rescaling(1.0 / 255),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    return write_artifact(
        out / name,
        {
            "name": name,
            "architecture": "cnn",
            "version": "0.0.1-test",
            "description": "Tiny test CNN (toy task); never a real detector.",
            "input": spec.model_dump(),
            "threshold": 0.5,
            "uncertain_band": [0.4, 0.6],
            "default": default,
            "training_data": {"generators": ["toy-nearest-upsampling"]},
        },
        keras_model=model,
    )


def build_sklearn(out: Path, size: int = 32, name: str = "tiny-svm"):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from aidetect.features import residual_features
    from aidetect.preprocess import InputSpec, preprocess
    from aidetect.registry import write_artifact

    spec = InputSpec(policy="resize", size=size, scale="raw")
    x_u8, y = toy_images(128, size, seed=1)
    x = np.concatenate([preprocess(img, spec)[0] for img in x_u8])
    pipe = make_pipeline(
        FunctionTransformer(residual_features), StandardScaler(), LogisticRegression(max_iter=500)
    )
    pipe.fit(x, y)
    return write_artifact(
        out / name,
        {
            "name": name,
            "architecture": "svm",
            "version": "0.0.1-test",
            "description": "Tiny test linear model on residual features (toy task).",
            "input": spec.model_dump(),
            "threshold": 0.5,
        },
        sklearn_model=pipe,
    )


def build_ensemble(out: Path, members: list[str], name: str = "tiny-ensemble"):
    from aidetect.registry import write_artifact

    return write_artifact(
        out / name,
        {
            "name": name,
            "architecture": "ensemble",
            "format": "ensemble",
            "members": [{"name": m, "weight": 1.0} for m in members],
            "threshold": 0.5,
            "uncertain_band": [0.35, 0.65],
        },
    )


def build_all(out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    build_keras(out)
    build_sklearn(out)
    build_ensemble(out, ["tiny-cnn", "tiny-svm"])
    return ["tiny-cnn", "tiny-svm", "tiny-ensemble"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    names = build_all(args.out)
    print("\n".join(str(args.out / n) for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
