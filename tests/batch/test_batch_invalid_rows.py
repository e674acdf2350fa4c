"""A row the grader cannot take (an ad-hoc question over a limit, a lone surrogate anywhere) is
that row's error row: the run completes, and the valid rows of its chunk are written."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import Grader, QuestionBank
from grader.batch import BatchOptions, plan_batch, run_batch
from grader.errors import InvalidQuestionError
from grader.grading import QuestionRef
from grader.rubric import Rubric
from tests.batch.batch_files import read_csv, read_jsonl, write_jsonl
from tests.fakes import FakeEmbedder

STACK_QUESTION = "What is a stack?"
STACK_REFERENCE = "A stack is a last-in, first-out collection: push adds on top, pop removes it."
GOOD = {"question_id": "adam-optimizer",
        "answer": "Adam keeps moving averages of the gradients and of their squares."}
ADHOC = {"question": STACK_QUESTION, "reference_answer": STACK_REFERENCE,
         "answer": "Last in, first out: push and pop at the top."}

# Lone surrogates cannot be written as UTF-8; JSON spells them as escapes, so these lines are
# written as they are.
SURROGATE_LINES = {
    "surrogate-answer": ('{"id": "surrogate-answer", "question_id": "adam-optimizer", '
                         '"answer": "x \\ud800"}', "invalid_answer", "answer"),
    "surrogate-question": ('{"id": "surrogate-question", "question": "What \\udfff?", '
                           f'"reference_answer": "{STACK_REFERENCE}", "answer": "LIFO"}}',
                           "invalid_row", "question"),
    "surrogate-reference": ('{"id": "surrogate-reference", "question": "Q?", '
                            '"reference_answers": ["fine", "\\ud83d alone"], "answer": "LIFO"}',
                            "invalid_row", "reference_answers[1]"),
    "surrogate-criterion": ('{"id": "surrogate-criterion", "question": "Q?", '
                            f'"reference_answer": "{STACK_REFERENCE}", '
                            '"criteria": ["\\udc00"], "answer": "LIFO"}',
                            "invalid_row", "criteria[0]"),
    "surrogate-question-id": ('{"id": "surrogate-question-id", "question_id": "adam\\ud800", '
                              '"answer": "x"}', "invalid_row", "question_id"),
}


def bad_rows() -> list[object]:
    return [
        {"id": "good-1", **GOOD},
        {"id": "blank-question", **ADHOC, "question": "   "},
        {"id": "long-question", **ADHOC, "question": "q" * 5_001},
        {"id": "eleven-references", "question": STACK_QUESTION,
         "reference_answers": [f"{STACK_REFERENCE} ({n})" for n in range(11)],
         "answer": "LIFO"},
        *(line for line, _, _ in SURROGATE_LINES.values()),
        {"id": "good-2", **ADHOC},
        '{"id": "surrogate-id-\\ud800", "question_id": "adam-optimizer", "answer": "x"}',
        {"id": "good-3", **GOOD},
    ]


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_rows_over_the_adhoc_limits_or_with_lone_surrogates_are_error_rows(
    fake_grader: Grader, tmp_path: Path, suffix: str
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", bad_rows())
    target = tmp_path / f"out.{suffix}"

    # One chunk holds every row: the good ones around the bad ones must be written too.
    summary = run_batch(fake_grader, plan_batch(source, target, BatchOptions(chunk_size=64)))

    records = read_jsonl(target) if suffix == "jsonl" else read_csv(target)
    assert len(records) == len(bad_rows()) == summary.rows
    kind = ((lambda r: r.get("error", {}).get("kind")) if suffix == "jsonl"
            else (lambda r: r["error_kind"] or None))
    message = ((lambda r: r["error"]["message"]) if suffix == "jsonl" else (lambda r: r["error"]))
    by_id = {r["id"]: r for r in records}
    for good in ("good-1", "good-2", "good-3"):
        assert kind(by_id[good]) is None, by_id[good]
    assert "field 'question'" in message(by_id["blank-question"])
    assert "5000" in message(by_id["long-question"])
    assert "at most 10" in message(by_id["eleven-references"])
    for identifier in ("blank-question", "long-question", "eleven-references"):
        assert kind(by_id[identifier]) == "invalid_row"
    for identifier, (_, expected_kind, field) in SURROGATE_LINES.items():
        assert kind(by_id[identifier]) == expected_kind, by_id[identifier]
        assert f"field '{field}' holds a lone surrogate" in message(by_id[identifier])
    # The id cannot be written as it is: its surrogate is shown as U+FFFD.
    assert kind(by_id["surrogate-id-\ufffd"]) == "invalid_row"
    assert (summary.graded, summary.errors) == (3, len(records) - 3)
    assert set(summary.error_kinds) == {"invalid_row", "invalid_answer"}


def test_a_run_with_bad_rows_resumes_to_the_uninterrupted_file(
    fake_grader: Grader, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", bad_rows())
    whole = tmp_path / "whole.jsonl"
    run_batch(fake_grader, plan_batch(source, whole, BatchOptions(chunk_size=3)))
    target = tmp_path / "out.jsonl"
    lines = whole.read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(lines[:5]) + lines[5][:40])  # five rows and a torn sixth

    summary = run_batch(fake_grader, plan_batch(source, target, BatchOptions(chunk_size=3,
                                                                             resume=True)))

    assert target.read_bytes() == whole.read_bytes()
    assert (summary.rows, summary.resumed) == (len(bad_rows()), 5)


def test_an_unforeseen_failure_while_reading_a_row_is_that_rows_error(
    fake_grader: Grader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import grader.batch.stream as stream

    real_to_item = stream.to_item

    def brittle_to_item(fields: dict[str, object], critic: str):  # type: ignore[no-untyped-def]
        if fields.get("id") == "brittle":
            raise KeyError("a bug")
        return real_to_item(fields, critic)  # type: ignore[arg-type]

    monkeypatch.setattr(stream, "to_item", brittle_to_item)
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", **GOOD}, {"id": "brittle", **GOOD},
                                                 {"id": "b", **GOOD}])

    run_batch(fake_grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()))

    records = read_jsonl(tmp_path / "out.jsonl")
    assert [r.get("error", {}).get("kind") for r in records] == [None, "unexpected_error", None]
    assert "KeyError" in records[1]["error"]["message"]


def test_an_adhoc_question_the_grader_refuses_is_an_invalid_row(bank: QuestionBank,
                                                                tmp_path: Path) -> None:
    # Limits may also be the grader's own (checked when it resolves a question), not the row's.
    class StrictGrader(Grader):
        def resolve(self, question: QuestionRef) -> Rubric:
            if isinstance(question, Rubric) and question.id.startswith("adhoc-"):
                raise InvalidQuestionError(["reference answer 1 is over the limit"])
            return super().resolve(question)

    grader = StrictGrader(bank, FakeEmbedder())
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "adhoc", **ADHOC}, {"id": "bank", **GOOD}])

    run_batch(grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions()))

    records = read_jsonl(tmp_path / "out.jsonl")
    assert records[0]["error"]["kind"] == "invalid_row"
    assert "over the limit" in records[0]["error"]["message"]
    assert "error" not in records[1]
