"""Typed errors of the core library.

Every failure a user can cause maps to one class here, with a stable machine
``code`` and the HTTP status the API answers with. The backend turns any
``AIDetectError`` into ``{"detail": ..., "code": ...}``; the CLI prints the same
code per file.
"""

from __future__ import annotations


class AIDetectError(Exception):
    code: str = "internal_error"
    status: int = 500

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


# --- input errors -----------------------------------------------------------------------------
class EmptyInputError(AIDetectError):
    code = "empty_input"
    status = 400


class BadBase64Error(AIDetectError):
    code = "bad_base64"
    status = 400


class UnsupportedImageTypeError(AIDetectError):
    """The bytes are not an image format we accept (text, PDF, SVG, ...)."""

    code = "unsupported_media_type"
    status = 415


class UndecodableImageError(AIDetectError):
    """Looks like a supported image, but it is truncated or corrupt."""

    code = "undecodable_image"
    status = 400


class FileNotFoundInputError(AIDetectError):
    """A path given to the CLI that does not exist."""

    code = "file_not_found"
    status = 400


class UnreadableFileError(AIDetectError):
    """A path that exists but cannot be read (permissions, a folder, an I/O error)."""

    code = "unreadable_file"
    status = 400


class TooManyBytesError(AIDetectError):
    code = "too_many_bytes"
    status = 413


class TooManyPixelsError(AIDetectError):
    code = "too_many_pixels"
    status = 413


class TooManyFilesError(AIDetectError):
    code = "too_many_files"
    status = 413


# --- model errors -----------------------------------------------------------------------------
class InvalidModelNameError(AIDetectError):
    """A model name that could be read as a path (``../x``, ``a/b``) or has odd characters."""

    code = "invalid_model_name"
    status = 422


class UnknownModelError(AIDetectError):
    code = "unknown_model"
    status = 404


class ArtifactError(AIDetectError):
    """A model folder that cannot be used: missing file, bad metadata, unsupported format."""

    code = "artifact_invalid"
    status = 500


class IntegrityError(ArtifactError):
    """The model file's SHA-256 does not match its metadata: refuse to load it."""

    code = "artifact_hash_mismatch"


# --- service errors ---------------------------------------------------------------------------
class NotReadyError(AIDetectError):
    code = "not_ready"
    status = 503


class OverloadedError(AIDetectError):
    code = "overloaded"
    status = 503


class RateLimitedError(AIDetectError):
    code = "rate_limited"
    status = 429


class RequestTimeoutError(AIDetectError):
    code = "timeout"
    status = 503


class ClientTimeoutError(AIDetectError):
    """The client was too slow: its header or body did not arrive in time (a slow client)."""

    code = "request_timeout"
    status = 408


# --- tooling errors ---------------------------------------------------------------------------
class MissingExtraError(AIDetectError):
    """A command needs an optional dependency (a pyproject extra) that is not installed."""

    code = "missing_extra"
    status = 501
