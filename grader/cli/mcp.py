"""``grader mcp``: the MCP tool server over stdio, for desktop and IDE agent hosts.

Stdout carries the protocol and nothing else: every log line, warning and progress bar goes to
stderr, which hosts show as the server's log. The model loads in the background once the
server is up, so the host's ``initialize`` and ``tools/list`` answer at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from grader.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mcp", help="serve the grading tools to an MCP host over stdio",
        description="Serve list_questions, get_question, grade_answer and grade_adhoc as MCP "
                    "tools over stdin/stdout. Configure it in an MCP host as the command "
                    "`grader mcp`; settings come from GRADER_* variables, as for every command.")
    parser.add_argument("--log-level", default="warning",
                        choices=["debug", "info", "warning", "error"],
                        help="what goes to stderr (default warning)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Before anything can log: a handler on stderr, so the SDK adds none of its own.
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from grader.grading import Grader
    from grader.mcp_server import LocalBackend, create_mcp_server

    settings = Settings()  # a bad GRADER_* value fails here, before the host connects
    server = create_mcp_server(LocalBackend(lambda: Grader.from_settings(settings)))
    # No model-loading progress bars: tqdm writes to stderr, but hosts show it as noise.
    os.environ.setdefault("TQDM_DISABLE", "1")
    # While it serves, the SDK points fd 1 at stderr and writes the protocol to a private copy,
    # so a stray print() from any library cannot corrupt the stream.
    server.run("stdio")
    return 0
