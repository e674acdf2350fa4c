"""Properties of the batch readers and runner over arbitrary input: any Unicode, control
characters, lone surrogates, bytes that are not UTF-8, huge and empty values.

- No exception escapes: every problem is a row's error.
- Each input row yields exactly one output row, in order, and a resumed run gives the same file.
- Time grows linearly with the input (a ratio between two sizes, never a time limit).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import Grader, QuestionBank, Settings
from grader.batch import BatchOptions, RowReader, count_rows, plan_batch, run_batch
from grader.batch.output import CSV_COLUMNS
from grader.batch.readers import Format
from tests.batch.batch_files import read_csv, read_jsonl
from tests.batch.timing import assert_linear
from tests.fakes import MAX_ANSWER_CHARS, FakeEmbedder

LIMIT = 600  # a small row limit, so that generated rows cross it
# The same examples on every run: CI never fails on a draw a local run did not make.
PROPERTIES = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Text of every kind: any code point (lone surrogates included), control characters, quotes,
# separators and line ends, and now and then a long run of one character.
texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.text(st.sampled_from('",;=+-@\t\r\n\x00\x1b\u2028\ufeff\ud800\udfff é😀'), max_size=20),
    st.builds(lambda c, n: c * n, st.sampled_from("x\"\n\\é"), st.integers(LIMIT - 5, 3 * LIMIT)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
QUESTION_IDS = ["adam-optimizer", "ann-basics", "no-such-question", ""]
rows = st.fixed_dictionaries({}, optional={
    "id": st.one_of(texts, st.integers(), json_values),
    "question_id": st.one_of(st.sampled_from(QUESTION_IDS), texts, json_values),
    "answer": st.one_of(texts, json_values),
    "question": st.one_of(texts, json_values),
    "reference_answer": st.one_of(texts, json_values),
    "reference_answers": st.one_of(st.lists(texts, max_size=12), json_values),
    "criteria": st.one_of(st.lists(texts, max_size=4), json_values),
})


def encode_line(value: Any, ascii_only: bool) -> bytes:
    """One JSONL line; with ``ascii_only`` False a lone surrogate becomes bytes not UTF-8."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


jsonl_lines = st.one_of(
    st.builds(encode_line, rows, st.booleans()),
    st.builds(encode_line, json_values, st.booleans()),
    st.binary(max_size=80).map(lambda raw: raw.replace(b"\n", b"")),  # anything but a newline
    st.sampled_from([b"", b"   ", b"\r", b"\xef\xbb\xbf", b"[" * 5_000, b"1" * 5_000]),
)


def expected_jsonl_rows(lines: list[bytes]) -> int:
    """Rows the reader must yield: each line over the limit, and each line that is not blank."""
    count = 0
    for number, line in enumerate(lines, start=1):
        body = line.removesuffix(b"\r")  # "\r\n" ends the line; its bytes do not count
        text = line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
        count += len(body) > LIMIT or bool(text.strip())
    return count


@functools.cache
def grader() -> Grader:
    """One fake grader for every example (a fixture would be made once per test, not example)."""
    return Grader(QuestionBank.from_dir(Path(__file__).resolve().parents[2] / "rubrics"),
                  FakeEmbedder(), settings=Settings(max_answer_chars=MAX_ANSWER_CHARS))


@PROPERTIES
@given(st.lists(jsonl_lines, max_size=12))
def test_the_jsonl_reader_yields_one_row_per_line_that_is_not_blank(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.jsonl"
        source.write_bytes(b"".join(line + b"\n" for line in lines))
        with RowReader(source, "jsonl", max_row_bytes=LIMIT) as reader:
            found = list(reader)
    assert [r.row for r in found] == list(range(1, expected_jsonl_rows(lines) + 1))
    assert all((r.fields is None) != (r.problem is None) for r in found)
    lines_of_rows = [r.line for r in found]
    assert lines_of_rows == sorted(set(lines_of_rows))
    assert all(1 <= line <= len(lines) for line in lines_of_rows)


csv_records = st.lists(st.lists(texts, min_size=1, max_size=5), max_size=10)


@PROPERTIES
@given(csv_records)
def test_the_csv_reader_yields_one_row_per_record(records: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.csv"
        source.write_bytes(csv_bytes(["id", "question_id", "answer"], records))
        with RowReader(source, "csv", max_row_bytes=LIMIT) as reader:
            found = list(reader)
    written = csv_rows(records)
    assert [r.row for r in found] == list(range(1, len(written) + 1))
    for raw, record in zip(found, written, strict=True):
        readable = len(record) == 3 and len(buffer_of(record)) <= LIMIT and not any(
            "\ud800" <= c <= "\udfff" for cell in record for c in cell)
        assert (raw.fields is None) != (raw.problem is None)
        if readable:  # a well-formed record comes back as it was written
            assert raw.fields is not None, raw.problem
            assert raw.fields["answer"] == record[2]


def buffer_of(record: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(record)
    return buffer.getvalue()


def csv_bytes(header: list[str], records: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(records)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


def csv_rows(records: list[list[str]]) -> list[list[str]]:
    """The records that are rows: a record of one blank cell is a blank line (unless it is too
    long to tell)."""
    return [r for r in records
            if not (len(r) == 1 and not r[0].strip() and len(buffer_of(r)) <= LIMIT)]


CSV_HEADER = ["id", "question_id", "answer", "question", "reference_answer"]
csv_inputs = st.lists(st.lists(st.one_of(st.sampled_from(QUESTION_IDS), texts),
                               min_size=1, max_size=6), min_size=1, max_size=8)


@PROPERTIES
@given(st.one_of(st.lists(jsonl_lines, min_size=1, max_size=8).map(lambda x: ("jsonl", x)),
                 csv_inputs.map(lambda x: ("csv", x))),
       st.sampled_from(["jsonl", "csv"]), st.integers(1, 4), st.floats(0, 1))
def test_the_runner_writes_one_row_per_input_row_and_resumes_to_the_same_file(
    given_input: tuple[str, Any], output_format: str, chunk_size: int, cut_at: float
) -> None:
    input_format, content = given_input
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"in.{input_format}"
        target = Path(folder) / f"out.{output_format}"
        if input_format == "jsonl":
            source.write_bytes(b"".join(line + b"\n" for line in content))
            expected = expected_jsonl_rows(content)
        else:
            source.write_bytes(csv_bytes(CSV_HEADER, content))
            expected = len(csv_rows(content))
        options = BatchOptions(chunk_size=chunk_size, max_row_bytes=LIMIT)

        summary = run_batch(grader(), plan_batch(source, target, options))

        records = read_jsonl(target) if output_format == "jsonl" else read_csv(target)
        assert [int(r["row"]) for r in records] == list(range(1, expected + 1))
        assert summary.rows == expected == summary.graded + summary.errors
        if output_format == "csv":
            for record in records:
                assert list(record) == list(CSV_COLUMNS)
                for column, cell in record.items():
                    if column not in ("row", "line", "score"):
                        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

        # Killed anywhere, then resumed: the same file as the uninterrupted run.
        whole = target.read_bytes()
        target.write_bytes(whole[: int(len(whole) * cut_at)])
        run_batch(grader(), plan_batch(source, target, BatchOptions(
            chunk_size=chunk_size, max_row_bytes=LIMIT, resume=True)))
        assert target.read_bytes() == whole


def rows_file(folder: Path, count: int, fmt: Format) -> Path:
    rows = [{"id": f"r{n}", "question_id": "adam-optimizer", "answer": f"answer {n}, \"quoted\""}
            for n in range(count)]
    source = folder / f"rows-{count}.{fmt}"
    if fmt == "jsonl":
        source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, ["id", "question_id", "answer"])
            writer.writeheader()
            writer.writerows(rows)
    return source


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_reading_is_linear_in_the_number_of_rows(tmp_path: Path, fmt: Format) -> None:
    small, large = rows_file(tmp_path, 2_500, fmt), rows_file(tmp_path, 20_000, fmt)
    assert_linear(lambda: count_rows(small, fmt), lambda: count_rows(large, fmt), 8)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_reading_is_linear_in_the_length_of_lines_skipped(tmp_path: Path, fmt: Format) -> None:
    def huge(size: int) -> Path:
        source = tmp_path / f"huge-{size}.{fmt}"
        head = b"id,question_id,answer\r\n1,x,\"" if fmt == "csv" else b'{"answer": "'
        # A quoted CSV field over many lines, full of quotes; a JSONL line of escapes.
        piece = b'a ""b"" c ' * 9 + b"\n" if fmt == "csv" else b"\\\"\\u00e9 " * 10
        body = piece * (size // len(piece))
        source.write_bytes(head + body + (b'"\r\n' if fmt == "csv" else b'"}\n'))
        return source

    def read(path: Path) -> None:
        with RowReader(path, fmt, max_row_bytes=64 * 1024) as reader:
            assert [r.problem.kind for r in reader if r.problem] == ["row_too_long"]

    small, large = huge(1_000_000), huge(8_000_000)
    assert_linear(lambda: read(small), lambda: read(large), 8)


def test_the_runner_is_linear_in_the_number_of_rows(tmp_path: Path) -> None:
    def rows_file(count: int) -> Path:
        # Rows that never reach the model (bad, repeated or unknown), so the runner's own work
        # is measured: the ids it remembers, the digests, the records it writes.
        source = tmp_path / f"runner-{count}.jsonl"
        source.write_text("".join(
            (json.dumps({"id": f"r{n % (count // 2)}", "question_id": "no-such-question",
                         "answer": "x"}) if n % 3 else "{not json") + "\n"
            for n in range(count)), encoding="utf-8")
        return source

    small, large = rows_file(1_000), rows_file(8_000)

    def grade(source: Path) -> None:
        run_batch(grader(), plan_batch(source, tmp_path / "out.csv", BatchOptions(force=True)))

    assert_linear(lambda: grade(small), lambda: grade(large), 8)
