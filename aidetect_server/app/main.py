"""The FastAPI application factory.

``create_app()`` builds the app; models load once in ``lifespan`` (never at import
time) into the typed ``AppState`` (``app.state.aidetect``, ``state.py``). Uvicorn runs it
with ``factory=True`` (``aidetect serve`` does this).
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

import aidetect
from aidetect.inference import Detector
from aidetect.settings import Settings, get_settings
from aidetect_server.app.api.errors import error_response, install_error_handlers
from aidetect_server.app.api.routes import detect, health, legacy, models
from aidetect_server.app.budget import (
    MB,
    BudgetMiddleware,
    MemoryBudget,
    default_budget_bytes,
    limit_malloc_arenas,
)
from aidetect_server.app.runner import InferenceRunner
from aidetect_server.app.state import AppState, app_state
from aidetect_server.app.uploads import body_limit

log = logging.getLogger("aidetect.api")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The page loads nothing from other hosts, and neither does /docs: Swagger UI 5's files are
# served from the swagger-ui-py package at /docs-assets (only its inline start-up script
# needs 'unsafe-inline', so /docs gets a CSP of its own).
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def build_detector(settings: Settings) -> Detector:
    return Detector.from_settings(settings)


def load_models(app: FastAPI, settings: Settings) -> None:
    """Load every model (blocking); record readiness and the reason when not ready."""
    state = app_state(app)
    try:
        detector = build_detector(settings)
        names = detector.registry.names()
        if not names:
            raise RuntimeError(f"no model in {settings.models_dir}")
        loaded = detector.load_all()
        detector.resolve(None)  # the default model must exist
        if detector.legacy_model:
            detector.resolve(detector.legacy_model)  # and the one POST / answers with
        detector.warm_up()  # trace the inference functions now, not on the first request
        state.mark_ready(detector, list(loaded))
        log.info(
            "ready: %d model(s) loaded, default %s; memory budget %d MB",
            len(loaded),
            detector.default_model,
            state.budget.total // MB,
        )
    except Exception as exc:  # report, stay alive for /healthz, answer 503 elsewhere
        state.mark_failed(f"Models could not be loaded: {exc}")
        log.error(state.not_ready_reason)


def create_app(settings: Settings | None = None, *, load: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if load:
            await anyio.to_thread.run_sync(load_models, app, settings)
        yield

    app = FastAPI(
        title="aidetect",
        version=aidetect.__version__,
        summary="Tell AI-generated images from camera photographs.",
        description=(
            "Upload an image; get a verdict (ai_generated, real or uncertain), the "
            "probability that it is AI-generated, per-model scores and provenance "
            "evidence. Labels: 1 = AI-generated everywhere except the seed's legacy `POST /`."
        ),
        lifespan=lifespan,
        docs_url=None,  # served below from the package's assets, never a CDN
        redoc_url=None,
    )
    limit_malloc_arenas()  # freed image memory must be reusable by every worker thread
    budget = MemoryBudget(
        settings.memory_budget_mb * MB
        if settings.memory_budget_mb
        else default_budget_bytes(workers=settings.workers),
        wait_s=settings.memory_wait_s,
        max_waiting=settings.max_concurrency * 4,
    )
    app.state.aidetect = AppState(
        settings=settings,
        runner=InferenceRunner(settings.max_concurrency, settings.request_timeout_s),
        budget=budget,
    )

    install_error_handlers(app)
    # innermost of the middlewares: rate limiting and CORS refuse before memory is reserved
    app.add_middleware(
        BudgetMiddleware, budget=budget, body_limit=lambda path: body_limit(settings, path)
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )
    install_rate_limit(app, settings.rate_limit_per_minute)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        csp = DOCS_CSP if request.url.path == "/docs" else PAGE_CSP
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.include_router(health.router)
    app.include_router(models.router)
    app.include_router(detect.router)
    app.include_router(legacy.router)
    mount_docs(app)
    mount_frontend(app, settings.frontend_dist)
    return app


def swagger_ui_assets() -> Path:
    """The static Swagger UI 5 files shipped inside the pinned ``swagger-ui-py`` package.

    Only the files are used (found without importing the package): Swagger UI 5 reads
    the OpenAPI 3.1 FastAPI writes, which the 4.x of ``swagger-ui-bundle`` cannot.
    """
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: pip install -e . installs it")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def mount_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` with its assets served from the package: no CDN, works offline."""
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_assets()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


class PageFiles(StaticFiles):
    """The built page; a request for an API path never falls through to it.

    ``GET /api/v1/detect`` answers 405 (the route exists for POST), any other
    unknown ``/api/...`` path 404, both as JSON: without this the page's mount at
    ``/`` would answer them with a file-not-found.
    """

    def __init__(self, app: FastAPI, **kwargs) -> None:
        super().__init__(**kwargs)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(("/api/", "/healthz", "/readyz")):
            routes = [r for r in self.app.router.routes if not isinstance(r, Mount)]
            allowed = [
                method
                for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
                if any(r.matches({**scope, "method": method})[0] == Match.FULL for r in routes)
            ]
            if allowed:
                raise StarletteHTTPException(405, headers={"Allow": ", ".join(allowed)})
            raise StarletteHTTPException(404)
        await super().__call__(scope, receive, send)


def install_rate_limit(app: FastAPI, per_minute: int) -> None:
    """Optional per-client sliding-window limit on the API (429 past it)."""
    if per_minute <= 0:
        return
    hits: dict[str, deque[float]] = defaultdict(deque)

    @app.middleware("http")
    async def rate_limit(request: Request, call_next):
        if request.method == "POST":
            client = request.client.host if request.client else "unknown"
            now = time.monotonic()
            window = hits[client]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= per_minute:
                return error_response(
                    429, "rate_limited", "Too many requests; slow down.", {"Retry-After": "60"}
                )
            window.append(now)
            if len(hits) > 10_000:  # bound memory under many clients
                for key in [k for k, w in hits.items() if not w or now - w[-1] > 60]:
                    del hits[key]
        return await call_next(request)


def mount_frontend(app: FastAPI, dist: Path) -> None:
    """Serve the built page at ``/`` (``GET``); ``POST /`` stays the legacy endpoint."""
    index = dist / "index.html"
    if index.is_file():
        app.mount("/", PageFiles(app, directory=dist, html=True), name="frontend")
        return

    @app.get("/", include_in_schema=False)
    async def no_frontend() -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><title>aidetect</title><h1>aidetect API</h1>"
            "<p>The web page is not built (run <code>scripts/run</code>, which builds it). "
            'The API is up: see <a href="/docs">/docs</a>.</p>'
        )
