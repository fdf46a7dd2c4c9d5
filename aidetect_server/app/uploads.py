"""Reading request bodies into memory, bounded while they stream in.

Starlette's form parser spools uploads over 1 MB to temporary files; we promise
that nothing uploaded touches the disk, so bodies are parsed here, in memory,
with python-multipart's streaming parser. Limits are enforced as bytes arrive:
a 2 GB upload is refused after the first few megabytes, not after it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from aidetect.errors import AIDetectError, TooManyBytesError, TooManyFilesError
from aidetect.settings import Settings

#: Room for multipart boundaries and part headers, and JSON's punctuation.
BODY_OVERHEAD = 64 * 1024
BATCH_PATH = "/api/v1/detect/batch"


class MalformedRequestError(AIDetectError):
    code = "malformed_request"
    status = 422


def image_body_limit(settings: Settings, encoding: str) -> int:
    """The largest body one image may come in: ``multipart`` or base64 ``json``."""
    size = settings.max_bytes * 4 // 3 if encoding == "json" else settings.max_bytes
    return size + BODY_OVERHEAD


def batch_body_limit(settings: Settings) -> int:
    return settings.max_batch_files * (settings.max_bytes + 4096) + BODY_OVERHEAD


def body_limit(settings: Settings, path: str) -> int:
    """The largest body any route at ``path`` accepts (what the budget may reserve)."""
    if path.rstrip("/") == BATCH_PATH:
        return batch_body_limit(settings)
    return image_body_limit(settings, "json")


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytearray = field(default_factory=bytearray)
    too_large: bool = False
    size: int = 0


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooManyBytesError(f"The request has {int(declared):,} bytes; the limit is {limit:,}.")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise TooManyBytesError(f"The request is larger than the limit of {limit:,} bytes.")
    except ClientDisconnect as exc:
        raise MalformedRequestError(
            "The client disconnected before sending the whole body."
        ) from exc
    return bytes(body)


async def read_multipart(
    request: Request,
    *,
    part_limit: int,
    total_limit: int,
    max_files: int,
) -> list[Part]:
    """Parse ``multipart/form-data`` in memory.

    A file part over ``part_limit`` is kept as a marker (``too_large``) without its
    bytes, so a batch can answer 413 for that file alone; the whole body is
    refused past ``total_limit``; more than ``max_files`` file parts is a 413.
    """
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise MalformedRequestError("Expected multipart/form-data with a boundary.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > total_limit:
        raise TooManyBytesError(
            f"The request has {int(declared):,} bytes; the limit is {total_limit:,}."
        )

    parts: list[Part] = []
    header_field = bytearray()
    header_value = bytearray()
    headers: dict[str, str] = {}
    current: Part | None = None

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[header_field.decode("latin-1").lower()] = header_value.decode("latin-1")
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        nonlocal current
        _, disp = parse_options_header(headers.get("content-disposition", ""))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        filename = disp.get(b"filename")
        current = Part(
            name=name,
            filename=filename.decode("utf-8", "replace") if filename is not None else None,
            content_type=headers.get("content-type"),
        )
        parts.append(current)
        if sum(1 for p in parts if p.filename is not None) > max_files:
            raise TooManyFilesError(f"At most {max_files} files per request.")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        assert current is not None
        current.size += end - start
        if current.too_large:
            return
        if current.size > part_limit:
            current.too_large = True
            current.data = bytearray()
            return
        current.data.extend(data[start:end])

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > total_limit:
                raise TooManyBytesError(
                    f"The request is larger than the limit of {total_limit:,} bytes."
                )
            parser.write(chunk)
        parser.finalize()
    except ClientDisconnect as exc:
        raise MalformedRequestError(
            "The client disconnected before sending the whole body."
        ) from exc
    except AIDetectError:
        raise
    except Exception as exc:  # python-multipart raises its own errors for broken bodies
        raise MalformedRequestError(f"The multipart body cannot be parsed: {exc}") from exc
    return parts
