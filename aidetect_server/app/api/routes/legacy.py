"""The seed's ``POST /``, kept for its existing clients.

Body ``{"bytes_data": "<base64>"}``; answer ``{"result_resnet": 1 if real else 0,
"proba_resnet": P(real)}``: the seed's label convention (1 = real), unlike the
rest of the API. It answers with ``AIDETECT_LEGACY_MODEL``, else the model marked
``legacy``, else a ResNet50 model, else the default model: resolved once, when the
models load (``Detector.legacy_model``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from aidetect.results import ErrorBody, LegacyResponse
from aidetect_server.app.api.deps import DetectorDep, RunnerDep, SettingsDep
from aidetect_server.app.api.routes.detect import analyse, json_field, unless_disconnected

router = APIRouter(tags=["legacy"])

LEGACY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["bytes_data"],
                    "properties": {"bytes_data": {"type": "string", "description": "base64 image"}},
                }
            }
        },
    }
}


@router.post(
    "/",
    response_model=LegacyResponse,
    openapi_extra=LEGACY_BODY,
    responses={
        400: {"model": ErrorBody},
        413: {"model": ErrorBody},
        415: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
    summary="The seed's endpoint (1 = real, probability of real)",
)
async def legacy_predict(
    request: Request, detector: DetectorDep, runner: RunnerDep, settings: SettingsDep
) -> LegacyResponse:
    runner.check_capacity()
    data = await json_field(request, "bytes_data", settings)
    model = detector.legacy_model  # None: the default model
    result = await unless_disconnected(
        request,
        lambda: analyse(request, runner, detector, data, lambda d: detector.detect(d, model)),
    )
    threshold = result.decision.threshold
    return LegacyResponse(
        result_resnet=0 if result.ai_probability >= threshold else 1,
        proba_resnet=1.0 - result.ai_probability,
    )
