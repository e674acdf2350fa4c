"""The readers hold no more than one bounded row at a time: an oversized JSONL line or CSV record
is an error row and reading goes on at the next line; a CSV header has a width limit."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from grader import Grader
from grader.batch import (
    MAX_CSV_COLUMNS,
    MAX_ROW_BYTES,
    BatchError,
    BatchOptions,
    RowReader,
    plan_batch,
    run_batch,
)
from grader.batch.readers import duplicate_names
from tests.batch.batch_files import read_jsonl, write_csv

ANSWER = "Adam keeps moving averages of the gradients and of their squares."


def jsonl_line(identifier: str, answer: str = ANSWER) -> bytes:
    return json.dumps({"id": identifier, "question_id": "adam-optimizer",
                       "answer": answer}).encode()


def test_an_oversized_jsonl_line_is_an_error_row_and_the_next_line_is_read(
    fake_grader: Grader, tmp_path: Path
) -> None:
    limit = 1_000
    at_limit = jsonl_line("at-limit", "x")
    at_limit = jsonl_line("at-limit", "x" * (limit - len(at_limit) + 1))
    assert len(at_limit) == limit
    over = jsonl_line("over", "y" * 5_000)
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([jsonl_line("first"), over, at_limit,
                                   at_limit[:-1] + b' }', jsonl_line("last")]) + b"\r\n")

    summary = run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions(
        max_row_bytes=limit)))

    records = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == ["first", "2", "at-limit", "4", "last"]
    assert [r["line"] for r in records] == [1, 2, 3, 4, 5]
    assert records[1]["error"]["kind"] == records[3]["error"]["kind"] == "row_too_long"
    assert "line 2 is over the limit of 1,000 bytes" in records[1]["error"]["message"]
    assert "--max-row-bytes" in records[1]["error"]["message"]
    assert all("error" not in records[n] for n in (0, 2, 4))
    assert summary.error_kinds == {"row_too_long": 2}


def test_the_default_row_limit_applies(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(jsonl_line("huge", "z" * MAX_ROW_BYTES) + b"\n" + jsonl_line("next"))
    with RowReader(source, "jsonl") as rows:
        found = list(rows)
    assert [(r.row, r.line) for r in found] == [(1, 1), (2, 2)]
    assert found[0].problem is not None and found[0].problem.kind == "row_too_long"
    assert found[1].fields is not None and found[1].fields["id"] == "next"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_reading_a_huge_line_holds_only_a_bounded_part_of_it(tmp_path: Path, fmt: str) -> None:
    limit, huge = 256 * 1024, 32 * 1024 * 1024
    source = tmp_path / f"in.{fmt}"
    with source.open("wb") as handle:
        if fmt == "csv":
            handle.write(b"id,question_id,answer\r\nhuge,adam-optimizer,")
        else:
            handle.write(b'{"id": "huge", "answer": "')
        for _ in range(huge // (1024 * 1024)):
            handle.write(b"w" * 1024 * 1024)
        handle.write(b"\r\n" if fmt == "csv" else b'"}\n')
        handle.write(b"next,adam-optimizer,short\r\n" if fmt == "csv" else jsonl_line("next"))

    tracemalloc.start()
    try:
        with RowReader(source, fmt, max_row_bytes=limit) as rows:  # type: ignore[arg-type]
            found = list(rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert [r.problem.kind if r.problem else "ok" for r in found] == ["row_too_long", "ok"]
    assert peak < 8 * limit, f"peak {peak:,} bytes to read a {huge:,}-byte line"


def test_an_oversized_csv_record_is_an_error_row_and_the_next_record_is_read(
    fake_grader: Grader, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", ["id", "question_id", "answer"], [
        ["first", "adam-optimizer", ANSWER],
        ["long", "adam-optimizer", "v" * 3_000],
        ["many-lines", "adam-optimizer", "line\n" * 600],  # one record over many lines
        ["last", "adam-optimizer", ANSWER],
    ])

    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions(
        max_row_bytes=2_000)))

    records = read_jsonl(tmp_path / "out.jsonl")
    kinds = [r.get("error", {}).get("kind") for r in records]
    assert kinds[:3] == [None, "row_too_long", "row_too_long"]
    assert records[-1]["id"] == "last" and kinds[-1] is None
    assert "2,000 characters" in records[1]["error"]["message"]


def test_unreadable_json_values_are_error_rows(fake_grader: Grader, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([
        b"[" * 100_000,                                         # nesting past the recursion limit
        b'{"id": ' + b"9" * 5_000 + b', "answer": "x"}',        # an integer of 5,000 digits
        jsonl_line("fine"),
    ]) + b"\n")
    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()))
    records = read_jsonl(tmp_path / "out.jsonl")
    assert [r.get("error", {}).get("kind") for r in records] == [
        "malformed_json", "malformed_json", None]
    assert "too deeply" in records[0]["error"]["message"]
    assert "4300 digits" in records[1]["error"]["message"]


def test_a_csv_header_wider_than_the_limit_is_refused(tmp_path: Path) -> None:
    header = ["id", "question_id", "answer", *(f"extra{n}" for n in range(MAX_CSV_COLUMNS))]
    source = write_csv(tmp_path / "in.csv", header, [["1", "adam-optimizer", ANSWER,
                                                      *[""] * MAX_CSV_COLUMNS]])
    with pytest.raises(BatchError, match=f"{len(header):,} columns; the limit is "
                                         f"{MAX_CSV_COLUMNS:,}"):
        plan_batch(source, tmp_path / "out.csv", BatchOptions())
    long_names = ["id", "question_id", "answer", "n" * 70_000]
    write_csv(source, long_names, [["1", "adam-optimizer", ANSWER, ""]])
    with pytest.raises(BatchError, match="header is over 65,536 characters"):
        plan_batch(source, tmp_path / "out.csv", BatchOptions())
    # At the limit, a header is read, and its repeated names are still named.
    at_limit = ["id", "question_id", "answer", *(f"c{n % 500}" for n in range(997))]
    write_csv(source, at_limit, [])
    with pytest.raises(BatchError, match="repeats column"):
        plan_batch(source, tmp_path / "out.csv", BatchOptions())


class CountedName(str):
    """A column name that counts the comparisons made with it (the work a check does)."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountedName.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_finding_repeated_column_names_is_linear() -> None:
    def comparisons(count: int) -> int:
        # Distinct objects, so that no comparison is skipped because the two are one object.
        names = [CountedName(f"column {n % (count // 2)}") for n in range(count)]
        CountedName.comparisons = 0
        assert len(duplicate_names(names)) == count // 2  # type: ignore[arg-type]
        return CountedName.comparisons

    # Counting list.count for each name once made 40,000 columns take 15 s: n * n comparisons.
    small, large = comparisons(1_000), comparisons(8_000)
    assert large <= 8 * max(small, 1) * 1.5, (small, large)
    assert large <= 2 * 8_000
