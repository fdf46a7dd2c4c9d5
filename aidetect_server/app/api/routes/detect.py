"""``POST /api/v1/detect`` and ``POST /api/v1/detect/batch``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request

from aidetect.errors import (
    AIDetectError,
    BadBase64Error,
    EmptyInputError,
    TooManyBytesError,
)
from aidetect.registry import validate_name
from aidetect.results import BatchItem, BatchResponse, DetectionResult, ErrorBody
from aidetect_server.app.api.deps import DetectorDep, RunnerDep, SettingsDep
from aidetect_server.app.uploads import MalformedRequestError, read_body, read_multipart

router = APIRouter(prefix="/api/v1", tags=["detection"])

ERRORS = {
    400: {"model": ErrorBody, "description": "Empty, not decodable, or bad base64"},
    404: {"model": ErrorBody, "description": "No model of that name"},
    413: {"model": ErrorBody, "description": "Too many bytes, pixels or files"},
    415: {"model": ErrorBody, "description": "Not a supported image type"},
    422: {"model": ErrorBody, "description": "Malformed request or invalid model name"},
    503: {"model": ErrorBody, "description": "Not ready, overloaded or timed out"},
}

ModelQuery = Annotated[
    str | None,
    Query(description="Model name from GET /api/v1/models (default: the served default)"),
]
DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;[\w=.+-]+)*;base64,", re.IGNORECASE)
MULTIPART_OVERHEAD = 64 * 1024


def decode_base64(text: str) -> bytes:
    """Plain base64 or a ``data:`` URL to bytes; whitespace tolerated, anything else refused."""
    if not isinstance(text, str):
        raise BadBase64Error("The image must be a base64 string.")
    text = DATA_URL.sub("", text.strip(), count=1)
    text = "".join(text.split())
    if not text:
        raise EmptyInputError("The image field is empty.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadBase64Error(f"The image is not valid base64: {exc}") from exc


async def json_field(request: Request, field: str, max_bytes: int) -> bytes:
    """One base64 field of a JSON body, the body bounded to the base64 size of ``max_bytes``."""
    body = await read_body(request, limit=max_bytes * 4 // 3 + MULTIPART_OVERHEAD)
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedRequestError(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict) or field not in payload:
        raise MalformedRequestError(f'Expected a JSON object with a "{field}" field.')
    data = decode_base64(payload[field])
    if len(data) > max_bytes:
        raise TooManyBytesError(f"The image has {len(data):,} bytes; the limit is {max_bytes:,}.")
    return data


def check_model(model: str | None) -> str | None:
    return validate_name(model) if model is not None else None


DETECT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string", "description": "base64 or a data: URL"}
                    },
                }
            },
        },
    }
}


@router.post(
    "/detect",
    response_model=DetectionResult,
    responses=ERRORS,
    openapi_extra=DETECT_BODY,
    summary="Is this one image AI-generated?",
)
async def detect(
    request: Request,
    detector: DetectorDep,
    runner: RunnerDep,
    settings: SettingsDep,
    model: ModelQuery = None,
    heatmap: Annotated[bool, Query(description="Return per-region scores as a PNG")] = False,
) -> DetectionResult:
    model = check_model(model)
    runner.check_capacity()  # refuse before reading up to max_bytes of body
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        data = await json_field(request, "image", settings.max_bytes)
    elif ctype == "multipart/form-data":
        parts = await read_multipart(
            request,
            part_limit=settings.max_bytes,
            total_limit=settings.max_bytes + MULTIPART_OVERHEAD,
            max_files=1,
        )
        files = [p for p in parts if p.name == "file"]
        if not files:
            raise MalformedRequestError('Expected a multipart field named "file".')
        if files[0].too_large:
            raise TooManyBytesError(
                f"The file has {files[0].size:,} bytes; the limit is {settings.max_bytes:,}."
            )
        data = bytes(files[0].data)
    else:
        raise MalformedRequestError(
            "Send multipart/form-data with a 'file' field, or JSON {\"image\": base64}."
        )
    return await runner.run(lambda: detector.detect(data, model, heatmap=heatmap))


BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            }
        },
    }
}


@router.post(
    "/detect/batch",
    response_model=BatchResponse,
    responses=ERRORS,
    openapi_extra=BATCH_BODY,
    summary="Many images in one request; a bad file gets its own error entry",
)
async def detect_batch(
    request: Request,
    detector: DetectorDep,
    runner: RunnerDep,
    settings: SettingsDep,
    model: ModelQuery = None,
) -> BatchResponse:
    model = check_model(model)
    runner.check_capacity()
    parts = await read_multipart(
        request,
        part_limit=settings.max_bytes,
        total_limit=settings.max_batch_files * (settings.max_bytes + 4096) + MULTIPART_OVERHEAD,
        max_files=settings.max_batch_files,
    )
    files = [p for p in parts if p.name == "files"]
    if not files:
        raise MalformedRequestError('Expected one or more multipart fields named "files".')
    detector.resolve(model)  # an unknown model fails the request, not each file
    items: list[BatchItem | None] = [None] * len(files)
    todo: list[tuple[int, bytes]] = []
    for i, part in enumerate(files):
        if part.too_large:
            err = TooManyBytesError(
                f"The file has {part.size:,} bytes; the limit is {settings.max_bytes:,}."
            )
            items[i] = BatchItem(
                filename=part.filename, ok=False, error=ErrorBody(detail=err.detail, code=err.code)
            )
        else:
            todo.append((i, bytes(part.data)))
    results = await runner.run(lambda: detector.detect_many([d for _, d in todo], model))
    for (i, _), res in zip(todo, results, strict=True):
        if isinstance(res, AIDetectError):
            items[i] = BatchItem(
                filename=files[i].filename,
                ok=False,
                error=ErrorBody(detail=res.detail, code=res.code),
            )
        else:
            items[i] = BatchItem(filename=files[i].filename, ok=True, result=res)
    return BatchResponse(results=[it for it in items if it is not None])
