"""Hand-made features for the scikit-learn models (SVM).

These functions are referenced by pickled scikit-learn pipelines
(``FunctionTransformer(raw_pixels)``), so they live in the core library where
serving can import them, and their behaviour must not change under a trained
model: add a new function rather than editing one.

Every function takes the float32 batch that ``aidetect.preprocess.preprocess``
produces, shape ``(n, h, w, 3)``.
"""

from __future__ import annotations

import numpy as np


def raw_pixels(batch: np.ndarray) -> np.ndarray:
    """The seed's SVM input: every pixel value, flattened."""
    batch = np.asarray(batch, dtype=np.float32)
    return batch.reshape(len(batch), -1)


def _grey(batch: np.ndarray) -> np.ndarray:
    b = np.asarray(batch, dtype=np.float32)
    return b[..., 0] * 0.299 + b[..., 1] * 0.587 + b[..., 2] * 0.114


def _histograms16(clipped: np.ndarray) -> np.ndarray:
    """Row-wise ``np.histogram(row, bins=16, range=(-16, 16))`` for values in [-16, 16], at once."""
    n = len(clipped)
    idx = np.minimum(((clipped.astype(np.float64) + 16.0) * 0.5).astype(np.int64), 15)
    idx += (np.arange(n, dtype=np.int64) * 16)[:, None]
    return np.bincount(idx.ravel(), minlength=n * 16).reshape(n, 16)


def residual_features(batch: np.ndarray) -> np.ndarray:
    """Statistics of high-pass residuals and of the spectrum: where generators leave traces.

    Per image: for the horizontal, vertical and diagonal neighbouring-pixel
    differences and a 3x3 Laplacian residual (on grey and on each colour
    channel's difference to grey): mean absolute value, standard deviation,
    kurtosis-like 4th moment and a 16-bin histogram of clipped values; then the
    azimuthally averaged log power spectrum in 16 radial bands, and the
    periodic-pattern energy at the 2x/4x/8x up-sampling frequencies. Scale-free
    inputs (0..255 or 0..1) give the same features.
    """
    b = np.asarray(batch, dtype=np.float32)
    if b.max(initial=0.0) <= 1.0 + 1e-6:
        b = b * 255.0
    grey = _grey(b)
    chroma = b - grey[..., None]
    feats = []
    for plane in [grey, chroma[..., 0], chroma[..., 2]]:
        residuals = [
            plane[:, :, 1:] - plane[:, :, :-1],
            plane[:, 1:, :] - plane[:, :-1, :],
            plane[:, 1:, 1:] - plane[:, :-1, :-1],
            4 * plane[:, 1:-1, 1:-1]
            - plane[:, :-2, 1:-1]
            - plane[:, 2:, 1:-1]
            - plane[:, 1:-1, :-2]
            - plane[:, 1:-1, 2:],
        ]
        for r in residuals:
            flat = r.reshape(len(r), -1)
            absr = np.abs(flat)
            std = flat.std(axis=1) + 1e-6
            feats.append(absr.mean(axis=1, keepdims=True))
            feats.append(std[:, None])
            feats.append(
                (((flat - flat.mean(axis=1, keepdims=True)) / std[:, None]) ** 4).mean(
                    axis=1, keepdims=True
                )
            )
            hist = _histograms16(np.clip(flat, -16, 16)).astype(np.float32)
            feats.append(hist / flat.shape[1])
    feats.append(_spectrum_features(grey))
    return np.concatenate(feats, axis=1).astype(np.float32)


def _spectrum_features(grey: np.ndarray, bands: int = 16) -> np.ndarray:
    n, h, w = grey.shape
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    centred = grey - grey.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fftshift(np.fft.fft2(centred * window), axes=(1, 2))) ** 2
    logp = np.log1p(power)
    yy, xx = np.mgrid[0:h, 0:w]
    radius = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2))
    band = np.minimum((radius / np.sqrt(2) * bands).astype(int), bands - 1)
    radial = np.stack([logp[:, band == k].mean(axis=1) for k in range(bands)], axis=1)
    radial = radial - radial[:, :1]
    peaks = []
    for factor in (2, 4, 8):
        if h >= 2 * factor and w >= 2 * factor:
            ys = [h // 2 + k * h // factor for k in range(-factor // 2, factor // 2) if k]
            xs = [w // 2 + k * w // factor for k in range(-factor // 2, factor // 2) if k]
            pts = [logp[:, y % h, w // 2] for y in ys] + [logp[:, h // 2, x % w] for x in xs]
            peaks.append(np.mean(pts, axis=0) - logp.mean(axis=(1, 2)))
        else:
            peaks.append(np.zeros(n, dtype=np.float32))
    return np.concatenate([radial, np.stack(peaks, axis=1)], axis=1)
