"""``grader batch``: grade a JSONL or CSV file of answers into a JSONL or CSV file of grades."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from grader.batch import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONCURRENCY,
    FORMATS,
    MAX_ROW_BYTES,
    BatchOptions,
    count_rows,
    plan_batch,
    run_batch,
)
from grader.grading import Grader
from grader.settings import get_settings

EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "batch", help="grade a JSONL or CSV file of answers",
        description="Each input row has 'answer' and 'question_id' (or an ad-hoc 'question' with "
                    "'reference_answer'), and optionally 'id'. Every row yields one output row: "
                    "a grade, or an error with the line number and the reason.",
    )
    parser.add_argument("input", type=Path, metavar="INPUT", help="a .jsonl or .csv file")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT",
                        help="where to write the grades (.jsonl or .csv)")
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
    parser.add_argument("--critic", choices=["auto", "offline", "llm"], default="auto")
    parser.add_argument("--concurrency", type=_positive, default=DEFAULT_CONCURRENCY, metavar="N",
                        help=f"LLM critic calls in flight at once (default {DEFAULT_CONCURRENCY})")
    parser.add_argument("--max-row-bytes", type=_positive, default=MAX_ROW_BYTES, metavar="N",
                        help=f"longest JSONL line (bytes) or CSV record (characters) read; a "
                             f"longer one is an error row (default {MAX_ROW_BYTES:,})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = BatchOptions(
        input_format=args.format, output_format=args.output_format, chunk_size=args.chunk_size,
        critic=args.critic, concurrency=args.concurrency, resume=args.resume, force=args.force,
        max_row_bytes=args.max_row_bytes,
    )
    plan = plan_batch(args.input, args.output, options)  # fails fast, before the model loads
    show_bar = not args.quiet and sys.stderr.isatty()
    total = (count_rows(plan.input_path, plan.input_format, options.max_row_bytes)
             if show_bar else None)
    grader = Grader.from_settings(get_settings())
    bar = _Bar(total) if show_bar else None
    try:
        summary = run_batch(grader, plan, bar)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(summary.render(), file=sys.stderr)
    return 0


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
