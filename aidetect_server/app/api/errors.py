"""Every failure answers JSON ``{"detail": ..., "code": ...}`` with a stable code."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from aidetect.errors import AIDetectError

log = logging.getLogger("aidetect.api")

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_many_bytes",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "not_ready",
}


def error_response(
    status: int, code: str, detail: object, headers: dict | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def aidetect_error_response(exc: AIDetectError) -> JSONResponse:
    """An ``AIDetectError`` as its JSON answer; 429 and 503 say when to retry."""
    headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
    return error_response(exc.status, exc.code, exc.detail, headers)


def validation_detail(errors: list[dict]) -> str:
    """One readable sentence per failed field; input values are never echoed back."""
    parts = []
    for e in errors:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path"))
        parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts) + "."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AIDetectError)
    async def _aidetect(_: Request, exc: AIDetectError) -> JSONResponse:
        return aidetect_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", validation_detail(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(
            exc.status_code,
            HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"),
            exc.detail,
            getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the type and route only: never the request body.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(
            500, "internal_error", "Internal error; the request was not processed."
        )
