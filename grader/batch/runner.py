"""Run a batch: stream rows, grade them chunk by chunk, append them durably, resume exactly.

Memory stays flat: one chunk of rows is held at a time, each row bounded (``--max-row-bytes``).
The one thing that grows is a digest of each row id seen so far (to turn a repeated id into an
error row), about a hundred bytes per row however long the id.

What a crash can cost: with the offline critic a chunk is graded in one pass of the model and
appended whole, so at most the chunk in flight (``--chunk-size`` rows, about 11 s of work at the
default); with an LLM critic each row is appended as soon as it and the rows before it are
graded. An unexpected error in one row becomes that row's error row; the run goes on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Protocol

from grader.batch.errors import BatchError, OutputExistsError
from grader.batch.lines import MAX_ROW_BYTES
from grader.batch.output import OutputRecord, OutputWriter
from grader.batch.readers import Format, RowReader, format_of
from grader.batch.resume import ExistingOutput, cut_torn_tail, recover
from grader.batch.rows import ParsedRow, RowProblem
from grader.batch.stream import RowStream
from grader.batch.summary import BatchSummary
from grader.errors import GraderError
from grader.grading import GradeItem, Grader, PreparedAnswer
from grader.result import CriticChoice, GradeResult

DEFAULT_CHUNK_SIZE = 1024  # rows graded, then written, at a time; the model sorts a chunk by length
DEFAULT_CONCURRENCY = 8


class Progress(Protocol):
    """Told how far a batch has got; a progress bar, or nothing."""

    def start(self, done: int) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass(frozen=True)
class BatchOptions:
    """How to run a batch. Formats default to the file extensions."""

    input_format: str | None = None
    output_format: str | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    critic: CriticChoice = "auto"
    concurrency: int = DEFAULT_CONCURRENCY
    resume: bool = False
    force: bool = False
    max_row_bytes: int = MAX_ROW_BYTES  # a longer JSONL line or CSV record is an error row

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.concurrency < 1 or self.max_row_bytes < 1:
            raise BatchError("chunk size, concurrency and max row bytes must be at least 1.")
        if self.resume and self.force:
            raise BatchError("--resume continues the output and --force replaces it; "
                             "give one of them, not both.")


@dataclass(frozen=True)
class BatchPlan:
    """A checked batch: the input is readable and the output may be written as asked."""

    input_path: Path
    output_path: Path
    input_format: Format
    output_format: Format
    options: BatchOptions = field(default_factory=BatchOptions)


def plan_batch(input_path: Path, output_path: Path, options: BatchOptions) -> BatchPlan:
    """Check everything that can be checked before the model loads; raise ``BatchError`` if not."""
    input_format = format_of(input_path, options.input_format, "input")
    output_format = format_of(output_path, options.output_format, "output")
    with RowReader(input_path, input_format, options.max_row_bytes):
        pass  # opening checks the file and a CSV header
    _refuse_to_write_the_input(input_path, output_path)
    if output_path.is_dir():
        raise BatchError(f"The output {output_path} is a folder; name a file.")
    if not output_path.parent.is_dir():
        raise BatchError(f"The output folder {output_path.parent} does not exist; create it first.")
    if output_path.exists() and not (options.resume or options.force):
        raise OutputExistsError(
            f"The output {output_path} already exists. Use --resume to continue it (rows already "
            "there are kept and skipped), or --force to replace it."
        )
    plan = BatchPlan(input_path, output_path, input_format, output_format, options)
    if options.resume and output_path.exists():
        # Checked here too, so that an output made from another input is refused before the
        # model loads; run_batch checks again, against the files as they are then.
        with RowReader(input_path, input_format, options.max_row_bytes) as raw_rows:
            RowStream(raw_rows, options.critic, _existing_output(plan), input_path).skip_done()
    return plan


def run_batch(grader: Grader, plan: BatchPlan, progress: Progress | None = None) -> BatchSummary:
    """Grade every row of ``plan.input_path`` into ``plan.output_path``; one output row per row."""
    options = plan.options
    uses_llm = grader.critic_for(options.critic) is not grader.offline_critic
    started = time.perf_counter()
    _refuse_to_write_the_input(plan.input_path, plan.output_path)
    existing = _existing_output(plan)
    with RowReader(plan.input_path, plan.input_format, options.max_row_bytes) as raw_rows:
        rows = RowStream(raw_rows, options.critic, existing, plan.input_path)
        rows.skip_done()  # an output made from another input is refused before it changes
        _make_room(plan, existing)
        if progress is not None:
            progress.start(existing.rows_done)
        with OutputWriter(plan.output_path, plan.output_format) as writer:
            _grade_rows(grader, rows, writer, existing.summary, progress, options, uses_llm)
    existing.summary.elapsed_s = time.perf_counter() - started
    return existing.summary


def _grade_rows(grader: Grader, rows: Iterable[ParsedRow], writer: OutputWriter,
                summary: BatchSummary, progress: Progress | None, options: BatchOptions,
                uses_llm: bool) -> None:
    """Grade ``rows`` chunk by chunk and write each record as soon as it may be written."""
    pool = (ThreadPoolExecutor(options.concurrency, thread_name_prefix="batch-critic")
            if uses_llm and options.concurrency > 1 else None)

    def emit(records: list[OutputRecord]) -> None:
        writer.write(records)
        for record in records:
            result, problem = record.result, record.problem
            summary.count(score=result.score if result else None,
                          verdict=result.verdict if result else None,
                          error_kind=problem.kind if problem else None)
        if progress is not None:
            progress.advance(len(records))

    try:
        for chunk in _chunks(iter(rows), options.chunk_size):
            if not uses_llm:
                emit(list(_grade_chunk(grader, chunk, None)))
                continue
            # rows finish one by one: each is on disk as soon as those before it are
            for record in _grade_chunk(grader, chunk, pool):
                emit([record])
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _refuse_to_write_the_input(input_path: Path, output_path: Path) -> None:
    # samefile compares device and inode: a hard link or a symlink to the input is the input.
    try:
        same = output_path.exists() and os.path.samefile(input_path, output_path)
    except OSError:
        return  # the input is gone: reading it says so
    if same:
        raise BatchError(f"The output {output_path} is the input file {input_path} (the same "
                         "file, or a link to it); write to another file.")


def _existing_output(plan: BatchPlan) -> ExistingOutput:
    """What ``--resume`` keeps; nothing is changed yet."""
    if plan.options.resume and plan.output_path.exists():
        return recover(plan.output_path, plan.output_format)
    return ExistingOutput()


def _make_room(plan: BatchPlan, existing: ExistingOutput) -> None:
    """Cut a torn tail (``--resume``) or empty the output (``--force``) before appending."""
    path = plan.output_path
    if plan.options.resume:
        if path.exists():
            cut_torn_tail(path, existing)
    elif path.exists():
        path.open("wb").close()  # --force: start over


def _chunks(rows: Iterator[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


Outcome = GradeResult | GraderError | RowProblem


class _Mapper(Protocol):
    def map(self, fn: Callable[[Prepared], Outcome], items: Iterable[Prepared]
            ) -> Iterator[Outcome]: ...


class _InOrder:
    """A pool of one: the calling thread, one item after another."""

    def map(self, fn: Callable[[Prepared], Outcome], items: Iterable[Prepared]
            ) -> Iterator[Outcome]:
        return map(fn, items)


def _grade_chunk(grader: Grader, chunk: list[ParsedRow], pool: _Mapper | None
                 ) -> Iterator[OutputRecord]:
    """Each row's record, in order, as soon as it is graded.

    The chunk's answers go through the model in one pass (``Grader.prepare_many``). Then with
    no ``pool`` each is finished at once; with a pool (an LLM critic, slow per row) up to
    ``concurrency`` critiques run at a time and each row is yielded when it and those before
    it are done.
    """
    items = [row.item for row in chunk if row.item is not None]
    prepared = _prepare(grader, items)
    outcomes = (pool or _InOrder()).map(lambda entry: _finish(grader, entry), prepared)
    for row in chunk:
        result, problem = None, row.problem
        if row.item is not None:
            outcome = next(outcomes)
            if isinstance(outcome, GraderError):
                problem = RowProblem.from_grader_error(outcome)
            elif isinstance(outcome, RowProblem):
                problem = outcome
            else:
                result = outcome
        yield OutputRecord(row.id, row.row, row.line, result=result, problem=problem,
                           question_id=row.question_id, input_digest=row.input_digest)


Prepared = PreparedAnswer | GraderError | RowProblem


def _prepare(grader: Grader, items: list[GradeItem]) -> list[Prepared]:
    """``prepare_many`` over the items; if it fails unexpectedly, each item alone, so that only
    the item that fails gets an error row."""
    try:
        return list(grader.prepare_many(items))
    except Exception:  # any failure: find the row it belongs to
        return [_prepare_one(grader, item) for item in items]


def _prepare_one(grader: Grader, item: GradeItem) -> Prepared:
    try:
        return grader.prepare_many([item])[0]
    except Exception as error:  # a bug or a library failure: its error row
        return RowProblem.unexpected(error)


def _finish(grader: Grader, entry: Prepared) -> Outcome:
    if isinstance(entry, (GraderError, RowProblem)):
        return entry
    try:
        return grader.finish(entry)
    except GraderError as error:  # a GradingFailedError among them: kept as it is
        return error
    except Exception as error:  # a bug or a library failure: its error row
        return RowProblem.unexpected(error)
