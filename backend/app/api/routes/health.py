from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from backend.app.api.errors import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: models are loaded",
    responses={503: {"description": "Not ready", "model": dict}},
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    if getattr(state, "ready", False):
        return JSONResponse({"status": "ready", "models": sorted(state.loaded_models)})
    reason = getattr(state, "not_ready_reason", None) or "Models are loading."
    return error_response(503, "not_ready", reason)
