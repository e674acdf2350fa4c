"""Stream input rows from JSONL or CSV files, one at a time, with their line numbers.

Blank lines are not rows. Bytes that are not UTF-8, JSON that does not parse, CSV records the
csv module rejects and rows over the size limit (``grader.batch.lines``) become a ``RowProblem``
for that row; reading goes on with the next one. A CSV record that fails after running on over
several lines (a quote left open) is the error row of its first line, and the lines after it are
read again as rows. A CSV header is checked at once: at most ``MAX_CSV_COLUMNS`` columns, each
named once. ``-`` (``STDIO``) reads standard input.
"""

from __future__ import annotations

import csv
import io
import json
import stat
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from grader.batch.errors import BatchError
from grader.batch.fingerprint import InputFingerprint
from grader.batch.lines import MAX_ROW_BYTES, BoundedLines, RowTooLong
from grader.batch.rows import RowProblem

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
_EXTENSIONS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}

#: The columns a CSV input may use; others (a name, a cohort) are ignored. A CSV cell holds one
#: reference answer: ``reference_answers`` (the API's name) or ``reference_answer`` (older files).
CSV_INPUT_COLUMNS = ("id", "question_id", "answer", "question", "reference_answers",
                     "reference_answer")
#: The name that stands for standard input (as the input) or standard output (as the output).
STDIO = Path("-")

# Answers over the grader's limit must reach it (and become "answer over the limit" rows), so the
# csv module's own 128 KiB field limit is raised well above any sane answer.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
#: A header wider or longer than this is refused: an answer file has a handful of columns.
MAX_CSV_COLUMNS = 1_000
MAX_CSV_HEADER_CHARS = 64 * 1024


class _CsvReader(Protocol):
    def __next__(self) -> list[str]: ...


@dataclass(frozen=True)
class RawRow:
    """A row as read: its fields, or the problem that kept them from being read.

    ``digest`` is the hash of the row's bytes, for the input's fingerprint.
    """

    row: int
    line: int
    fields: dict[str, object] | None = None
    problem: RowProblem | None = None
    digest: bytes = b""


def is_stream(path: Path) -> bool:
    """Whether an output is written as a stream: ``-`` (standard output), or a path that is
    neither a regular file nor a folder (``/dev/stdout``, a named pipe)."""
    if path == STDIO:
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # not there yet: a file to create
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def format_of(path: Path, given: str | None, role: str, default: Format | None = None
              ) -> Format:
    """The format named by ``given``, else by the file extension, else ``default``."""
    if given is not None:
        if given not in FORMATS:
            raise BatchError(f"Unknown {role} format {given!r}; use one of: {', '.join(FORMATS)}.")
        return given
    found = _EXTENSIONS.get(path.suffix.lower(), default)
    if found is None and path == STDIO:
        raise BatchError("Standard input (-) has no extension to tell its format by; pass "
                         "--format jsonl|csv.")
    if found is None:
        flag = "--format" if role == "input" else "--output-format"
        raise BatchError(
            f"Cannot tell the {role} format of {path.name!r} from its extension; name it "
            f"{' or '.join(_EXTENSIONS)}, or pass {flag} jsonl|csv."
        )
    return found


class RowReader:
    """Streams the rows of an input file. Opening it checks the file (and a CSV header) at once.

    No row is held past ``max_row_bytes`` (bytes of a JSONL line, characters of a CSV record):
    a longer one is skipped to the end of its line and becomes a ``row_too_long`` row.

    ```python
    with RowReader(Path("answers.jsonl"), "jsonl") as rows:
        for raw in rows: ...
    ```
    """

    def __init__(self, path: Path, fmt: Format, max_row_bytes: int = MAX_ROW_BYTES) -> None:
        try:
            # ``-``: standard input, read through a handle of its own that leaves it open
            self._handle: BinaryIO = (open(sys.stdin.fileno(), "rb", closefd=False)
                                      if path == STDIO else path.open("rb"))
        except OSError as exc:
            raise BatchError(f"Cannot read input {path}: {exc.strerror}.") from exc
        self._format = fmt
        self._rows: Iterator[RawRow]
        self._text: io.TextIOWrapper | None = None
        self._header_digest = b""
        if fmt == "jsonl":
            self._rows = _jsonl_rows(BoundedLines(self._handle, max_row_bytes, (b"\r\n", b"\n")))
            return
        csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
        # surrogateescape keeps undecodable bytes so the one row holding them can be reported.
        self._text = io.TextIOWrapper(self._handle, encoding="utf-8-sig",
                                      errors="surrogateescape", newline="")
        lines = BoundedLines(self._text, max_row_bytes, ("\r\n", "\n", "\r"), quote='"')
        try:
            reader = csv.reader(lines, strict=True)
            header = _csv_header(reader, lines, path)
        except BaseException:
            self.close()
            raise
        self._header_digest = lines.row_digest()
        self._rows = _csv_records(reader, lines, header)

    def fingerprint(self) -> InputFingerprint:
        """A fresh chain of digests over this input, to take in its rows one by one."""
        return InputFingerprint(self._format, self._header_digest)

    def __iter__(self) -> Iterator[RawRow]:
        return self._rows

    def close(self) -> None:
        (self._text or self._handle).close()

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def count_rows(path: Path, fmt: Format, max_row_bytes: int = MAX_ROW_BYTES) -> int:
    """How many rows ``RowReader`` will yield (one quick pass, for a progress bar's total)."""
    with RowReader(path, fmt, max_row_bytes) as rows:
        return sum(1 for _ in rows)


def _too_long(too_long: RowTooLong, what: str) -> RowProblem:
    where = (f"line {too_long.first_line}" if too_long.first_line == too_long.last_line
             else f"lines {too_long.first_line}-{too_long.last_line}")
    return RowProblem("row_too_long", f"the {what} on {where} is over the limit of "
                      f"{too_long.limit:,} {'bytes' if what == 'line' else 'characters'}; "
                      "shorten it, or raise --max-row-bytes")


def _jsonl_rows(lines: BoundedLines[bytes]) -> Iterator[RawRow]:
    row = 0
    while True:
        lines.start_row()
        try:
            raw = next(lines, None)
        except RowTooLong as too_long:
            row += 1
            yield RawRow(row, too_long.first_line, problem=_too_long(too_long, "line"),
                         digest=lines.row_digest())
            continue
        if raw is None:
            return
        if lines.line_num == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if not raw.strip():
            continue
        row += 1
        yield _jsonl_row(raw, row, lines.line_num, lines.row_digest())


def _jsonl_row(raw: bytes, row: int, line: int, digest: bytes) -> RawRow:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RawRow(row, line, digest=digest, problem=RowProblem(
            "not_utf8", f"line {line} is not valid UTF-8 (byte {exc.start + 1}); save the file "
                        "as UTF-8"))
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return RawRow(row, line, digest=digest, problem=RowProblem(
            # some of json's messages end in "at" ("Invalid control character at")
            "malformed_json", f"line {line} is not valid JSON: "
                              f"{exc.msg.removesuffix(' at')} at column {exc.colno}"))
    except RecursionError:
        return RawRow(row, line, digest=digest, problem=RowProblem(
            "malformed_json", f"line {line} nests arrays or objects too deeply to be read"))
    except ValueError as exc:  # a number of over 4,300 digits
        return RawRow(row, line, digest=digest, problem=RowProblem(
            "malformed_json", f"line {line} cannot be read as JSON: {str(exc).split(':')[0]}"))
    if not isinstance(value, dict):
        kind = "an array" if isinstance(value, list) else type(value).__name__
        return RawRow(row, line, digest=digest, problem=RowProblem(
            "malformed_json", f"line {line} is {kind}, not a JSON object with an 'answer'"))
    return RawRow(row, line, fields=value, digest=digest)


def _csv_header(reader: _CsvReader, lines: BoundedLines[str], path: Path) -> list[str]:
    lines.start_row(MAX_CSV_HEADER_CHARS)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise BatchError(f"{path}: the CSV header cannot be read ({exc}).") from exc
    except RowTooLong as exc:
        raise BatchError(f"{path}: the CSV header is over {MAX_CSV_HEADER_CHARS:,} characters; "
                         "is the first line a header?") from exc
    if len(header) > MAX_CSV_COLUMNS:
        raise BatchError(f"{path}: the CSV header has {len(header):,} columns; the limit is "
                         f"{MAX_CSV_COLUMNS:,}. Keep only the columns grader reads "
                         f"({', '.join(CSV_INPUT_COLUMNS)}).")
    header = [name.strip() for name in header]
    if not header:
        return header
    duplicates = duplicate_names(header)
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


def duplicate_names(names: list[str]) -> list[str]:
    """The non-empty names that occur more than once, sorted (one pass: linear in the names)."""
    return sorted(name for name, count in Counter(names).items() if count > 1 and name)


def _csv_records(reader: _CsvReader, lines: BoundedLines[str], header: list[str]
                 ) -> Iterator[RawRow]:
    row = 0
    while header:
        lines.start_row()
        line = lines.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except RowTooLong as too_long:
            row += 1
            yield RawRow(row, line, problem=_too_long(too_long, "CSV record"),
                         digest=lines.row_digest())
            continue
        except csv.Error as exc:
            row += 1
            last = lines.line_num
            # A quote left open runs on over the lines after it: give them back, to be read as
            # the rows they are, so that this error row stands for its own line only.
            again = lines.reread_after_first_line()
            took = (f" (a quote opened on line {line} ran on to line {last}; lines "
                    f"{line + 1}-{last} are read again as rows of their own)" if again else "")
            yield RawRow(row, line, problem=RowProblem(
                "malformed_csv", f"the CSV record at line {line} cannot be read: {exc}{took}; "
                                 "close the quote, or double a quote inside a quoted field"),
                digest=lines.row_digest())
            continue
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line
        row += 1
        yield _csv_row(record, header, row, line, lines.row_digest())


def _csv_row(record: list[str], header: list[str], row: int, line: int, digest: bytes
             ) -> RawRow:
    if len(record) != len(header):
        return RawRow(row, line, digest=digest, problem=RowProblem(
            "malformed_csv", f"the CSV record at line {line} has {len(record)} fields but the "
                             f"header has {len(header)}; quote fields that contain commas"))
    for value in record:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return RawRow(row, line, digest=digest, problem=RowProblem(
                "not_utf8", f"the CSV record at line {line} is not valid UTF-8; save the file "
                            "as UTF-8"))
    # An empty cell means "not given", except for the answer, where it is an (empty) answer.
    fields: dict[str, object] = {
        name: value for name, value in zip(header, record, strict=True)
        if name and (value != "" or name == "answer")
    }
    if isinstance(fields.get("reference_answers"), str):  # a cell holds one reference answer
        fields["reference_answers"] = [fields["reference_answers"]]
    return RawRow(row, line, fields=fields, digest=digest)
