"""Batch rows take the API's name for an ad-hoc question's references, ``reference_answers``;
``reference_answer`` stays as an alias for older files. A JSON error is worded once (issue 22)."""

from __future__ import annotations

from pathlib import Path

from grader import Grader
from grader.batch import BatchOptions, plan_batch, run_batch
from tests.batch.batch_files import read_jsonl, write_csv, write_jsonl

QUESTION = "What is a stack?"
REFERENCE = "A stack is a last-in, first-out collection: push adds on top, pop takes the top."


def test_csv_and_jsonl_rows_take_reference_answers(fake_grader: Grader, tmp_path: Path) -> None:
    csv_source = write_csv(tmp_path / "in.csv", ["id", "question", "reference_answers", "answer"],
                           [["s1", QUESTION, REFERENCE, "Push on top, pop from the top."]])
    jsonl_source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "j1", "question": QUESTION, "reference_answers": [REFERENCE], "answer": "LIFO."},
        {"id": "j2", "question": QUESTION, "reference_answer": REFERENCE, "answer": "LIFO."},
        {"id": "j3", "question": QUESTION, "answer": "LIFO."},
    ])
    for source in (csv_source, jsonl_source):
        run_batch(fake_grader, plan_batch(source, tmp_path / f"{source.stem}-{source.suffix[1:]}"
                                          ".jsonl", BatchOptions()))
    assert "score" in read_jsonl(tmp_path / "in-csv.jsonl")[0]
    records = read_jsonl(tmp_path / "in-jsonl.jsonl")
    assert records[0]["score"] == records[1]["score"]
    assert records[2]["error"] == {"kind": "missing_field", "message": (
        "an ad-hoc 'question' needs 'reference_answers' (a list in JSONL, one text in a CSV "
        "cell)")}


def test_a_json_error_names_the_column_once(fake_grader: Grader, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"question_id": "adam-optimizer", "answer": "a\x01b"}\n')
    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()))
    message = read_jsonl(tmp_path / "out.jsonl")[0]["error"]["message"]
    assert message == "line 1 is not valid JSON: Invalid control character at column 47"
