"""Output records and their two encodings, JSONL and CSV, written durably chunk by chunk.

A JSONL record is the row's ``id``, ``row`` and ``line``, then either every ``GradeResult`` field or
``error: {kind, message}``, then ``input_digest`` (see ``grader.batch.fingerprint``). A CSV record
flattens the same into ``CSV_COLUMNS``, with every text cell that a spreadsheet would take for a
formula prefixed with ``'`` (``csv_cell``). Every record is written whole and ends with a newline,
which is what lets ``resume`` tell a torn tail from a record.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.readers import STDIO, Format, is_stream
from grader.batch.rows import RowProblem
from grader.result import GradeResult

CSV_COLUMNS = (
    "id", "row", "line", "question_id", "score", "verdict", "missed_criteria", "feedback",
    "critic", "needs_review", "flags", "error_kind", "error", "input_digest",
)
#: Separator of list values (missed criterion ids, flags) inside one CSV cell.
CSV_LIST_SEPARATOR = "; "
# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# Line breaks to str.splitlines() (and to JavaScript before ES2019) that JSON leaves unescaped.
_LINE_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: ``=SUM(A1)`` becomes ``'=SUM(A1)``."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class OutputRecord:
    """One output row: a grade or an error, for the input row ``row``."""

    id: str
    row: int
    line: int
    result: GradeResult | None = None
    problem: RowProblem | None = None
    question_id: str | None = None
    input_digest: str = ""

    def as_json(self) -> dict[str, Any]:
        head: dict[str, Any] = {"id": self.id, "row": self.row, "line": self.line}
        tail = {"input_digest": self.input_digest}
        if self.result is not None:
            return head | self.result.model_dump(mode="json") | tail
        if self.question_id is not None:
            head["question_id"] = self.question_id
        problem = self.problem or RowProblem("grading_failed", "no result")
        return head | {"error": {"kind": problem.kind, "message": problem.message}} | tail

    def as_csv(self) -> list[str]:
        result, problem = self.result, self.problem
        if result is None:
            problem = problem or RowProblem("grading_failed", "no result")
            texts = [self.question_id or "", "", "", "", "", "", "", "", problem.kind,
                     problem.message]
        else:
            missed = [c.id for c in result.criteria if c.status in ("missed", "contradicted")]
            texts = [result.question_id, f"{result.score:g}", result.verdict,
                     CSV_LIST_SEPARATOR.join(missed), result.feedback.summary,
                     result.critic.kind, "true" if result.needs_review else "false",
                     CSV_LIST_SEPARATOR.join(result.flags), "", ""]
        # Every text cell, input-derived or not, is made safe: the rule needs no exceptions.
        return [csv_cell(self.id), str(self.row), str(self.line),
                *(csv_cell(text) for text in texts), self.input_digest]


def encode(records: Sequence[OutputRecord], fmt: Format) -> bytes:
    """The bytes of ``records``, each ending in a newline."""
    if fmt == "jsonl":
        # JSON escapes newlines inside strings, so one record is exactly one line; the three
        # line breaks it leaves alone are escaped too, for readers that split on them.
        text = "".join(json.dumps(r.as_json(), ensure_ascii=False).translate(_LINE_BREAKS)
                       + "\n" for r in records)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows(r.as_csv() for r in records)
        text = buffer.getvalue()
    return text.encode("utf-8", errors="replace")


def csv_header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(CSV_COLUMNS)
    return buffer.getvalue().encode("utf-8")


class OutputWriter:
    """Appends records to the output; each ``write`` is on disk (flushed and fsynced) on return.

    A stream (``-`` for standard output, ``/dev/stdout``, a pipe) is written and flushed, with
    no fsync: there is no file to make durable.
    """

    def __init__(self, path: Path, fmt: Format) -> None:
        self._fmt = fmt
        self._stream = is_stream(path)
        created = not self._stream and not path.exists()
        # ``-``: standard output, through a handle of its own that leaves it open
        self._file = (open(sys.stdout.fileno(), "wb", closefd=False)
                      if path == STDIO else path.open("ab"))
        if path == STDIO:
            sys.stdout.flush()  # anything printed before goes first
        if created:
            _sync_directory(path.parent)
        if fmt == "csv" and (self._stream or self._file.tell() == 0):
            self._append(csv_header())

    def write(self, records: Sequence[OutputRecord]) -> None:
        if records:
            self._append(encode(records, self._fmt))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _append(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        if not self._stream:
            os.fsync(self._file.fileno())


def _sync_directory(folder: Path) -> None:
    # Makes the new file's directory entry durable too; not every platform allows it.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
