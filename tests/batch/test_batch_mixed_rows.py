"""Every input row yields exactly one output row: a grade, or an error with its line and reason."""

from __future__ import annotations

from pathlib import Path

from grader import Grader
from grader.batch import CSV_COLUMNS, BatchOptions, plan_batch, run_batch
from tests.batch.batch_files import read_csv, read_jsonl, write_csv, write_jsonl
from tests.fakes import MAX_ANSWER_CHARS

GOOD = ("Adam keeps a moving average of the gradients, like momentum, and divides each step by "
        "the root of a moving average of squared gradients, like RMSprop.")
STACK = {"question": "What is a stack?",
         "reference_answer": "A stack is a last-in, first-out collection: push adds on top, "
                             "pop removes the top."}


def grade_file(grader: Grader, source: Path, target: Path, **options: object):
    return run_batch(grader, plan_batch(source, target, BatchOptions(**options)))  # type: ignore[arg-type]


def test_jsonl_mixed_rows_each_get_one_output_row(fake_grader: Grader, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "good", "question_id": "adam-optimizer", "answer": GOOD},
        {"id": "lost", "question_id": "no-such-question", "answer": GOOD},
        '{"id": "torn", "question_id": "adam-optimizer", "answer": "no closing',
        "",  # a blank line is not a row
        {"id": "long", "question_id": "adam-optimizer", "answer": "x" * (MAX_ANSWER_CHARS + 1)},
        {"id": "typed", "question_id": "adam-optimizer", "answer": 42},
        {"id": "empty-q", "answer": GOOD},
        {"id": "good", "question_id": "adam-optimizer", "answer": "a repeated id"},
        {"question_id": "adam-optimizer", "answer": GOOD, "student": "ignored extra field"},
        {**STACK, "id": "adhoc", "answer": "A stack is last in first out; pop takes the top."},
        {"id": "adhoc-list", "question": STACK["question"],
         "reference_answers": [STACK["reference_answer"], "LIFO: push and pop at one end."],
         "answer": "LIFO, push and pop."},
        {"id": "both", "question_id": "adam-optimizer", "answer": GOOD,
         "reference_answer": "ambiguous"},
        [1, 2, 3],
    ])
    target = tmp_path / "out.jsonl"

    summary = grade_file(fake_grader, source, target)

    records = read_jsonl(target)
    assert [r["row"] for r in records] == list(range(1, 13))
    assert [r["line"] for r in records] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    by_row = {r["row"]: r for r in records}
    expected_errors = {2: "unknown_question", 3: "malformed_json", 4: "invalid_answer",
                       5: "wrong_type", 6: "missing_field", 7: "duplicate_id",
                       11: "invalid_row", 12: "malformed_json"}
    for row, kind in expected_errors.items():
        assert by_row[row]["error"]["kind"] == kind, by_row[row]
        assert "score" not in by_row[row]
    for row in (1, 8, 9, 10):
        assert "error" not in by_row[row]
        assert 0 <= by_row[row]["score"] <= 100
        assert by_row[row]["verdict"] in ("pass", "borderline", "fail")
    assert by_row[8]["id"] == "8"  # no id given: the row number
    assert by_row[1]["question_id"] == "adam-optimizer"
    assert by_row[9]["question_id"].startswith("adhoc-")
    assert by_row[2]["question_id"] == "no-such-question"
    assert "line 3" in by_row[3]["error"]["message"]
    assert "20,000" not in by_row[4]["error"]["message"]  # the configured limit is named
    assert f"{MAX_ANSWER_CHARS:,}" in by_row[4]["error"]["message"]
    assert "row 1" in by_row[7]["error"]["message"]
    assert (summary.rows, summary.graded, summary.errors) == (12, 4, 8)
    assert sum(summary.verdicts.values()) == 4
    assert summary.mean_score is not None


def test_csv_mixed_rows_each_get_one_output_row(fake_grader: Grader, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    write_csv(source, ["id", "question_id", "answer", "question", "reference_answer", "cohort"], [
        ["c1", "adam-optimizer", GOOD, "", "", "spring"],
        ["c2", "missing-question", GOOD, "", "", "spring"],
        ["", "adam-optimizer", "Line one of the answer.\nLine two, after a newline.", "", "", ""],
        ["c4", "", "", STACK["question"], STACK["reference_answer"], ""],
        ["c5", "", "an answer", "", "", ""],
        ["c6", "adam-optimizer", "y" * (MAX_ANSWER_CHARS + 5), "", "", ""],
    ])
    with source.open("a", encoding="utf-8", newline="") as handle:
        handle.write("c7,adam-optimizer,too,many,fields,here,!\r\n")
        handle.write("\r\n")  # blank: not a row
        handle.write('c8,adam-optimizer,"an ""unterminated"" quote" x,,,\r\n')
    with source.open("ab") as handle:
        handle.write(b"c9,adam-optimizer,caf\xe9 latin-1 bytes,,,\r\n")
        handle.write(b"c10,adam-optimizer,back to good rows,,,\r\n")
    target = tmp_path / "out.csv"

    summary = grade_file(fake_grader, source, target)

    records = read_csv(target)
    assert list(records[0]) == list(CSV_COLUMNS)
    # A record that cannot be read is named by its row number: its id cell is not trusted.
    assert [r["id"] for r in records] == ["c1", "c2", "3", "c4", "c5", "c6", "7", "8", "9",
                                          "c10"]
    assert [r["line"] for r in records] == ["2", "3", "4", "6", "7", "8", "9", "11", "12", "13"]
    kinds = {r["id"]: r["error_kind"] for r in records}
    assert kinds == {"c1": "", "c2": "unknown_question", "3": "", "c4": "", "c5": "missing_field",
                     "c6": "invalid_answer", "7": "malformed_csv", "8": "malformed_csv",
                     "9": "not_utf8", "c10": ""}
    graded = [r for r in records if not r["error_kind"]]
    for record in graded:
        assert 0 <= float(record["score"]) <= 100
        assert record["critic"] == "offline"
        assert record["feedback"]
        assert record["error"] == ""
    assert records[0]["missed_criteria"]  # the fake embedder misses some adam criteria
    assert all(c for c in records[0]["missed_criteria"].split("; "))
    assert "line 9" in records[6]["error"]
    assert (summary.rows, summary.graded, summary.errors) == (10, 4, 6)


def test_csv_header_without_answer_column_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    import pytest

    from grader.batch import BatchError

    source = write_csv(tmp_path / "in.csv", ["id", "question_id", "text"], [["1", "x", "y"]])
    with pytest.raises(BatchError, match="'answer' column"):
        plan_batch(source, tmp_path / "out.csv", BatchOptions())
    assert not (tmp_path / "out.csv").exists()


def test_empty_input_gives_an_empty_output(fake_grader: Grader, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n\n", encoding="utf-8")
    summary = grade_file(fake_grader, source, tmp_path / "out.csv")
    assert summary.rows == 0
    assert read_csv(tmp_path / "out.csv") == []
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").startswith("id,row,line,")
