"""Stream input rows from JSONL or CSV files, one at a time, with their line numbers.

Blank lines are not rows. Bytes that are not UTF-8, JSON that does not parse and CSV records the
csv module rejects become a ``RowProblem`` for that row; reading goes on with the next one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from grader.batch.errors import BatchError
from grader.batch.rows import RowProblem

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
_EXTENSIONS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}

#: The columns a CSV input may use; others (a name, a cohort) are ignored.
CSV_INPUT_COLUMNS = ("id", "question_id", "answer", "question", "reference_answer")

# Answers over the grader's limit must reach it (and become "answer over the limit" rows), so the
# csv module's own 128 KiB field limit is raised well above any sane answer.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


class _CsvReader(Protocol):
    line_num: int

    def __next__(self) -> list[str]: ...


@dataclass(frozen=True)
class RawRow:
    """A row as read: its fields, or the problem that kept them from being read."""

    row: int
    line: int
    fields: dict[str, object] | None = None
    problem: RowProblem | None = None


def format_of(path: Path, given: str | None, role: str) -> Format:
    """The format named by ``given``, else by the file extension."""
    if given is not None:
        if given not in FORMATS:
            raise BatchError(f"Unknown {role} format {given!r}; use one of: {', '.join(FORMATS)}.")
        return given
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        flag = "--format" if role == "input" else "--output-format"
        raise BatchError(
            f"Cannot tell the {role} format of {path.name!r} from its extension; name it "
            f"{' or '.join(_EXTENSIONS)}, or pass {flag} jsonl|csv."
        )
    return found


class RowReader:
    """Streams the rows of an input file. Opening it checks the file (and a CSV header) at once.

    ```python
    with RowReader(Path("answers.jsonl"), "jsonl") as rows:
        for raw in rows: ...
    ```
    """

    def __init__(self, path: Path, fmt: Format) -> None:
        try:
            self._handle: BinaryIO = path.open("rb")
        except OSError as exc:
            raise BatchError(f"Cannot read input {path}: {exc.strerror}.") from exc
        self._rows: Iterator[RawRow]
        self._text: io.TextIOWrapper | None = None
        if fmt == "jsonl":
            self._rows = _jsonl_rows(self._handle)
            return
        csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
        # surrogateescape keeps undecodable bytes so the one row holding them can be reported.
        self._text = io.TextIOWrapper(self._handle, encoding="utf-8-sig",
                                      errors="surrogateescape", newline="")
        try:
            self._rows = _csv_rows(self._text, path)
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[RawRow]:
        return self._rows

    def close(self) -> None:
        (self._text or self._handle).close()

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def count_rows(path: Path, fmt: Format) -> int:
    """How many rows ``RowReader`` will yield (one quick pass, for a progress bar's total)."""
    if fmt == "jsonl":
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    with RowReader(path, fmt) as rows:
        return sum(1 for _ in rows)


def _jsonl_rows(handle: BinaryIO) -> Iterator[RawRow]:
    row = 0
    for line_number, raw in enumerate(handle, start=1):
        if line_number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if not raw.strip():
            continue
        row += 1
        yield _jsonl_row(raw, row, line_number)


def _jsonl_row(raw: bytes, row: int, line: int) -> RawRow:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RawRow(row, line, problem=RowProblem(
            "not_utf8", f"line {line} is not valid UTF-8 (byte {exc.start + 1}); save the file "
                        "as UTF-8"))
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return RawRow(row, line, problem=RowProblem(
            "malformed_json", f"line {line} is not valid JSON: {exc.msg} at column {exc.colno}"))
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else type(value).__name__
        return RawRow(row, line, problem=RowProblem(
            "malformed_json", f"line {line} is {kind}, not a JSON object with an 'answer'"))
    return RawRow(row, line, fields=value)


def _csv_rows(text: io.TextIOWrapper, path: Path) -> Iterator[RawRow]:
    reader = csv.reader(text, strict=True)
    header = _csv_header(reader, path)
    return _csv_records(reader, header)


def _csv_header(reader: _CsvReader, path: Path) -> list[str]:
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise BatchError(f"{path}: the CSV header cannot be read ({exc}).") from exc
    header = [name.strip() for name in header]
    if not header:
        return header
    duplicates = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicates:
        raise BatchError(f"{path}: the CSV header repeats column(s) {', '.join(duplicates)}; "
                         "name each column once.")
    if "answer" not in header or not ({"question_id", "question"} & set(header)):
        raise BatchError(
            f"{path}: the CSV header is {','.join(header)!r}; it needs an 'answer' column and a "
            "'question_id' column, or 'question' and 'reference_answer' columns for ad-hoc "
            f"questions (known columns: {', '.join(CSV_INPUT_COLUMNS)})."
        )
    return header


def _csv_records(reader: _CsvReader, header: list[str]) -> Iterator[RawRow]:
    row, previous_line = 0, reader.line_num
    while header:
        line = previous_line + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row += 1
            previous_line = reader.line_num
            yield RawRow(row, line, problem=RowProblem(
                "malformed_csv", f"the CSV record at line {line} cannot be read: {exc}"))
            continue
        previous_line = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line
        row += 1
        yield _csv_row(record, header, row, line)


def _csv_row(record: list[str], header: list[str], row: int, line: int) -> RawRow:
    if len(record) != len(header):
        return RawRow(row, line, problem=RowProblem(
            "malformed_csv", f"the CSV record at line {line} has {len(record)} fields but the "
                             f"header has {len(header)}; quote fields that contain commas"))
    for value in record:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return RawRow(row, line, problem=RowProblem(
                "not_utf8", f"the CSV record at line {line} is not valid UTF-8; save the file "
                            "as UTF-8"))
    # An empty cell means "not given", except for the answer, where it is an (empty) answer.
    fields: dict[str, object] = {
        name: value for name, value in zip(header, record, strict=True)
        if name and (value != "" or name == "answer")
    }
    return RawRow(row, line, fields=fields)
