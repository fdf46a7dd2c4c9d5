"""Every HTTP response shape (detection results, errors, batches, the models list), shared
by the API, the CLI and evaluation.

These pydantic models are the single definition of the contract in design-notes
section 2: the backend uses them as response models (so ``/openapi.json`` and the
frontend's generated types follow), the CLI serialises them to JSONL/CSV.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aidetect.metadata import ModelScope

Verdict = Literal["ai_generated", "real", "uncertain", "out_of_scope"]
#: What the pixel model alone says (it always gives a score, even out of scope).
PixelVerdict = Literal["ai_generated", "real", "uncertain"]
Signal = Literal["ai_generated", "real", "neutral"]
Strength = Literal["strong", "moderate", "weak"]


class Evidence(BaseModel):
    """One provenance finding, graded and explained."""

    kind: str = Field(description="c2pa, xmp, png_text, exif, watermark, ...")
    signal: Signal
    strength: Strength
    detail: str = Field(description="Human-readable explanation of the finding")


class ModelRef(BaseModel):
    name: str
    version: str


class ModelScore(BaseModel):
    name: str
    version: str
    ai_probability: float = Field(ge=0.0, le=1.0)
    weight: float = 1.0


class ImageInfo(BaseModel):
    width: int
    height: int
    format: str
    jpeg_quality: int | None = Field(
        default=None,
        description=(
            "A JPEG's quality (1-100, the IJG scale most encoders use), estimated from its "
            "quantisation tables; null for other formats"
        ),
    )
    webp_lossy: bool | None = Field(
        default=None,
        description="For a WebP: true when lossy, false when lossless; null for other formats",
    )


class Compression(BaseModel):
    """What lossy compression (JPEG, lossy WebP) does to this model's answers, as measured
    on its test pictures re-saved the same way."""

    format: Literal["JPEG", "WEBP"] = Field("JPEG", description="the upload's lossy format")
    jpeg_quality: int | None = Field(
        default=None,
        description="a JPEG's estimated quality (null for WebP, which records none)",
    )
    measured_quality: int | None = Field(
        default=None,
        description=(
            "the quality the model's test pictures were re-saved at in that format and "
            "scored: for a JPEG the nearest measured, for a WebP the mildest (null: the "
            "model was never tested on such copies)"
        ),
    )
    detection_rate: float | None = Field(
        default=None, description="share of AI-generated test pictures found at that quality"
    )
    uncompressed_detection_rate: float | None = Field(
        default=None, description="the same share on the test pictures before re-saving"
    )
    roc_auc: float | None = Field(default=None, description="ROC-AUC at that quality")
    real_supported: bool = Field(
        description=(
            "False when compression at about this quality cost the model more than half of "
            "its detections: a low score then does not show the picture is real, and a pixel "
            "verdict 'real' is reported as 'uncertain' (rule lossy_compression)"
        )
    )
    summary: str = Field(description="the same, in words for people")


class Decision(BaseModel):
    """How the verdict was reached: thresholds and the rule that applied."""

    threshold: float
    uncertain_band: tuple[float, float]
    pixel_verdict: PixelVerdict
    rule: str = Field(
        description=(
            "Which rule decided the final verdict: pixel_model, strong_ai_provenance, "
            "strong_real_provenance, moderate_ai_provenance, lossy_compression (a low score "
            "on a JPEG or lossy WebP compressed harder than the model can see through: "
            "uncertain, not real), or out_of_scope_<reason> (too_small, "
            "extreme_aspect_ratio, flat, synthetic_graphic, smooth_gradient, noise) when the "
            "picture is outside what any pixel model can judge"
        )
    )
    compression: Compression | None = Field(
        default=None,
        description=(
            "For a JPEG or lossy WebP upload: how well the model finds AI pictures "
            "compressed about as hard, from its robustness measurements; null for "
            "lossless formats"
        ),
    )
    out_of_scope_reason: str | None = Field(
        default=None,
        description=(
            "Why the picture cannot be judged by the pixel model, in words (set whenever "
            "the scope check fails, also when strong AI provenance decided the verdict)"
        ),
    )
    conflicting_evidence: bool = Field(
        default=False,
        description=(
            "True when moderate or strong provenance evidence points the other way from the "
            "pixel model (for example EXIF naming a generator on pixels that look like a "
            "camera photo): the answer should say so, whichever way the verdict went"
        ),
    )


class DetectionResult(BaseModel):
    verdict: Verdict = Field(
        description=(
            "ai_generated, real, uncertain, or out_of_scope: a picture no pixel model can "
            "judge (too small, flat, a gradient, a drawing/chart/text, pure noise); "
            "ai_probability is still reported but means little then"
        )
    )
    ai_probability: float = Field(ge=0.0, le=1.0, description="P(image is AI-generated)")
    model: ModelRef
    models: list[ModelScore] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    decision: Decision
    image: ImageInfo
    elapsed_ms: float
    heatmap: str | None = Field(
        default=None,
        description=(
            "PNG data URL of per-region scores, when heatmap=true: blue = looks like a "
            "camera photo, red = looks AI-generated, more opaque = more certain"
        ),
    )
    heatmap_summary: str | None = Field(
        default=None,
        description="Which part of the picture scored highest and lowest, in words",
    )


class ErrorBody(BaseModel):
    detail: str
    code: str


class BatchItem(BaseModel):
    """One entry of a batch answer: a result, or an error for that file only."""

    filename: str | None = None
    ok: bool
    result: DetectionResult | None = None
    error: ErrorBody | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem]


class LegacyRequest(BaseModel):
    bytes_data: str = Field(description="Base64-encoded image bytes (the seed's contract)")


class LegacyResponse(BaseModel):
    result_resnet: int = Field(
        description="1 if the image is real, 0 if AI-generated (seed's labels)"
    )
    proba_resnet: float = Field(description="Probability that the image is REAL")


# --- GET /api/v1/models -----------------------------------------------------------------------
class InputInfo(BaseModel):
    policy: str
    size: int


class MemberInfo(BaseModel):
    name: str
    weight: float


class ModelInfo(BaseModel):
    name: str
    architecture: str
    version: str
    description: str
    default: bool
    input: InputInfo | None
    threshold: float
    uncertain_band: tuple[float, float]
    metrics: dict[str, Any]
    metrics_n: int | None = Field(
        None, description="How many test images the metrics were measured on"
    )
    training_data: dict[str, Any] | None
    scope: ModelScope | None = Field(
        None,
        description=(
            "Generator families the model was trained on and tested on as held out; "
            "null when its training data is not described"
        ),
    )
    members: list[MemberInfo] | None = None


class Limits(BaseModel):  # what the server enforces (imaging.DecodeLimits + batch size)
    max_bytes: int
    max_pixels: int
    max_batch_files: int
    accepted_types: list[str]


class ModelsResponse(BaseModel):
    default_model: str | None
    models: list[ModelInfo]
    limits: Limits
