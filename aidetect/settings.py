"""One typed settings object, read from ``AIDETECT_*`` environment variables.

Used by the backend, the CLI and the scripts alike; documented in README.md
("Settings"). Unknown ``AIDETECT_*`` variables are ignored.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIDETECT_", extra="ignore")

    # models
    models_dir: Path = Field(REPO_ROOT / "models", description="Folder of model artifacts")
    default_model: str | None = Field(
        None, description="Model served when a request names none (default: metadata 'default')"
    )
    legacy_model: str | None = Field(
        None, description="Model behind the seed's POST / (default: the resnet50 model)"
    )
    provenance: bool = Field(True, description="Read provenance evidence (C2PA, XMP, ...)")
    c2pa_trust_anchors: Path | None = Field(
        None, description="PEM file of C2PA signers to trust (camera claims count as strong)"
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Override every model's decision threshold"
    )

    # input limits
    max_bytes: int = Field(20 * 1024 * 1024, gt=0, description="Largest upload per image")
    max_pixels: int = Field(50_000_000, gt=0, description="Largest image, width x height")
    max_batch_files: int = Field(32, gt=0, description="Most files in one batch request")

    # service
    host: str = Field(
        "127.0.0.1", description="Bind address (0.0.0.0 to listen on every interface)"
    )
    port: int = Field(8000, ge=1, le=65535, description="Port (scripts/run also reads PORT)")
    workers: int = Field(1, ge=1, description="Uvicorn worker processes")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins; empty = same origin only"
    )
    frontend_dist: Path = Field(REPO_ROOT / "frontend" / "dist", description="Built web page")
    max_concurrency: int = Field(
        8, ge=1, description="Requests inferring at once; more waiting than 4x this get 503"
    )
    request_timeout_s: float = Field(60.0, gt=0, description="Per-request inference timeout")
    memory_budget_mb: int | None = Field(
        None,
        ge=64,
        description="Upload bytes in flight plus decoded pixels the server holds at once, in MB "
        "(default: 40% of the machine's or container's memory over the workers, 512 MB to 4 GB)",
    )
    memory_wait_s: float = Field(
        10.0, ge=0, description="How long a request waits for memory before 503 overloaded"
    )
    rate_limit_per_minute: int = Field(0, ge=0, description="Per-client requests/min; 0 = off")
    decode_threads: int = Field(
        0, ge=0, description="Threads decoding images in the CLI's batches; 0 = cores (at most 8)"
    )
    log_level: str = Field("info", description="Uvicorn log level: debug, info, warning, error")
    # slow and surplus clients (aidetect_server/protocol.py; docs/reliability.md)
    header_timeout_s: float = Field(
        5.0, gt=0, description="Seconds a request's header may take to arrive; then 408"
    )
    body_timeout_s: float = Field(
        30.0, gt=0, description="Seconds a request body may make no progress; then 408"
    )
    max_connections: int = Field(
        256, ge=1, description="Open connections per worker; past it a new one gets 503"
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value


def read_trust_anchors(settings: Settings) -> str | None:
    """The C2PA trust anchors named by the settings, read once at start-up (None if unset)."""
    if settings.c2pa_trust_anchors is None:
        return None
    return settings.c2pa_trust_anchors.read_text("ascii", "replace")


@lru_cache
def get_settings() -> Settings:
    return Settings()
