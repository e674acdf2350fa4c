"""Plain ASGI middleware: request ids, access logs and metrics; body size, encoding and read
deadline; fixed response headers (the practice page's security headers)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ErrorBody, count_error, error_response

logger = logging.getLogger("grader.api")

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _route_template(scope: Scope, before_routing: Scope) -> str:
    """The metrics label of a request: its route's template (``/v1/questions/{question_id}``).

    FastAPI's own routes put themselves in the scope; for any other route or mount (the page's
    static files at "/", the docs' files) the first one that matches the request as it arrived
    names it, a mount by its path. "unmatched" only when nothing matches: the label never holds
    a client's path.
    """
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    router = getattr(scope.get("app"), "router", None)
    for route in getattr(router, "routes", ()):
        if route.matches(before_routing)[0] is Match.FULL:
            found = getattr(route, "path", None)
            return (found or "/") if isinstance(found, str) else "unmatched"
    return "unmatched"


class RequestContextMiddleware:
    """Gives every response an ``X-Request-ID`` (the client's, if it sent a sane one), logs one
    JSON line per request (no bodies), records metrics, and turns a crash into a JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER.lower(), "")
        request_id = given if _CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        before_routing = dict(scope)  # routing rewrites the scope (a mount's root_path)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if response_started:
                raise
            status = 500
            body = ErrorBody(code="internal_error", message="The server failed on this request; "
                             f"it has been logged with request id {request_id}.")
            count_error(scope.get("app"), body.code)
            await error_response(500, body)(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route_template(scope, before_routing)
            metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
            if metrics is not None:
                metrics.record_request(scope["method"], route, status, seconds)
            logger.info("request", extra={
                "request_id": request_id, "method": scope["method"], "route": route,
                "path": scope["path"], "status": status, "duration_ms": round(seconds * 1000, 2),
            })


class _BodyTooLarge(Exception):
    """The body went over the limit while it was read."""


class BodyLimitMiddleware:
    """Rejects bodies over ``max_body_bytes`` (by Content-Length, then by the bytes actually
    streamed) with 413, bodies not read whole within ``body_timeout_s`` with 408 (and closes the
    connection), and bodies that are not UTF-8 with 400, before any route parses them."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_s: float = 30.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._reject(scope, receive, send, 400, "invalid_content_length",
                                   f"Content-Length {declared[:40]!r} is not a number of bytes.")
                return
            if int(declared) > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
        try:
            async with asyncio.timeout(self.body_timeout_s):
                body = await self._read_body(receive)
        except TimeoutError:
            await self._reject(scope, receive, send, 408, "request_timeout",
                               f"The request body did not arrive within {self.body_timeout_s:g} s; "
                               "send it at once (the limit is GRADER_BODY_TIMEOUT_S).",
                               {"body_timeout_s": self.body_timeout_s},
                               headers={"Connection": "close"})
            return
        except _BodyTooLarge:
            await self._too_large(scope, receive, send)
            return
        if body is None:  # the client went away
            return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as error:
            await self._reject(scope, receive, send, 400, "invalid_utf8",
                               f"The request body is not valid UTF-8 (bad byte at offset "
                               f"{error.start}); send JSON encoded as UTF-8.",
                               {"offset": error.start})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._reject(scope, receive, send, 413, "body_too_large",
                           f"The request body is over the limit of {self.max_body_bytes:,} bytes; "
                           "send less (split a batch) or raise GRADER_MAX_BODY_BYTES.",
                           {"max_body_bytes": self.max_body_bytes})

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                      message: str, details: dict[str, Any] | None = None,
                      headers: Mapping[str, str] | None = None) -> None:
        count_error(scope.get("app"), code)
        await error_response(status, ErrorBody(code=code, message=message,
                                               details=details or {}),
                             headers)(scope, receive, send)


class ResponseHeaders:
    """Adds fixed ``headers`` to every HTTP response of ``app`` (the practice page's security
    headers, around its static files)."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(self.headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)
