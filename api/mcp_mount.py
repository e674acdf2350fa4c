"""The MCP tool server at ``/mcp`` (streamable HTTP), beside the REST API.

Stateless: every request stands alone (no ``Mcp-Session-Id`` to pin), so any worker or replica
behind a load balancer can answer it, and replies are plain JSON, not event streams. The tools
grade through the app's batcher, like ``/v1/grade``, and ``GRADER_API_KEYS`` guards ``/mcp``
as it guards ``/v1``. Without the ``mcp`` extra the app serves everything else, and says so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.deps import require_api_key
from api.errors import ApiError, ErrorBody, count_error, error_response
from api.settings import ApiSettings
from grader.errors import GraderError, MissingExtraError
from grader.grading import GradeItem, Grader
from grader.mcp_server import Outcome, create_mcp_server

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

logger = logging.getLogger("grader.api")

MCP_PATH = "/mcp"


class AppBackend:
    """The app's grader and batcher, once the lifespan has loaded them."""

    def __init__(self, app: FastAPI) -> None:
        self._state = app.state

    async def get_grader(self) -> Grader:
        grader: Grader | None = self._state.grader
        if grader is None:
            raise GraderError("The grader is still loading; retry shortly.")
        return grader

    async def grade(self, items: Sequence[GradeItem]) -> list[Outcome]:
        batcher = self._state.batcher
        if batcher is None or not batcher.running:
            raise GraderError("The grader is not running; retry shortly.")
        outcomes: list[Outcome] = await batcher.grade(items)
        self._state.metrics.record_results(outcomes)
        return outcomes

    async def preload(self) -> None:
        return None  # the app's lifespan loads the grader


class McpEndpoint:
    """The ASGI endpoint at ``/mcp``: the API key check, then the MCP session manager that the
    app's lifespan runs (a mounted app's own lifespan never would)."""

    def __init__(self, server: MCPServer[Any], api_settings: ApiSettings) -> None:
        self._server = server
        self._api_settings = api_settings
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run a fresh session manager (one can run only once) while the app runs."""
        from mcp.server.transport_security import TransportSecuritySettings

        # The SDK's Host/Origin check assumes a server bound to localhost; behind a load
        # balancer the Host is the public name. /mcp is guarded like /v1 is: by API keys.
        self._server.streamable_http_app(
            streamable_http_path=MCP_PATH, stateless_http=True, json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        manager = self._server.session_manager
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self._api_settings.auth_enabled:
                await require_api_key(self._api_settings, _bearer(scope))
            if self._manager is None:
                raise ApiError(503, "not_ready", "The MCP endpoint is not running; retry shortly.")
        except ApiError as error:
            count_error(scope.get("app"), error.code)
            response = error_response(error.status, ErrorBody(
                code=error.code, message=error.message, details=error.details), error.headers)
            await response(scope, receive, send)
            return
        await self._manager.handle_request(scope, receive, send)


def _bearer(scope: Scope) -> HTTPAuthorizationCredentials | None:
    """The ``Authorization: Bearer`` credentials, as FastAPI's ``HTTPBearer`` reads them."""
    scheme, token = get_authorization_scheme_param(Headers(scope=scope).get("authorization"))
    if scheme.lower() != "bearer" or not token:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token)


def mount_mcp(app: FastAPI, api_settings: ApiSettings
              ) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Add ``/mcp`` to ``app``; return what its lifespan must enter each time it runs. Without
    the ``mcp`` extra, log how to get it and add nothing."""
    try:
        server = create_mcp_server(AppBackend(app))
    except MissingExtraError as error:
        logger.warning("no /mcp endpoint: %s", error)
        return nullcontext
    endpoint = McpEndpoint(server, api_settings)
    app.router.routes.append(Route(MCP_PATH, endpoint=endpoint, include_in_schema=False))
    return endpoint.running
