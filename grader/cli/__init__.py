"""The ``grader`` command. Each subcommand lives in its own module and registers itself here.

Errors are mapped to messages and exit codes in one place, ``main``:
0 success, 1 a check failed, 2 bad input or usage, 3 configuration or model problem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_settings import SettingsError

from grader.batch.errors import BatchError
from grader.errors import (
    ConfigurationError,
    DatasetError,
    EmbeddingError,
    GraderError,
    InvalidAnswerError,
    InvalidQuestionError,
    RubricError,
    UnknownQuestionError,
    describe_validation_error,
)
from grader.ingest.errors import IngestError

#: Errors in what the user gave: a question id, an answer, a file, a row.
_INPUT_ERRORS = (UnknownQuestionError, InvalidAnswerError, InvalidQuestionError, IngestError,
                 BatchError, DatasetError)

#: Subcommand modules; each defines ``register(subparsers)`` that sets ``handler`` defaults.
COMMANDS = ("questions", "show", "grade", "rubrics", "eval", "serve", "batch", "ingest", "judge",
            "models", "mcp")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    from importlib import import_module

    parser = argparse.ArgumentParser(
        prog="grader", description="Grade free-text answers to deep-learning interview questions."
    )
    parser.add_argument("--version", action="version", version=f"grader {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"grader.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grader`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except _INPUT_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as error:  # the settings, read from GRADER_* variables
        # Only each problem's message and field: never the value, which may be a key pasted
        # into the wrong variable (pydantic's own text shows the input, and a traceback more).
        problems = describe_validation_error(
            error, root="the settings",
            location=lambda loc: "GRADER_" + "__".join(map(str, loc)).upper() if loc else "")
        print(f"error: invalid setting: {problems}", file=sys.stderr)
        return EXIT_CONFIG
    except SettingsError as error:  # a variable that must be JSON (GRADER_SCORING) is not
        print(f"error: invalid setting: {error} (a nested setting is JSON, or set its fields "
              "one by one: GRADER_SCORING__MET_STRENGTH=0.5)", file=sys.stderr)
        return EXIT_CONFIG
    except RubricError as error:
        print(f"error: invalid rubric\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except (ConfigurationError, EmbeddingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except GraderError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`grader questions --json | head`)
        return _quiet_broken_pipe()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("grader")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _quiet_broken_pipe() -> int:
    """Exit as a Unix tool does when its reader closes the pipe: no traceback, and no second
    error when Python flushes standard output on the way out."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13  # as if killed by SIGPIPE, what a shell reports for `yes | head`
