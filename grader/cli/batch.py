"""``grader batch``: grade a JSONL or CSV file of answers into a JSONL or CSV file of grades.

SIGINT (Ctrl-C) and SIGTERM stop the run with every graded row on disk; the command then says
how many rows are done and the ``--resume`` command that continues, and exits 130 or 143.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from grader.batch import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONCURRENCY,
    FORMATS,
    MAX_ROW_BYTES,
    STDIO,
    BatchInterrupted,
    BatchOptions,
    BatchPlan,
    count_rows,
    is_stream,
    plan_batch,
    run_batch,
)
from grader.cli import loading
from grader.cli.batch_ray import add_ray_arguments, run_ray, use_local_paths
from grader.cli.grade import CRITIC_HELP
from grader.settings import get_settings

EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "batch", help="grade a JSONL or CSV file of answers",
        description="Each input row has 'answer' and 'question_id' (or an ad-hoc 'question' with "
                    "'reference_answers'), and optionally 'id'. Every row yields one output row: "
                    "a grade, or an error with the line number and the reason. Ctrl-C keeps "
                    "the rows graded so far and prints the --resume command that continues.",
    )
    parser.add_argument("input", nargs="+", metavar="INPUT",
                        help="a .jsonl or .csv file, or - for standard input (with --format); "
                             "with --engine ray, files, globs, folders or URIs")
    parser.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                        help="where to write the grades (.jsonl or .csv), or - for standard "
                             "output (in the input's format unless --output-format)")
    parser.add_argument("--format", choices=FORMATS, help="input format (default: by extension)")
    parser.add_argument("--output-format", choices=FORMATS,
                        help="output format (default: by extension)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true",
                      help="continue an output a killed run left; rows already there are skipped")
    mode.add_argument("--force", action="store_true", help="replace an existing output")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bar and no summary")
    parser.add_argument("--chunk-size", type=_positive, default=DEFAULT_CHUNK_SIZE, metavar="N",
                        help=f"rows embedded together and written together "
                             f"(default {DEFAULT_CHUNK_SIZE})")
    parser.add_argument("--critic", choices=["auto", "offline", "llm"], default="auto",
                        help=CRITIC_HELP)
    parser.add_argument("--concurrency", type=_positive, default=DEFAULT_CONCURRENCY, metavar="N",
                        help=f"LLM critic calls in flight at once (default {DEFAULT_CONCURRENCY})")
    parser.add_argument("--max-row-bytes", type=_positive, default=MAX_ROW_BYTES, metavar="N",
                        help=f"longest JSONL line (bytes) or CSV record (characters) read; a "
                             f"longer one is an error row (default {MAX_ROW_BYTES:,})")
    add_ray_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = BatchOptions(
        input_format=args.format, output_format=args.output_format, chunk_size=args.chunk_size,
        critic=args.critic, concurrency=args.concurrency, resume=args.resume, force=args.force,
        max_row_bytes=args.max_row_bytes,
    )
    if args.engine == "ray":
        return run_ray(args, options)
    use_local_paths(args)  # one INPUT, and OUTPUT, as paths
    plan = plan_batch(args.input, args.output, options)  # fails fast, before the model loads
    show_bar = not args.quiet and sys.stderr.isatty()
    total = (count_rows(plan.input_path, plan.input_format, options.max_row_bytes)
             if show_bar and plan.input_path != STDIO else None)
    bar = _Bar(total) if show_bar else None
    grading = False
    with _stop_signals() as caught:
        try:
            grader = loading.load_grader(get_settings())
            grading = True
            summary = run_batch(grader, plan, bar)
        except KeyboardInterrupt as interrupt:
            stopped: KeyboardInterrupt | None = interrupt
        else:
            stopped = None
        finally:
            if bar is not None:
                bar.close()
    if stopped is not None:
        done = stopped.rows_done if isinstance(stopped, BatchInterrupted) else None
        print(interrupted_message(args, plan, caught[0], done, total, grading=grading),
              file=sys.stderr)
        return 128 + caught[0]
    if not args.quiet:
        print(summary.render(), file=sys.stderr)
    return 0


def interrupted_message(args: argparse.Namespace, plan: BatchPlan, signum: int,
                        rows_done: int | None, total: int | None, *, grading: bool = True
                        ) -> str:
    """What an interrupted run says: the rows on disk and how to go on from them."""
    name = signal.Signals(signum).name
    of_total = f" of {total:,}" if total is not None else ""
    if rows_done is None and not grading:  # stopped while the model loaded: nothing touched
        return f"interrupted ({name}) before grading began; nothing was written."
    if rows_done is None:  # a second signal while the rows on disk were being counted
        if is_stream(plan.output_path):
            return f"interrupted ({name}) twice; the rows written so far are all there is."
        return (f"interrupted ({name}) twice, before the rows in {plan.output_path} were "
                f"counted. To grade the rest, run:\n  {resume_command(args)}")
    if is_stream(plan.output_path):
        return (f"interrupted ({name}): rows 1-{rows_done:,}{of_total} were written to "
                f"{plan.output_path}. A stream cannot be resumed: write to a file (-o FILE) "
                "to be able to continue a run.")
    same_input = " (with the same rows on standard input)" if plan.input_path == STDIO else ""
    done = (f"rows 1-{rows_done:,}{of_total} are graded and saved in {plan.output_path}"
            if rows_done else f"no row was graded yet ({plan.output_path} holds none)")
    return (f"interrupted ({name}): {done}. To grade the rest{same_input}, run:\n"
            f"  {resume_command(args)}")


def resume_command(args: argparse.Namespace) -> str:
    """The command that continues this run: the same input, output and options, ``--resume``."""
    words = ["grader", "batch", str(args.input), "-o", str(args.output)]
    for flag, value, default in (
            ("--format", args.format, None), ("--output-format", args.output_format, None),
            ("--chunk-size", args.chunk_size, DEFAULT_CHUNK_SIZE),
            ("--critic", args.critic, "auto"),
            ("--concurrency", args.concurrency, DEFAULT_CONCURRENCY),
            ("--max-row-bytes", args.max_row_bytes, MAX_ROW_BYTES)):
        if value != default:
            words += [flag, str(value)]
    if args.quiet:
        words.append("--quiet")
    return shlex.join([*words, "--resume"])


@contextmanager
def _stop_signals() -> Iterator[list[int]]:
    """SIGINT and SIGTERM both raise ``KeyboardInterrupt``, so that the runner keeps what is
    graded; yields a list that holds the signal's number (SIGINT until one arrives)."""
    caught = [int(signal.SIGINT)]

    def stop(signum: int, frame: FrameType | None) -> None:
        caught[0] = signum
        raise KeyboardInterrupt

    try:
        previous = {number: signal.signal(number, stop)
                    for number in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals stay as they are
        yield caught
        return
    try:
        yield caught
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _Bar:
    """A tqdm bar on stderr with rate and ETA; created when the run knows where it starts."""

    def __init__(self, total: int | None) -> None:
        self._total = total
        self._bar: Any = None

    def start(self, done: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=self._total, initial=done, unit="row", file=sys.stderr,
                         dynamic_ncols=True)

    def advance(self, rows: int) -> None:
        if self._bar is not None:
            self._bar.update(rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
