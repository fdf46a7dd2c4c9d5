"""``GET /api/v1/models``: what is served, with headline metrics and limits."""

from __future__ import annotations

from fastapi import APIRouter

from aidetect.imaging import ACCEPTED_MIME_TYPES
from aidetect.registry import ModelMetadata
from aidetect.results import InputInfo, Limits, MemberInfo, ModelInfo, ModelsResponse
from aidetect_server.app.api.deps import DetectorDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["models"])


def model_info(
    meta: ModelMetadata, default: str | None, decision: tuple[float, tuple[float, float]]
) -> ModelInfo:
    """``decision``: ``Detector.decision`` (the threshold and band verdicts are made with)."""
    t, band = decision
    return ModelInfo(
        name=meta.name,
        architecture=meta.architecture,
        version=meta.version,
        description=meta.description,
        default=meta.name == default,
        input=InputInfo(policy=meta.input.policy, size=meta.input.size) if meta.input else None,
        threshold=t,
        uncertain_band=band,
        metrics=meta.headline_metrics(),
        metrics_n=meta.metrics_sample_size(),
        training_data=meta.training_data,
        scope=meta.scope,
        members=[MemberInfo(name=m.name, weight=m.weight) for m in meta.members]
        if meta.members
        else None,
    )


@router.get("/models", response_model=ModelsResponse, summary="The models this server answers with")
async def list_models(detector: DetectorDep, settings: SettingsDep) -> ModelsResponse:
    loaded = detector.registry.load_all().values()
    return ModelsResponse(
        default_model=detector.default_model,
        models=[
            model_info(m.metadata, detector.default_model, detector.decision(m)) for m in loaded
        ],
        limits=Limits(
            max_bytes=settings.max_bytes,
            max_pixels=settings.max_pixels,
            max_batch_files=settings.max_batch_files,
            accepted_types=list(ACCEPTED_MIME_TYPES),
        ),
    )
