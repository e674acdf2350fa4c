"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for a request's line and headers.

uvicorn closes idle kept-alive connections, but a client that sends half a request line, or
trickles its headers one byte at a time, would hold its connection forever (slowloris). Here the
request line and headers must be complete within ``GRADER_HEADER_TIMEOUT_S`` of the connection
opening or of the request's first byte; if not, a partial request gets a 408 and the connection
is closed. (The body has its own deadline, in ``api.middleware.BodyLimitMiddleware``.)

``grader serve`` uses this protocol (``ApiSettings.uvicorn_options``), so it runs on h11 even
where httptools is installed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from api.settings import get_api_settings


def _timeout_response(seconds: float) -> bytes:
    body = json.dumps({"error": {
        "code": "request_timeout",
        "message": f"The request line and headers did not arrive within {seconds:g} s; send the "
                   "whole request at once (the limit is GRADER_HEADER_TIMEOUT_S).",
        "details": {"header_timeout_s": seconds}}}).encode()
    head = (f"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body


class DeadlineH11Protocol(H11Protocol):
    """``H11Protocol`` that closes a connection whose request headers are late."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Read per process: ``grader serve`` has validated the settings before uvicorn starts.
        self.header_timeout_s = get_api_settings().header_timeout_s
        self._header_deadline: asyncio.TimerHandle | None = None
        self._partial_request = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers():
            self._partial_request = True
            if self._header_deadline is None:  # the next request on a kept-alive connection
                self._arm()
        super().data_received(data)
        if not self._awaiting_headers():  # the headers are complete: the app takes over
            self._disarm()
            self._partial_request = False

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _awaiting_headers(self) -> bool:
        # h11 leaves the client in IDLE until a request's line and headers are complete.
        return self.conn.their_state is h11.IDLE

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._on_deadline)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _on_deadline(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or not self._awaiting_headers():
            return
        if self._partial_request:  # a connection that never sent a byte is simply closed
            self.transport.write(_timeout_response(self.header_timeout_s))
        self.transport.close()
