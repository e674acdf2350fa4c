"""What ``grader serve`` checks and says before uvicorn starts: the port is free, and where to go.

The model takes seconds to load; a port that is taken is found out first and said in plain
words, not after the load inside a JSON log line.
"""

from __future__ import annotations

import errno
import socket

from grader.errors import ConfigurationError

#: Hosts that mean "every interface": the URL to open in a browser names this machine instead.
_ANY_HOST = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def check_port_free(host: str, port: int) -> None:
    """Raise ``ConfigurationError`` when uvicorn could not listen on ``host:port``.

    It binds as uvicorn does (``SO_REUSEADDR``, so a port left in TIME_WAIT by a server that
    just stopped counts as free) and lets go at once.
    """
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ConfigurationError(
            f"Cannot listen on host {host!r}: {error.strerror}. Give an address of this machine "
            "(--host 127.0.0.1, or 0.0.0.0 for every interface).") from None
    family, kind, protocol, _, address = addresses[0]
    with socket.socket(family, kind, protocol) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            raise ConfigurationError(_bind_problem(host, port, error)) from None


def _bind_problem(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (f"Port {port} on {host} is already in use (another `grader serve`, or another "
                f"program). Stop it, or choose another port: grader serve --port {port + 1} "
                f"(or GRADER_PORT={port + 1}, make serve PORT={port + 1}).")
    if error.errno == errno.EACCES:
        return (f"Port {port} needs more privileges than this user has; choose a port above "
                "1023: grader serve --port 8000.")
    return (f"Cannot listen on {host}:{port}: {error.strerror}. Give an address of this machine "
            "(--host 127.0.0.1, or 0.0.0.0 for every interface).")


def base_url(host: str, port: int) -> str:
    """The address to open in a browser: ``http://127.0.0.1:8000``."""
    shown = _ANY_HOST.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def start_line(host: str, port: int) -> str:
    """The one plain line ``grader serve`` prints before the JSON log lines."""
    url = base_url(host, port)
    every = " (listening on every interface)" if host in _ANY_HOST else ""
    return (f"grader serve: practice page {url}/ and API docs {url}/docs{every}. The model "
            f"loads first: {url}/readyz answers 200 when it is ready.")
