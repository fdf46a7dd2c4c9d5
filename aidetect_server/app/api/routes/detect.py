"""``POST /api/v1/detect`` and ``POST /api/v1/detect/batch``."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import APIRouter, Query, Request

from aidetect.errors import (
    AIDetectError,
    BadBase64Error,
    EmptyInputError,
    RequestTimeoutError,
    TooManyBytesError,
)
from aidetect.imaging import working_bytes
from aidetect.inference import Detector
from aidetect.registry import validate_name
from aidetect.results import BatchItem, BatchResponse, DetectionResult, ErrorBody
from aidetect.settings import Settings
from aidetect_server.app.api.deps import DetectorDep, RunnerDep, SettingsDep
from aidetect_server.app.budget import WorkHold, reservation
from aidetect_server.app.runner import InferenceRunner
from aidetect_server.app.uploads import (
    BATCH_PATH,
    MalformedRequestError,
    Part,
    batch_body_limit,
    image_body_limit,
    read_body,
    read_multipart,
)

T = TypeVar("T")
log = logging.getLogger("aidetect.api")

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


async def json_field(request: Request, field: str, settings: Settings) -> bytes:
    """One base64 field of a JSON body, the body bounded to the base64 size of ``max_bytes``."""
    body = await read_body(request, limit=image_body_limit(settings, "json"))
    parsing = 2 * len(body)  # the parsed text and the decoded bytes, beside the body
    memory = reservation(request)
    await memory.grow(parsing, "This upload")
    try:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedRequestError(f"The body is not valid JSON: {exc}") from exc
        del body
        if not isinstance(payload, dict) or field not in payload:
            raise MalformedRequestError(f'Expected a JSON object with a "{field}" field.')
        data = decode_base64(payload[field])
        del payload
    finally:
        memory.shrink(parsing)
    if len(data) > settings.max_bytes:
        raise TooManyBytesError(
            f"The image has {len(data):,} bytes; the limit is {settings.max_bytes:,}."
        )
    return data


def check_model(model: str | None) -> str | None:
    return validate_name(model) if model is not None else None


async def analyse(
    request: Request,
    runner: InferenceRunner,
    detector: Detector,
    data: bytes,
    work: Callable[[bytes], T],
) -> T:
    """``work(data)`` in a worker thread, with the image's working memory reserved first.

    The memory (from the header: ``aidetect.imaging.working_bytes``) is given back
    when the work really ends, even if the request stopped waiting for it.
    """
    memory = reservation(request)
    need = working_bytes(data, detector.limits)
    await memory.grow(need, "Decoding this image")
    hold = WorkHold(memory, need)

    def run() -> T:
        hold.started = True
        try:
            return work(data)
        finally:
            hold.release_from_thread()

    try:
        return await runner.run(run)
    finally:
        if not hold.started:
            hold.release()


async def unless_disconnected(request: Request, work: Callable[[], Awaitable[T]]) -> T:
    """``work()``, abandoned as soon as the client disconnects (the body has been read:
    the next message the server can receive is the disconnect)."""
    outcome: list[T] = []

    async def watch(scope: anyio.CancelScope) -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(watch, tg.cancel_scope)
            outcome.append(await work())
            tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:  # the work's own error (the watcher raises none)
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    if not outcome:
        raise MalformedRequestError("The client disconnected before the answer was ready.")
    return outcome[0]


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
        data = await json_field(request, "image", settings)
    elif ctype == "multipart/form-data":
        parts = await read_multipart(
            request,
            part_limit=settings.max_bytes,
            total_limit=image_body_limit(settings, "multipart"),
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
        del parts, files  # one copy of the image's bytes from here on
    else:
        raise MalformedRequestError(
            "Send multipart/form-data with a 'file' field, or JSON {\"image\": base64}."
        )
    return await unless_disconnected(
        request,
        lambda: analyse(
            request, runner, detector, data, lambda d: detector.detect(d, model, heatmap=heatmap)
        ),
    )


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
    BATCH_PATH.removeprefix("/api/v1"),
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
        total_limit=batch_body_limit(settings),
        max_files=settings.max_batch_files,
    )
    files = [p for p in parts if p.name == "files"]
    if not files:
        raise MalformedRequestError('Expected one or more multipart fields named "files".')
    detector.resolve(model)  # an unknown model fails the request, not each file
    memory = reservation(request)
    memory.shrink(memory.held - sum(len(p.data) for p in files))  # boundaries, other fields

    async def score_all() -> list[BatchItem]:
        """One file at a time, each file's bytes given back once it is scored: the
        batch's peak is its files plus one decoded image, not every image at once."""
        items: list[BatchItem] = []
        try:
            for part in files:
                items.append(await score_part(part))
        except anyio.get_cancelled_exc_class():
            log.info(
                "batch stopped after %d of %d files (client gone or timed out)",
                len(items),
                len(files),
            )
            raise
        return items

    async def score_part(part: Part) -> BatchItem:
        data, part.data = bytes(part.data), bytearray()
        try:
            if part.too_large:
                raise TooManyBytesError(
                    f"The file has {part.size:,} bytes; the limit is {settings.max_bytes:,}."
                )
            score = lambda d: detector.detect(d, model)  # noqa: E731
            res = await analyse(request, runner, detector, data, score)
            return BatchItem(filename=part.filename, ok=True, result=res)
        except RequestTimeoutError:
            raise
        except AIDetectError as err:
            error = ErrorBody(detail=err.detail, code=err.code)
            return BatchItem(filename=part.filename, ok=False, error=error)
        finally:
            memory.shrink(len(data))
            del data

    async def within_timeout() -> list[BatchItem]:
        try:
            with anyio.fail_after(settings.request_timeout_s):
                return await score_all()
        except TimeoutError as exc:
            raise RequestTimeoutError(
                f"The batch took longer than {settings.request_timeout_s:g} s to analyse."
            ) from exc

    return BatchResponse(results=await unless_disconnected(request, within_timeout))
