"""``grader serve``: run the HTTP API under uvicorn; the model loads once per worker at start."""

from __future__ import annotations

import argparse
import os
import sys

from grader.errors import ConfigurationError, MissingExtraError
from grader.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="serve the REST API (uvicorn)")
    parser.add_argument("--host", help="interface to bind (default GRADER_HOST, or 127.0.0.1)")
    parser.add_argument("--port", type=int,
                        help="TCP port (default GRADER_PORT, then PORT, or 8000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes; each loads its own copy of the model (default 1)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise ConfigurationError(f"--workers must be at least 1, not {args.workers}.")
    try:
        import uvicorn

        from api.logs import logging_config
        from api.serving import check_port_free, start_line
        from api.settings import ApiSettings
    except ImportError as error:
        raise MissingExtraError("grader serve", "server", error) from error
    # Fail here, with the field named (by ``grader.cli.main``), not inside a uvicorn worker.
    Settings()
    api_settings = ApiSettings()
    # Keep stderr JSON lines only: no model-loading progress bars between the log entries.
    os.environ.setdefault("TQDM_DISABLE", "1")
    host = args.host if args.host is not None else api_settings.host
    port = args.port if args.port is not None else api_settings.port
    check_port_free(host, port)  # before the model loads, in plain words
    print(start_line(host, port), file=sys.stderr, flush=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port,
                workers=args.workers, log_config=logging_config(api_settings.log_level),
                access_log=False, server_header=False, **api_settings.uvicorn_options())
    return 0
