"""``metadata.json``: what an artifact says about itself (``ModelMetadata``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from aidetect.preprocess import InputSpec


class Member(BaseModel):
    name: str
    weight: float = Field(1.0, ge=0.0)


def _nan_to_none(v: Any) -> Any:
    """An undefined figure (NaN, e.g. a ROC-AUC with one class) is recorded as null."""
    return None if isinstance(v, float) and v != v else v


class TrainedFamily(BaseModel):
    """A generator family whose images the model was trained on."""

    family: str = Field(description="e.g. esrgan-slim, stable-diffusion-1.5")
    kind: str = Field(description="super-resolution, autoencoder, text-to-image, gan, ...")
    images: int = Field(ge=0, description="training images of this family")


class HeldOutFamily(BaseModel):
    """A generator family the model was tested on without having seen it in training."""

    family: str
    kind: str
    test_set: str = Field(description="what the number was measured on, in words")
    n: int = Field(ge=0, description="images in that test set")
    roc_auc: float | None = Field(None, ge=0.0, le=1.0)
    detection_rate: float | None = Field(
        None, ge=0.0, le=1.0, description="share of its fakes called AI-generated"
    )

    @field_validator("roc_auc", "detection_rate", mode="before")
    @classmethod
    def _nan_is_unknown(cls, v: Any) -> Any:
        return _nan_to_none(v)


class RobustnessFigure(BaseModel):
    """How the model did on its test pictures passed on one way (the robustness
    experiment: both classes transformed alike), at its shipped threshold."""

    variant: str = Field(
        description="original, jpeg95, jpeg90, jpeg75, jpeg50, webp80, downscale50, ..."
    )
    jpeg_quality: int | None = Field(
        None, ge=1, le=100, description="the quality the copies were re-saved at (JPEG variants)"
    )
    webp_quality: int | None = Field(
        None, ge=1, le=100, description="the same for lossy WebP variants"
    )
    test_set: str = Field(description="what the number was measured on, in words")
    n_real: int = Field(ge=0)
    n_ai: int = Field(ge=0)
    roc_auc: float | None = Field(None, ge=0.0, le=1.0)
    detection_rate: float | None = Field(
        None, ge=0.0, le=1.0, description="share of the AI-generated copies called AI-generated"
    )
    false_positive_rate: float | None = Field(
        None, ge=0.0, le=1.0, description="share of the real copies called AI-generated"
    )

    @field_validator("roc_auc", "detection_rate", "false_positive_rate", mode="before")
    @classmethod
    def _nan_is_unknown(cls, v: Any) -> Any:
        return _nan_to_none(v)


class ModelScope(BaseModel):
    """What the model has and has not seen: shown next to its figures on the page."""

    trained_on: list[TrainedFamily] = Field(default_factory=list)
    held_out: list[HeldOutFamily] = Field(default_factory=list)
    robustness: list[RobustnessFigure] = Field(
        default_factory=list,
        description=(
            "the test pictures re-saved as JPEG or WebP, downscaled, cropped, screenshotted; "
            "the verdict reads the JPEG and WebP rows (aidetect.verdict, compression rule)"
        ),
    )
    note: str = Field("", description="what the figures do not cover, in words")


class ModelMetadata(BaseModel):
    """``metadata.json``. Unknown keys are kept (forward compatible)."""

    model_config = {"extra": "allow", "protected_namespaces": ()}

    schema_version: int = 1
    name: str
    architecture: str
    version: str = "1.0.0"
    description: str = ""
    created: str = ""
    format: Literal["keras", "keras_h5", "sklearn", "ensemble"]
    model_file: str | None = None
    sha256: str | None = None
    framework: dict[str, str] = Field(default_factory=dict)
    input: InputSpec | None = None
    output: Literal["ai_probability", "real_probability"] = Field(
        "ai_probability",
        description="What the model's single output means; real_probability for seed models",
    )
    label_convention: str = "1 = AI-generated, 0 = real"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    uncertain_band: tuple[float, float] | None = None
    default: bool = Field(False, description="Served when a request names no model")
    legacy: bool = Field(False, description="Answers the seed's POST /")
    members: list[Member] | None = None
    ensemble_rule: Literal["mean", "vote"] = "mean"
    training_data: dict[str, Any] | None = None
    scope: ModelScope | None = Field(
        None,
        description=(
            "Generator families trained on and tested as held out, each number with its "
            "test set and size; absent: the training data is not described"
        ),
    )
    metrics: dict[str, Any] = Field(default_factory=dict)
    command: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ModelMetadata:
        if self.format == "ensemble":
            if not self.members:
                raise ValueError("an ensemble needs members")
        else:
            if self.input is None or not self.model_file or not self.sha256:
                raise ValueError("a model needs input, model_file and sha256")
            if Path(self.model_file).name != self.model_file:
                raise ValueError("model_file must be a plain file name")
        if self.uncertain_band is not None:
            lo, hi = self.uncertain_band
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError("uncertain_band must satisfy 0 <= lo <= hi <= 1")
        return self

    def headline_metrics(self) -> dict[str, Any]:
        keys = ("accuracy", "roc_auc", "average_precision", "f1", "precision", "recall")
        test = self.metrics.get("test", self.metrics)
        return {k: test[k] for k in keys if isinstance(test, dict) and k in test}

    def metrics_sample_size(self) -> int | None:
        """How many test images the headline metrics were measured on (when recorded)."""
        test = self.metrics.get("test", self.metrics)
        n = test.get("n") if isinstance(test, dict) else None
        return int(n) if isinstance(n, int | float) and not isinstance(n, bool) else None
