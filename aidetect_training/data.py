"""Training data: splits, class weights, augmentation and the streaming batch loader.

Nothing here holds a data set in memory: samples are paths and labels
(``aidetect.datasets.Sample``), and ``ImageDataset`` decodes one batch at a time
with ``aidetect.imaging.decode_file`` and turns pixels into model input with
``aidetect.preprocess.preprocess`` (the function serving uses), in worker
processes when ``workers > 1``. No TensorFlow: the same loader feeds Keras under
the JAX backend on the GPU machine.

Splits are assigned by hashing (``split_samples``): a sample keeps its split when
the data set grows, and every image of one ``source_id`` (a real photo and the
fakes made from it, say) lands in the same split, so content cannot leak from
training into validation or test.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from aidetect.datasets import Sample, unit_hash
from aidetect.errors import AIDetectError
from aidetect.imaging import decode_file, jpeg_roundtrip
from aidetect.preprocess import Box, InputSpec, preprocess

AUGMENTATIONS = (
    "flip",
    "rotate",
    "zoom",
    "colour",
    "rescale",
    "jpeg",
    "jpeg-strong",
    "jpeg-all",
    "blur",
    "noise",
    "crop",
)
#: The default: cheap, label-preserving, and aimed at what breaks detectors in the wild
#: (JPEG re-saving, softening). ``rotate`` and ``zoom`` (the seed's) resample every
#: pixel, which can hide the up-sampling traces a detector looks for: opt in.
DEFAULT_AUGMENT = ("flip", "jpeg", "blur", "crop")
JPEG_QUALITY = (60, 95)  # re-compression quality, uniform
BLUR_SIGMA = (0.2, 1.5)  # Gaussian blur radius (Pillow's radius is the standard deviation)
ROTATE_TURNS = 0.1  # the seed's RandomRotation(0.1): up to +-36 degrees
ZOOM = 0.1  # the seed's RandomZoom(0.1): +-10 %
CROP_SIDE = (0.8, 1.0)  # resize policy: a random square of 80..100 % of the short side
P_JPEG = 0.5
P_BLUR = 0.3
#: ``jpeg-strong``: the compression people's uploads meet (messengers, social networks)
JPEG_QUALITY_STRONG = (30, 95)
P_JPEG_STRONG = 0.7
#: ``jpeg-all``: every training image re-saved (for models meant to score JPEG uploads)
JPEG_QUALITY_ALL = (50, 95)
RESCALE = (0.5, 1.5)  # ``rescale``: resize the whole image by this factor, before cropping
P_RESCALE = 0.5
NOISE_SIGMA = (0.5, 3.0)  # ``noise``: Gaussian sensor-like noise, in grey levels
P_NOISE = 0.2
COLOUR = 0.1  # ``colour``: brightness, contrast and saturation each scaled by 1 +- this
P_COLOUR = 0.3
#: A strong set for patch models on aligned pairs (research: JPEG 30-95, resizing by
#: 0.5-1.5, blur, noise and colour jitter, all applied to both classes alike).
STRONG_AUGMENT = ("flip", "colour", "rescale", "blur", "noise", "jpeg-strong", "crop")


def parse_augment(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"flip,jpeg"`` / ``"none"`` / ``"default"`` to a tuple of augmentation names."""
    if text is None:
        return DEFAULT_AUGMENT
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip().lower() for s in items if s.strip()]
    if names in ([], ["none"]):
        return ()
    if names == ["default"]:
        return DEFAULT_AUGMENT
    if names == ["all"]:  # every one but jpeg-all, which would re-save every image again
        return tuple(a for a in AUGMENTATIONS if a != "jpeg-all")
    if names == ["strong"]:
        return STRONG_AUGMENT
    unknown = sorted(set(names) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(
            f"unknown augmentation(s) {', '.join(unknown)}; choose from "
            f"{', '.join(AUGMENTATIONS)}, 'none', 'default', 'strong' or 'all'"
        )
    return tuple(a for a in AUGMENTATIONS if a in names)


# --- splits -----------------------------------------------------------------------------------
def split_samples(
    samples: Sequence[Sample],
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
) -> list[Sample]:
    """Give every sample a split (``train``, ``val`` or ``test``), deterministically.

    - A split already given (CIFAKE's folders, a manifest's ``split`` column) is kept,
      except that ``val`` is carved out of ``train`` (fraction ``val / (1 - test)``)
      when the data set has no validation images of its own.
    - Otherwise a sample goes to test, val or train by a hash of ``seed`` and its
      group key: its ``source_id`` when it has one (all images of a source stay
      together), else its path (relative to ``root`` when given, so moving the
      data set does not change the split). Fractions are expected values, not
      exact counts.
    """
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError("val and test are fractions with val + test < 1")
    has_val = any(s.split == "val" for s in samples)
    carve = val / (1.0 - test) if test < 1 else 0.0
    out = []
    base = Path(root).resolve() if root is not None else None
    if base is not None and base.is_file():
        base = base.parent  # a manifest file
    for s in samples:
        key = s.source_id or _path_key(s.path, base)
        u = unit_hash(seed, key)
        if s.split in ("val", "test"):
            split = s.split
        elif s.split == "train":
            split = "val" if not has_val and u < carve else "train"
        else:
            split = "test" if u < test else "val" if u < test + val else "train"
        out.append(replace(s, split=split))
    return out


def _path_key(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return Path(path).resolve().relative_to(base).as_posix()
        except ValueError:
            pass
    return Path(path).as_posix()


def subset(
    samples: Sequence[Sample],
    limit: int,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
) -> list[Sample]:
    """At most ``limit`` samples, the same ones every time for a seed (order kept)."""
    if limit <= 0 or limit >= len(samples):
        return list(samples)
    base = Path(root).resolve() if root is not None else None
    if base is not None and base.is_file():
        base = base.parent
    keys = [_path_key(s.path, base) for s in samples]
    ranked = sorted(range(len(samples)), key=lambda i: unit_hash(seed, keys[i]))
    keep = set(ranked[:limit])
    return [s for i, s in enumerate(samples) if i in keep]


def balanced_subset(samples: Sequence[Sample], limit: int, seed: int = 0) -> list[Sample]:
    """Up to ``limit // 2`` samples of each class, chosen by seed (the seed's SVM recipe)."""
    out = []
    for label in (0, 1):
        cls = [s for s in samples if s.label == label]
        out += subset(cls, limit // 2, seed)
    return out


def class_weights(samples: Sequence[Sample]) -> dict[int, float]:
    """``n / (2 * n_c)`` per class: each class contributes equally to the loss."""
    n_c = Counter(s.label for s in samples)
    n = sum(n_c.values())
    return {c: n / (2.0 * n_c[c]) if n_c[c] else 0.0 for c in (0, 1)}


# --- augmentation -----------------------------------------------------------------------------
def _reflect_pad(pixels: np.ndarray, frac: float) -> tuple[np.ndarray, int, int]:
    h, w = pixels.shape[:2]
    py, px = math.ceil(h * frac), math.ceil(w * frac)
    return np.pad(pixels, ((py, py), (px, px), (0, 0)), mode="symmetric"), py, px


def augment_pixels(
    pixels: np.ndarray, augment: Sequence[str], rng: np.random.Generator
) -> np.ndarray:
    """Label-preserving changes to a whole upright RGB uint8 image (both classes alike).

    Order: geometry (flip, rotate, zoom) and colour first, then what a photo meets when
    it is shared: resizing, softening, noise and JPEG re-compression (last, as on the
    way to a user). Crops are chosen afterwards by ``training_box``. Each step draws its
    random numbers from ``rng`` alone (never from the pixels), so two images given
    generators in the same state (an aligned pair) get exactly the same changes.
    """
    if "flip" in augment and rng.random() < 0.5:
        pixels = pixels[:, ::-1]
    if "colour" in augment and rng.random() < P_COLOUR:
        b, c, sat = 1.0 + rng.uniform(-COLOUR, COLOUR, size=3)
        img = Image.fromarray(np.ascontiguousarray(pixels))
        img = ImageEnhance.Contrast(ImageEnhance.Brightness(img).enhance(b)).enhance(c)
        pixels = np.asarray(ImageEnhance.Color(img).enhance(sat))
    if "rotate" in augment or "zoom" in augment:
        angle = rng.uniform(-1, 1) * ROTATE_TURNS * 360 if "rotate" in augment else 0.0
        scale = 1.0 + rng.uniform(-ZOOM, ZOOM) if "zoom" in augment else 1.0
        h, w = pixels.shape[:2]
        # pad by mirroring first (keras's fill_mode="reflect"), so no black corners
        padded, py, px = _reflect_pad(np.ascontiguousarray(pixels), 0.3)
        img = Image.fromarray(padded)
        if angle:
            img = img.rotate(angle, resample=Image.Resampling.BILINEAR)
        cx, cy = px + w / 2, py + h / 2
        half_w, half_h = w / 2 / scale, h / 2 / scale
        box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        pixels = np.asarray(img.resize((w, h), Image.Resampling.BILINEAR, box=box))
    if "rescale" in augment and rng.random() < P_RESCALE:
        factor = rng.uniform(*RESCALE)
        method = (Image.Resampling.BILINEAR, Image.Resampling.BICUBIC, Image.Resampling.LANCZOS)
        h, w = pixels.shape[:2]
        size = (max(8, round(w * factor)), max(8, round(h * factor)))
        img = Image.fromarray(np.ascontiguousarray(pixels))
        pixels = np.asarray(img.resize(size, method[int(rng.integers(3))]))
    if "jpeg" in augment and rng.random() < P_JPEG:
        pixels = jpeg_roundtrip(pixels, int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)))
    if "blur" in augment and rng.random() < P_BLUR:
        radius = float(rng.uniform(*BLUR_SIGMA))
        img = Image.fromarray(np.ascontiguousarray(pixels))
        pixels = np.asarray(img.filter(ImageFilter.GaussianBlur(radius)))
    if "noise" in augment and rng.random() < P_NOISE:
        sigma = rng.uniform(*NOISE_SIGMA)
        noisy = pixels + rng.standard_normal(pixels.shape, dtype=np.float32) * np.float32(sigma)
        pixels = np.clip(noisy, 0, 255).round().astype(np.uint8)
    if "jpeg-strong" in augment and rng.random() < P_JPEG_STRONG:
        quality = int(rng.integers(JPEG_QUALITY_STRONG[0], JPEG_QUALITY_STRONG[1] + 1))
        pixels = jpeg_roundtrip(pixels, quality)
    if "jpeg-all" in augment:
        quality = int(rng.integers(JPEG_QUALITY_ALL[0], JPEG_QUALITY_ALL[1] + 1))
        pixels = jpeg_roundtrip(pixels, quality)
    return np.ascontiguousarray(pixels)


def training_box(
    width: int, height: int, spec: InputSpec, augment: Sequence[str], rng: np.random.Generator
) -> Box | None:
    """The region of an image a training row comes from (``None``: the policy's default).

    ``crops`` policy: one ``size x size`` window at native resolution, at a random
    position with ``crop`` on (else the centre); ``preprocess`` pads it by mirroring
    where the image is smaller, exactly as at serving time. ``resize`` policy with
    ``crop`` on: a random square of 80-100 % of the short side, which ``preprocess``
    then resizes like the whole image.
    """
    size = spec.size
    random_pos = "crop" in augment
    if spec.policy == "crops":
        if random_pos:
            x = int(rng.integers(0, max(0, width - size) + 1))
            y = int(rng.integers(0, max(0, height - size) + 1))
        else:
            x, y = max(0, (width - size) // 2), max(0, (height - size) // 2)
        return (x, y, x + size, y + size)
    if not random_pos:
        return None
    side = max(1, round(min(width, height) * rng.uniform(*CROP_SIDE)))
    x = int(rng.integers(0, width - side + 1))
    y = int(rng.integers(0, height - side + 1))
    return (x, y, x + side, y + side)


def training_input(
    pixels: np.ndarray,
    spec: InputSpec,
    augment: Sequence[str],
    rng: np.random.Generator,
    patches: int = 1,
) -> np.ndarray:
    """Model input rows ``(patches, size, size, 3)`` float32, made through ``preprocess``.

    The image is augmented once; ``patches`` windows are then cut from it (under the
    ``crops`` policy, each at its own random native-resolution position).
    """
    pixels = augment_pixels(pixels, augment, rng) if augment else pixels
    h, w = pixels.shape[:2]
    boxes = [training_box(w, h, spec, augment, rng) for _ in range(max(1, patches))]
    if boxes[0] is None:
        # resize policy: exactly what serving does
        batch, _ = preprocess(pixels, spec)
        return np.repeat(batch, len(boxes), axis=0) if len(boxes) > 1 else batch
    batch, _ = preprocess(pixels, spec, boxes)  # type: ignore[arg-type]
    return batch


# --- the batch loader -------------------------------------------------------------------------
class ImageDataset(keras.utils.PyDataset):
    """Batches ``(x, y, sample_weight)`` decoded from disk, for ``model.fit`` and friends.

    Each row is one image (one random crop under the ``crops`` policy). The row for
    a sample depends only on ``(seed, epoch, sample)``, so runs repeat exactly
    whatever the number of workers. ``transform`` (a picklable function, e.g.
    ``aidetect.features.residual_features``) runs in the worker on each batch:
    feature extraction for scikit-learn models is parallel too.

    ``workers`` and ``use_multiprocessing`` are Keras's: with ``workers > 1`` and
    processes, every core decodes.

    ``patches``: rows cut from each decoded and augmented image (patch models learn
    from several native-resolution windows of one crop for the price of one decode);
    a batch then holds ``batch_size * patches`` rows. ``paired``: samples that share a
    ``pair_id`` (a real crop and its aligned round trip) draw their augmentation and
    windows from one random state, so both members of a pair are re-compressed,
    resized and cut identically and differ only in what the generator changed.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        spec: InputSpec,
        batch_size: int = 32,
        *,
        augment: Sequence[str] = (),
        shuffle: bool = False,
        seed: int = 0,
        class_weight: dict[int, float] | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        workers: int = 1,
        use_multiprocessing: bool | None = None,
        max_queue_size: int = 10,
        patches: int = 1,
        paired: bool = False,
    ):
        if use_multiprocessing is None:
            use_multiprocessing = workers > 1
        super().__init__(
            workers=workers,
            use_multiprocessing=use_multiprocessing,
            max_queue_size=max_queue_size,
        )
        if not samples:
            raise ValueError("no samples to load")
        self.samples = list(samples)
        self.spec = spec
        self.batch_size = int(batch_size)
        self.augment = tuple(augment)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.class_weight = class_weight
        self.transform = transform
        self.patches = max(1, int(patches))
        self.paired = paired
        self.epoch = 0
        self.labels = np.array([s.label for s in self.samples], dtype=np.float32)

    def __len__(self) -> int:
        return math.ceil(len(self.samples) / self.batch_size)

    def order(self) -> np.ndarray:
        """This epoch's sample order; with ``paired``, the members of a pair side by side
        (in one batch), the pairs (and unpaired samples) shuffled."""
        if not self.shuffle:
            return np.arange(len(self.samples))
        rng = np.random.default_rng([self.seed, self.epoch])
        if not self.paired:
            return rng.permutation(len(self.samples))
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(self.samples):
            groups.setdefault(s.pair_id or f"\0{i}", []).append(i)
        members = list(groups.values())
        return np.array([i for g in rng.permutation(len(members)) for i in members[g]])

    def on_epoch_end(self) -> None:
        # Keras makes a new worker pool each epoch, which sees this counter.
        self.epoch += 1

    def rng_for(self, i: int) -> np.random.Generator:
        """Sample ``i``'s random state this epoch (shared by an aligned pair)."""
        pair = self.samples[i].pair_id if self.paired else ""
        if pair:
            key = int.from_bytes(hashlib.sha256(pair.encode()).digest()[:8], "big")
            return np.random.default_rng([self.seed, self.epoch, 1, key])
        return np.random.default_rng([self.seed, self.epoch, i])

    def row(self, i: int) -> np.ndarray:
        """The model input rows for sample ``i`` in the current epoch."""
        pixels = decode_file(self.samples[i].path).pixels
        return training_input(pixels, self.spec, self.augment, self.rng_for(i), self.patches)

    def __getitem__(self, idx: int):
        if idx >= len(self):
            raise IndexError(idx)
        ids = self.order()[idx * self.batch_size : (idx + 1) * self.batch_size]
        rows, kept = [], []
        for i in ids:
            try:
                rows.append(self.row(int(i)))
                kept.append(int(i))
            except (OSError, AIDetectError) as exc:
                # one unreadable file must not end a long run: skip it, say so
                print(f"warning: skipping {self.samples[i].path}: {exc}", file=sys.stderr)
        if not rows:
            shape = (0, self.spec.size, self.spec.size, 3)
            x = np.zeros(shape, dtype=np.float32)
        else:
            x = np.concatenate(rows)
        if self.transform is not None:
            x = np.asarray(self.transform(x), dtype=np.float32)
        y = np.repeat(self.labels[kept], self.patches)
        if self.class_weight is None:
            return x, y
        w = np.array([self.class_weight[int(v)] for v in y], dtype=np.float32)
        return x, y, w


_WORKER_DATASET: ImageDataset | None = None


def _init_worker(dataset: ImageDataset) -> None:
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _get_batch(idx: int):
    assert _WORKER_DATASET is not None
    return _WORKER_DATASET[idx]


def iterate(dataset: ImageDataset, workers: int = 1) -> Iterator[tuple[np.ndarray, ...]]:
    """Every batch of ``dataset`` in order, decoded by ``workers`` processes.

    For one pass outside ``model.fit`` (feature extraction for scikit-learn
    models). Workers are forked, like Keras's own ``PyDataset`` workers.
    """
    if workers <= 1 or len(dataset) <= 1:
        for i in range(len(dataset)):
            yield dataset[i]
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(dataset,)) as pool:
        yield from pool.imap(_get_batch, range(len(dataset)), chunksize=1)
