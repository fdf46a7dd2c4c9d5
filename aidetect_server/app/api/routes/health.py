from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from aidetect_server.app.api.errors import error_response
from aidetect_server.app.state import app_state

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
    state = app_state(request.app)
    if state.ready:
        return JSONResponse({"status": "ready", "models": sorted(state.loaded_models)})
    return error_response(503, "not_ready", state.not_ready_reason or "Models are loading.")
