"""What a training run is given and what an architecture hands back.

``RunConfig`` holds the options every architecture shares (declared once with
``aidetect_training.options.option``: the ``aidetect train`` flags and the recorded command
are derived from them) plus ``arch_options``, the chosen architecture's own
options dataclass. ``Architecture`` is one row of the table in
``aidetect_training/architectures.py``.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aidetect.datasets import Sample
from aidetect.preprocess import AGGREGATES, CropSpec, InputSpec
from aidetect.registry import validate_name
from aidetect_training.options import option, to_args
from aidetect_training.variants import VARIANTS, parse_variants


def _augment(text: Any) -> tuple[str, ...]:
    from aidetect_training.data import parse_augment  # imports Keras: only when a run is built

    return parse_augment(text)


@dataclass
class RunConfig:
    data: Path = option(  # noqa: RUF009 (option() is dataclasses.field)
        required=True,
        help="REAL/FAKE folders, CIFAKE, manifest.csv (path,label[,generator][,source_id]"
        "[,split]) or ArtiFact",
    )
    arch: str = option(required=True, help="the architecture (aidetect_training/architectures.py)")
    output: Path = option(  # noqa: RUF009
        required=True, help="artifact folder, e.g. models/my-cnn (its name is the model's name)"
    )
    name: str = option("", help="model name (must equal the output folder's name)")
    epochs: int = option(10, help="epochs (resnet50: head phase)")
    image_size: int | None = option(
        None, help="model input size (default: the architecture's, e.g. 32 cnn, 200 resnet50)"
    )
    policy: str | None = option(
        None,
        choices=("resize", "crops"),
        help="resize whole images, or native-resolution crops (design notes 4; "
        "default: the architecture's, resize for svm/cnn/resnet50)",
    )
    max_crops: int = option(16, help="crops policy: crops per image")
    aggregate: str = option(
        "mean_logit",
        choices=AGGREGATES,
        help="crops policy: how crop scores make the image's (top_logit: mean logit of the "
        "--top-fraction most AI-looking crops); it decides only the threshold and the "
        "reports, not the training, which sees single crops",
    )
    top_fraction: float = option(0.25, help="top_logit: share of the crops pooled")
    class_weight: str = option(
        "auto", choices=("auto", "none"), help="auto: n / (2 n_class) from the training split"
    )
    augment: tuple[str, ...] = option(
        (),
        parse=_augment,
        show=lambda v: ",".join(v) or "none",
        help="comma list of flip,rotate,zoom,colour,rescale,jpeg,jpeg-strong,jpeg-all,blur,noise,"
        "crop; "
        "or none, default (flip,jpeg,blur,crop), strong (flip,colour,rescale,blur,noise,"
        "jpeg-strong,crop), all (every one but jpeg-all) (default: default)",
    )
    families: tuple[str, ...] = option(
        (),
        parse=lambda v: tuple(f.strip() for f in (v or "").split(",") if f.strip()),
        show=",".join,
        help="train and validate on AI images of these families only (comma-separated "
        "shell patterns such as taef2,esrgan-*; the manifest's family column, else the "
        "generator); real images are always kept (default: every family)",
    )
    patches_per_image: int = option(
        1,
        help="training rows cut from each decoded and augmented image (native-resolution "
        "windows under --policy crops)",
    )
    unpaired: bool = option(
        False,
        help="augment the members of an aligned pair (same pair_id) independently "
        "(default: identically, and side by side in a batch, so that they differ only in "
        "what the generator changed)",
    )
    seed: int = option(0, help="splits, shuffling, augmentation, init")
    batch_size: int = option(32, help="batch size")
    workers: int = option(0, record=False, help="decoding processes (default: every core)")
    limit: int = option(0, help="use at most N images (quick runs)")
    val: float = option(0.15, help="validation fraction")
    test: float = option(0.15, help="test fraction")
    target_fpr: float = option(0.05, help="threshold: this false-positive rate on validation reals")
    threshold_variants: tuple[str, ...] = option(
        (),
        parse=parse_variants,
        show=",".join,
        help="choose the threshold so that the --target-fpr holds on the validation reals "
        "as given AND on copies of them as people pass photos on (comma list of "
        f"{','.join(v for v in VARIANTS if v != 'original')}; the worst one decides), and "
        "the uncertain band on the originals and copies pooled (default: the reals as "
        "given only)",
    )
    learning_rate: float | None = option(None, help="default: 1e-3 (resnet50 head too)")
    mixed_precision: bool = option(
        False, help="mixed_bfloat16 compute (GPUs); the output layer stays float32"
    )
    jit_compile: str = option(
        "auto",
        choices=("auto", "on", "off"),
        record=False,
        help="XLA compilation (auto: on GPU / JAX, off on TensorFlow CPU)",
    )
    init_from: Path | None = option(  # noqa: RUF009
        None,
        help="Keras architectures: start from the weights of this model (a name in the "
        "models folder or an artifact folder; checked against its SHA-256) of the same "
        "architecture and input, e.g. to train a shipped model further or on your own data",
    )
    freeze_init: bool = option(
        False,
        help="with --init-from: keep every layer copied from the source fixed and train "
        "only the layers it lacks (e.g. patchnet's --patchnet-coarse branch), so what the "
        "source learned is kept as it was",
    )
    resume: bool = option(
        False, record=False, help="continue an interrupted run from <output>/checkpoints/"
    )
    version: str = option("1.0.0", record=False, help="model version recorded in metadata")
    #: the architecture's own options (its ``Architecture.options`` dataclass)
    arch_options: Any = None
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data, self.output = Path(self.data), Path(self.output)
        self.name = self.name or self.output.name
        validate_name(self.name)
        if self.name != self.output.name:
            # the registry finds a model by its folder name
            raise ValueError(f"--name {self.name!r} must equal the output folder's name")
        if self.freeze_init and self.init_from is None:
            raise ValueError("--freeze-init keeps the layers of --init-from fixed: give one")

    def spec(self, scale: str = "raw") -> InputSpec:
        assert self.image_size is not None, "the run resolves the input size first"
        assert self.policy is not None, "the run resolves the policy first"
        return InputSpec(
            policy=self.policy,  # type: ignore[arg-type]
            size=self.image_size,
            scale=scale,  # type: ignore[arg-type]
            crops=CropSpec(
                max_crops=self.max_crops, aggregate=self.aggregate, top_fraction=self.top_fraction
            ),
        )

    @property
    def paired(self) -> bool:
        return not self.unpaired

    def command_line(self) -> str:
        """The run as one ``aidetect train`` command, rebuilt from the options."""
        arch_args = to_args(self.arch_options) if self.arch_options is not None else []
        return shlex.join(["aidetect", "train", *to_args(self), *arch_args])


@dataclass
class Splits:
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    layout: str

    def as_dict(self) -> dict[str, list[Sample]]:
        return {"train": self.train, "val": self.val, "test": self.test}


@dataclass
class Trained:
    """What an architecture's ``train()`` hands back."""

    architecture: str
    description: str
    keras_model: Any = None
    sklearn_model: Any = None
    input_spec: InputSpec | None = None
    details: dict[str, Any] = field(default_factory=dict)  # hyper-parameters, history
    train_seconds: float = 0.0
    train_images: int = 0  # rows seen in training, all epochs (for images/s)


@dataclass
class NoOptions:
    """For an architecture without options of its own."""


@dataclass(frozen=True)
class Architecture:
    """One row of the architecture table: how to train it and what it accepts."""

    name: str
    help: str
    train: Callable[[RunConfig, Splits], Trained]
    options: type = NoOptions
    default_size: int = 32
    min_size: int = 1
    default_policy: str = "resize"


def log(cfg: RunConfig, msg: str) -> None:
    if cfg.progress:
        print(msg, flush=True)
