"""Continue a killed run: read what it wrote, cut a torn last record, and say where to go on.

Records are appended whole and in input order, so a run killed at any instant (even by SIGKILL in
the middle of a write) leaves rows 1..K complete plus at most one torn record at the end. The torn
part (it never ends in a newline, or, in CSV, ends inside a quoted field) is cut off by
``cut_torn_tail`` once the runner has checked the input against the last record's
``input_digest``, and the run goes on at row K + 1. Anything else (a complete line that is not a
record, a record without a digest, rows out of order) is not what a killed run leaves: it is
refused, and the file is left as it was.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from grader.batch.errors import ResumeError
from grader.batch.fingerprint import is_digest
from grader.batch.output import CSV_COLUMNS, csv_header
from grader.batch.readers import Format
from grader.batch.summary import BatchSummary

_START_OVER = "use --force to start over, or choose another output file"
# How every JSONL record starts (``OutputRecord.as_json``): a torn tail must start so too.
_JSONL_RECORD_START = b'{"id": "'


@dataclass
class ExistingOutput:
    """The complete rows already in an output file, and where they end."""

    rows_done: int = 0
    last_digest: str = ""  # the ``input_digest`` of row ``rows_done``
    good_end: int = 0      # bytes of the file that hold the header and complete rows
    size: int = 0          # bytes of the whole file, a torn tail included
    summary: BatchSummary = field(default_factory=BatchSummary)


@dataclass(frozen=True)
class _Seen:
    row: int
    score: float | None
    verdict: str | None
    error_kind: str | None
    digest: str


def recover(path: Path, fmt: Format) -> ExistingOutput:
    """Read the complete records of ``path`` and count them; the file is not changed."""
    existing = ExistingOutput()
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        scan = _jsonl_records(handle, path) if fmt == "jsonl" else _csv_records(handle, path, size)
        for seen, end in scan:
            if seen.row != existing.rows_done + 1:
                raise ResumeError(
                    f"{path}: expected row {existing.rows_done + 1} next but found row "
                    f"{seen.row}; the file was edited or not written by `grader batch`; "
                    f"{_START_OVER}."
                )
            existing.rows_done, existing.last_digest, existing.good_end = seen.row, seen.digest, end
            existing.summary.count(score=seen.score, verdict=seen.verdict,
                                   error_kind=seen.error_kind)
    if fmt == "csv" and existing.good_end == 0 and size >= len(csv_header()):
        existing.good_end = len(csv_header())  # a complete header and no complete record yet
    existing.size = size
    existing.summary.resumed = existing.rows_done
    return existing


def cut_torn_tail(path: Path, existing: ExistingOutput) -> None:
    """Cut the torn last record ``recover`` found, if any, so that appending can go on."""
    if existing.good_end < existing.size:
        with path.open("r+b") as handle:
            handle.truncate(existing.good_end)
            os.fsync(handle.fileno())


def _jsonl_records(handle: BinaryIO, path: Path) -> Iterator[tuple[_Seen, int]]:
    offset = 0
    for line_number, raw in enumerate(handle, start=1):
        offset += len(raw)
        if not raw.endswith(b"\n"):
            if raw.startswith(_JSONL_RECORD_START) or _JSONL_RECORD_START.startswith(raw):
                return  # the torn last record
            raise ResumeError(f"{path}: line {line_number} is not the start of a batch record; "
                              f"{_START_OVER}.")
        try:
            seen = _from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            # A killed run leaves no complete line that is not a record: this file was edited.
            raise ResumeError(f"{path}: line {line_number} is not a batch record; "
                              f"{_START_OVER}.") from None
        yield seen, offset


def _from_json(data: Any) -> _Seen:
    digest = data["input_digest"]
    if not isinstance(digest, str) or not is_digest(digest):
        raise ValueError("no input digest")
    error = data.get("error")
    if error is not None:
        return _Seen(int(data["row"]), None, None, str(error["kind"]), digest)
    return _Seen(int(data["row"]), float(data["score"]), str(data["verdict"]), None, digest)


def _csv_records(handle: BinaryIO, path: Path, size: int) -> Iterator[tuple[_Seen, int]]:
    header = csv_header()
    first = handle.readline()
    if first != header:
        if header.startswith(first) and len(first) == size:
            return  # a torn header: nothing was written yet
        raise ResumeError(f"{path}: the CSV header is not the one `grader batch` writes "
                          f"({','.join(CSV_COLUMNS)}); {_START_OVER}.")
    consumed, last_line = [len(first)], [first]

    def lines() -> Iterator[str]:
        for raw in handle:
            consumed[0] += len(raw)
            last_line[0] = raw
            yield raw.decode("utf-8", errors="surrogateescape")

    reader = csv.reader(lines(), strict=True)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if consumed[0] == size:
                return  # the torn last record ends inside a quoted field
            raise ResumeError(f"{path}: line {reader.line_num + 1} cannot be read ({exc}); "
                              f"{_START_OVER}.") from exc
        if not last_line[0].endswith(b"\n") and consumed[0] == size:
            return  # the torn last record
        try:
            seen = _from_csv(fields)
        except (ValueError, IndexError):
            # A killed run leaves no complete record that is not one: this file was edited.
            raise ResumeError(f"{path}: line {reader.line_num + 1} is not a batch record; "
                              f"{_START_OVER}.") from None
        yield seen, consumed[0]


def _from_csv(fields: list[str]) -> _Seen:
    if len(fields) != len(CSV_COLUMNS):
        raise ValueError("wrong field count")
    record = dict(zip(CSV_COLUMNS, fields, strict=True))
    if not is_digest(record["input_digest"]):
        raise ValueError("no input digest")
    if record["error_kind"]:
        return _Seen(int(record["row"]), None, None, record["error_kind"],
                     record["input_digest"])
    return _Seen(int(record["row"]), float(record["score"]), record["verdict"], None,
                 record["input_digest"])
