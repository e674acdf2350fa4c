"""``grade_records``, the engine-agnostic core: input records in, one output record each."""

from __future__ import annotations

import json
from pathlib import Path

from grader import Grader
from grader.batch import BatchOptions, plan_batch, run_batch
from grader.batch.records import grade_records
from tests.batch.batch_files import read_jsonl, write_jsonl

GOOD = ("Adam keeps a moving average of the gradients, like momentum, and divides each step by "
        "the root of a moving average of squared gradients, like RMSprop.")


def test_records_carry_id_and_row_and_get_the_batch_error_rows(fake_grader: Grader) -> None:
    records = grade_records(fake_grader, [
        {"row": 7, "line": 9, "fields": {"id": "a1", "question_id": "adam-optimizer",
                                         "answer": GOOD}},
        {"row": 8, "fields": {"question_id": "adam-optimizer", "answer": 42}},
        {"row": 9, "error": {"kind": "malformed_json", "message": "line 9 is not valid JSON"}},
        {"row": 10, "fields": {"id": "a1", "question_id": "nope", "answer": GOOD},
         "error": {"kind": "duplicate_id", "message": "id 'a1' was already used by row 7"}},
        {"row": 11, "fields": {"question_id": "no-such-question", "answer": GOOD}},
    ])
    assert [(r["id"], r["row"], r["line"]) for r in records] == [
        ("a1", 7, 9), ("8", 8, 8), ("9", 9, 9), ("a1", 10, 10), ("11", 11, 11)]
    assert records[0]["question_id"] == "adam-optimizer" and "score" in records[0]
    assert [r.get("error", {}).get("kind") for r in records] == [
        None, "wrong_type", "malformed_json", "duplicate_id", "unknown_question"]
    assert records[3]["question_id"] == "nope"  # an error row shows the question it named


def test_records_are_what_the_local_runner_writes(fake_grader: Grader, tmp_path: Path) -> None:
    rows = [{"id": "a", "question_id": "adam-optimizer", "answer": GOOD},
            {"question": "What is a stack?", "reference_answer": "Last in, first out.",
             "answer": "LIFO."},
            {"id": "c", "answer": GOOD}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()))

    local = read_jsonl(tmp_path / "out.jsonl")
    core = grade_records(fake_grader, [
        {"row": n, "fields": json.loads(json.dumps(row)), "input_digest": record["input_digest"]}
        for n, (row, record) in enumerate(zip(rows, local, strict=True), start=1)])
    assert core == local
