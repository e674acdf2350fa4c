"""The FastAPI application factory. Nothing is loaded at import; the model loads in the lifespan.

    uvicorn --factory api.app:create_app        (or: grader serve)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Scope

from api.batcher import GradeBatcher
from api.deps import require_api_key
from api.errors import AUTH_ERRORS, COMMON_ERRORS, register_error_handlers
from api.mcp_mount import mount_mcp
from api.metrics import Metrics
from api.middleware import (
    REQUEST_ID_HEADER,
    BodyLimitMiddleware,
    RequestContextMiddleware,
    ResponseHeaders,
)
from api.routes import grade, health, integrations, questions
from api.settings import ApiSettings, get_api_settings
from grader import __version__
from grader.errors import GraderError
from grader.grading import Grader
from grader.settings import Settings, get_settings

logger = logging.getLogger("grader.api")

#: Issue 7's practice page lives here; it is served at "/" when the folder exists.
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Where the docs pages' scripts and styles are served from.
DOCS_ASSETS = "/docs/assets"

#: Sent with the practice page's files: its own scripts, styles and API only, never in a frame.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}

DESCRIPTION = """\
Grades free-text answers to deep-learning interview questions and explains the grade.

Every error has the shape `{"error": {"code", "message", "details"}}`, where `details` is always
an object (`{}` when empty; a list of what was wrong is `details.problems`). Send bodies as
JSON (`Content-Type: application/json`); anything else is a 415. When `GRADER_API_KEYS`
is set, every `/v1` route needs `Authorization: Bearer <key>`. Every response carries an
`X-Request-ID` header (the client's own, when it sends a sane one).

The same grading is served to agent hosts as MCP tools at `/mcp` (streamable HTTP, stateless;
guarded by the same keys) and to promptfoo at `POST /v1/integrations/promptfoo`.
"""


class _StaticMount(Mount):
    """Static files at "/" that never shadow an API route: ``GET /v1/grade`` stays a 405 naming
    POST (a mount at "/" would otherwise claim every path), and only GET and HEAD are served."""

    def __init__(self, path: str, app: ASGIApp, *, name: str, api_routes: list[BaseRoute]
                 ) -> None:
        super().__init__(path, app=app, name=name)
        self._api_routes = api_routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("method") not in ("GET", "HEAD") or any(
            route.matches(scope)[0] is not Match.NONE for route in self._api_routes
        ):
            return Match.NONE, {}
        return super().matches(scope)


def create_app(grader: Grader | None = None, *, settings: Settings | None = None,
               api_settings: ApiSettings | None = None) -> FastAPI:
    """Build the app. Pass a ``grader`` to skip loading the default one (tests do)."""
    api_settings = api_settings or get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            loaded: Grader = grader if grader is not None else await anyio.to_thread.run_sync(
                Grader.from_settings, settings or get_settings())
            await anyio.to_thread.run_sync(loaded.warm_up)
        except GraderError as error:  # said plainly, before uvicorn's traceback
            logger.error("start-up failed: %s", error)
            raise
        batcher = GradeBatcher(loaded,
                               max_batch_size=api_settings.batcher_max_batch_size,
                               max_wait_ms=api_settings.batcher_max_wait_ms,
                               llm_concurrency=api_settings.llm_concurrency,
                               llm_deadline_s=api_settings.llm_deadline_s,
                               on_batch=lambda size: app.state.metrics.batch_size.observe(size))
        async with batcher, mcp_running():
            app.state.grader, app.state.batcher = loaded, batcher
            logger.info("ready", extra={"questions": len(loaded.bank),
                                        "embedding_model": loaded.embedder.model_name})
            try:
                yield
            finally:
                app.state.grader = app.state.batcher = None

    # /docs and /redoc load Swagger UI and ReDoc from files fastapi-offline ships (served under
    # DOCS_ASSETS), never from a CDN: the docs work with no internet.
    app = FastAPIOffline(title="grader", version=__version__, description=DESCRIPTION,
                         lifespan=lifespan, static_url=DOCS_ASSETS)
    app.state.api_settings = api_settings
    app.state.metrics = Metrics()
    app.state.grader = app.state.batcher = None
    register_error_handlers(app)

    app.include_router(health.router)
    guarded = [Depends(require_api_key)] if api_settings.auth_enabled else []
    errors = {**COMMON_ERRORS, **(AUTH_ERRORS if api_settings.auth_enabled else {})}
    for router in (questions.router, grade.build_router(api_settings.batch_max_items),
                   integrations.router):
        app.include_router(router, dependencies=guarded, responses=errors)
    mcp_running = mount_mcp(app, api_settings)  # /mcp, guarded by the same keys
    # Registered after the API so "/v1/..." and the health routes always win over static files.
    if STATIC_DIR.is_dir():
        pages = ResponseHeaders(StaticFiles(directory=STATIC_DIR, html=True), PAGE_HEADERS)
        app.router.routes.append(
            _StaticMount("/", pages, name="static", api_routes=list(app.router.routes)))

    # Added innermost first: the request id and the metrics wrap everything, CORS included.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=api_settings.max_body_bytes,
                       body_timeout_s=api_settings.body_timeout_s)
    if api_settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=api_settings.cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
                           expose_headers=[REQUEST_ID_HEADER])
    app.add_middleware(RequestContextMiddleware)
    return app

