"""Slow and idle clients (issue 16, M1): read deadlines for headers and body, a cap on
connections, over raw sockets on 127.0.0.1.

Most tests run uvicorn in a thread, configured as ``grader serve`` configures it
(``ApiSettings.uvicorn_options``), around the app with a fake embedder: quick. One test checks
the same against a real ``grader serve`` process with the real model.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from api.middleware import BodyLimitMiddleware
from api.settings import get_api_settings
from grader import Grader
from tests.servers import free_port, grader_serve

DEADLINE_S = 0.5
LIMIT_CONCURRENCY = 4
#: How long a test waits for the server to act: far beyond the deadlines, so that only a server
#: that never answers or never closes the connection fails it.
PATIENCE_S = 30
HALF_HEADERS = b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
HALF_BODY = (b"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
             b'{"question_id": "adam-optimizer", "answ')


def test_a_body_not_sent_in_time_gets_a_408_and_the_connection_closed() -> None:
    reached_app = False

    async def app(scope: object, receive: object, send: object) -> None:
        nonlocal reached_app
        reached_app = True

    sent: list[dict[str, object]] = []
    chunks = iter([{"type": "http.request", "body": b'{"answer": "half', "more_body": True}])

    async def receive() -> dict[str, object]:
        chunk = next(chunks, None)
        if chunk is None:
            await asyncio.Event().wait()  # the rest of the body never comes
        assert chunk is not None
        return chunk

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    middleware = BodyLimitMiddleware(app, max_body_bytes=4096, body_timeout_s=0.05)  # type: ignore[arg-type]
    scope = {"type": "http", "method": "POST", "path": "/v1/grade", "headers": []}
    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    assert not reached_app
    start, body = sent[0], sent[1]
    assert start["status"] == 408
    assert (b"connection", b"close") in start["headers"]  # type: ignore[operator]
    error = json.loads(body["body"])["error"]  # type: ignore[arg-type]
    assert error["code"] == "request_timeout" and "GRADER_BODY_TIMEOUT_S" in error["message"]


@pytest.fixture
def server(fake_grader: Grader, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """uvicorn in a thread on 127.0.0.1, with short deadlines and a small connection limit."""
    for name, value in {"GRADER_HEADER_TIMEOUT_S": DEADLINE_S, "GRADER_BODY_TIMEOUT_S":
                        DEADLINE_S, "GRADER_LIMIT_CONCURRENCY": LIMIT_CONCURRENCY}.items():
        monkeypatch.setenv(name, str(value))
    get_api_settings.cache_clear()  # the protocol reads the settings the process was given
    settings = get_api_settings()
    app = create_app(fake_grader, api_settings=settings)
    port = free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                            **settings.uvicorn_options()))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    waited = 0.0
    while not running.started and thread.is_alive() and waited < PATIENCE_S:
        time.sleep(0.01)
        waited += 0.01
    assert running.started, "uvicorn did not start"
    try:
        yield "127.0.0.1", port
    finally:
        running.should_exit = True
        thread.join(PATIENCE_S)
        get_api_settings.cache_clear()


def _connect(server: tuple[str, int]) -> socket.socket:
    return socket.create_connection(server, timeout=PATIENCE_S)


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a timeout fails the test)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _timed_out(reply: bytes) -> bool:
    head, _, body = reply.partition(b"\r\n\r\n")
    return (head.startswith(b"HTTP/1.1 408 ") and b"connection: close" in head.lower()
            and json.loads(body)["error"]["code"] == "request_timeout")


def test_half_sent_headers_get_a_408_and_the_connection_closed(
        server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        sock.sendall(HALF_HEADERS)
        assert _timed_out(_read_until_closed(sock))


def test_a_half_sent_body_gets_a_408_and_the_connection_closed(
        server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        sock.sendall(HALF_BODY)
        assert _timed_out(_read_until_closed(sock))


def test_a_silent_connection_is_closed(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        assert _read_until_closed(sock) == b""


def test_the_next_request_on_a_kept_alive_connection_has_a_header_deadline_too(
        server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 12")
        assert _timed_out(_read_until_closed(sock))


def test_connections_over_the_limit_get_503(server: tuple[str, int]) -> None:
    with ExitStack() as stack:
        for _ in range(LIMIT_CONCURRENCY - 1):  # idle connections count against the limit
            stack.enter_context(_connect(server)).sendall(b"GET /healthz HTTP/1.1\r\n")
        with _connect(server) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 503 ")
    with _connect(server) as sock:  # and once they are gone, requests are served again
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 200 ")


@pytest.mark.server
@pytest.mark.integration
def test_grader_serve_closes_slow_clients(tmp_path: Path, model_cache_dir: Path) -> None:
    with grader_serve(tmp_path, GRADER_CACHE_DIR=str(model_cache_dir),
                      GRADER_HEADER_TIMEOUT_S="2", GRADER_BODY_TIMEOUT_S="2") as (url, _log):
        host, port = url.removeprefix("http://").split(":")
        for request in (HALF_HEADERS, HALF_BODY):
            with _connect((host, int(port))) as sock:
                sock.sendall(request)
                assert _timed_out(_read_until_closed(sock))
