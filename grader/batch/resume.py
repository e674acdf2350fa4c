"""Continue a killed run: read what it wrote, cut a torn last record, and say where to go on.

Records are appended whole and in input order, so a run killed at any instant (even by SIGKILL in
the middle of a write) leaves rows 1..K complete plus at most one torn record at the end. The torn
part is cut off (it never ends in a newline, or, in CSV, ends inside a quoted field) and the run
goes on at row K + 1.
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
from grader.batch.output import CSV_COLUMNS, csv_header
from grader.batch.readers import Format
from grader.batch.summary import BatchSummary

_START_OVER = "use --force to start over, or choose another output file"


@dataclass
class ExistingOutput:
    """The complete rows already in an output file."""

    rows_done: int = 0
    last_id: str | None = None
    summary: BatchSummary = field(default_factory=BatchSummary)


@dataclass(frozen=True)
class _Seen:
    row: int
    id: str
    score: float | None
    verdict: str | None
    error_kind: str | None


def recover(path: Path, fmt: Format) -> ExistingOutput:
    """Read the complete records of ``path``, truncate a torn tail, and count what is there."""
    existing = ExistingOutput()
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        scan = _jsonl_records(handle, path) if fmt == "jsonl" else _csv_records(handle, path, size)
        good_end = 0
        for seen, end in scan:
            if seen.row != existing.rows_done + 1:
                raise ResumeError(
                    f"{path}: expected row {existing.rows_done + 1} next but found row "
                    f"{seen.row}; the file was edited or not written by `grader batch`; "
                    f"{_START_OVER}."
                )
            existing.rows_done, existing.last_id, good_end = seen.row, seen.id, end
            existing.summary.count(score=seen.score, verdict=seen.verdict,
                                   error_kind=seen.error_kind)
    if fmt == "csv" and good_end == 0 and size >= len(csv_header()):
        good_end = len(csv_header())  # a complete header and no complete record yet
    if good_end < size:
        with path.open("r+b") as handle:
            handle.truncate(good_end)
            os.fsync(handle.fileno())
    existing.summary.resumed = existing.rows_done
    return existing


def _jsonl_records(handle: BinaryIO, path: Path) -> Iterator[tuple[_Seen, int]]:
    offset, invalid_line = 0, None
    for line_number, raw in enumerate(handle, start=1):
        if invalid_line is not None:
            raise ResumeError(f"{path}: line {invalid_line} is not a batch record; {_START_OVER}.")
        offset += len(raw)
        if not raw.endswith(b"\n"):
            return  # the torn last record
        try:
            seen = _from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError):
            invalid_line = line_number  # a torn tail if nothing follows it
            continue
        yield seen, offset


def _from_json(data: Any) -> _Seen:
    error = data.get("error")
    if error is not None:
        return _Seen(int(data["row"]), str(data["id"]), None, None, str(error["kind"]))
    return _Seen(int(data["row"]), str(data["id"]), float(data["score"]), str(data["verdict"]),
                 None)


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
        complete = last_line[0].endswith(b"\n")
        try:
            seen = _from_csv(fields)
        except (ValueError, IndexError):
            seen = None
        if not complete or seen is None:
            if consumed[0] == size:
                return  # the torn last record
            raise ResumeError(f"{path}: line {reader.line_num + 1} is not a batch record; "
                              f"{_START_OVER}.")
        yield seen, consumed[0]


def _from_csv(fields: list[str]) -> _Seen:
    if len(fields) != len(CSV_COLUMNS):
        raise ValueError("wrong field count")
    record = dict(zip(CSV_COLUMNS, fields, strict=True))
    if record["error_kind"]:
        return _Seen(int(record["row"]), record["id"], None, None, record["error_kind"])
    return _Seen(int(record["row"]), record["id"], float(record["score"]), record["verdict"],
                 None)
