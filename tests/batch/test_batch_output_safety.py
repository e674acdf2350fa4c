"""The output never overwrites the input, whatever name points at it, and a CSV output is safe to
open in a spreadsheet: no input-derived cell can start a formula."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader import Grader
from grader.batch import BatchError, BatchOptions, plan_batch, run_batch
from grader.batch.output import csv_cell
from grader.batch.runner import BatchPlan
from tests.batch.batch_files import read_csv, read_jsonl, write_jsonl

ANSWER = "Adam keeps moving averages of the gradients and of their squares."


@pytest.mark.parametrize("link", ["hard", "symbolic"])
@pytest.mark.parametrize("mode", ["force", "resume"])
def test_an_output_that_is_a_link_to_the_input_is_refused(
    fake_grader: Grader, tmp_path: Path, link: str, mode: str
) -> None:
    # Named .jsonl and .csv, the input and the output are one file: --force would empty it.
    source = write_jsonl(tmp_path / "in.jsonl", [{"question_id": "adam-optimizer",
                                                   "answer": ANSWER}])
    before = source.read_bytes()
    target = tmp_path / "out.csv"
    if link == "hard":
        os.link(source, target)
    else:
        target.symlink_to(source)
    options = BatchOptions(output_format="jsonl", **{mode: True})  # type: ignore[arg-type]

    with pytest.raises(BatchError, match="is the input file"):
        plan_batch(source, target, options)
    # A plan made by hand is checked again before anything is opened for writing.
    with pytest.raises(BatchError, match="is the input file"):
        run_batch(fake_grader, BatchPlan(source, target, "jsonl", "jsonl", options))
    assert source.read_bytes() == before


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(A1:A2)",
            "\tTAB", "\rCR"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_cells_that_could_start_a_formula_are_neutralised(
    fake_grader: Grader, tmp_path: Path, formula: str
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": f"x{formula}", "question_id": "adam-optimizer", "answer": ANSWER},
        {"id": "bank-id", "question_id": formula, "answer": ANSWER},  # an unknown question
        # Ids are trimmed; a leading tab or CR survives only in a cell that is not trimmed.
        {"id": formula, "question_id": "adam-optimizer", "answer": ANSWER},
    ])
    run_batch(fake_grader, plan_batch(source, tmp_path / "out.csv", BatchOptions()))
    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()))

    records = read_csv(tmp_path / "out.csv")
    assert records[0]["id"] == f"x{formula}"
    assert records[1]["question_id"] == f"'{formula}"
    assert records[1]["error_kind"] == "unknown_question"
    assert records[2]["id"] in (f"'{formula}", formula.strip())
    for record in records:
        for column, cell in record.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    # JSONL is data, not a spreadsheet: it keeps every value as it was.
    json_records = read_jsonl(tmp_path / "out.jsonl")
    assert json_records[1]["question_id"] == formula
    assert json_records[2]["id"] == formula.strip()


def test_csv_cell_prefixes_exactly_the_owasp_characters() -> None:
    for start in "=+-@\t\r":
        assert csv_cell(f"{start}x") == f"'{start}x"
    for text in ("", "plain", "'quoted", " =spaced", "x=1", "\n", "5"):
        assert csv_cell(text) == text


def test_a_csv_output_with_neutralised_ids_resumes_exactly(fake_grader: Grader,
                                                          tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": f"{start}row {n}", "question_id": "adam-optimizer", "answer": ANSWER}
        for n, start in enumerate("=+-@", start=1)
    ])
    whole = tmp_path / "whole.csv"
    run_batch(fake_grader, plan_batch(source, whole, BatchOptions(chunk_size=1)))
    target = tmp_path / "out.csv"
    lines = whole.read_bytes().split(b"\r\n")
    target.write_bytes(b"\r\n".join(lines[:3]) + b"\r\n")  # the header and two rows

    summary = run_batch(fake_grader, plan_batch(source, target, BatchOptions(resume=True)))

    assert summary.resumed == 2
    assert target.read_bytes() == whole.read_bytes()
    assert [r["id"] for r in read_csv(target)] == ["'=row 1", "'+row 2", "'-row 3", "'@row 4"]


def test_jsonl_records_stay_one_line_for_readers_that_split_on_unicode_breaks(
    fake_grader: Grader, tmp_path: Path
) -> None:
    # JSON leaves U+0085, U+2028 and U+2029 unescaped; str.splitlines() breaks lines on them.
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": f"a{char}b", "question_id": f"q{char}", "answer": ANSWER}
        for char in "\x85\u2028\u2029"])
    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()))
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert len(text.splitlines()) == 3
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["a\x85b", "a\u2028b",
                                                                    "a\u2029b"]
