"""The dataset format and the in-house labeled set."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from grader import AdhocQuestion, QuestionBank
from grader.evaluation.dataset import DatasetError, load_dataset
from grader.rubric import Source

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_bank_rows_may_omit_question_fields(tmp_path: Path, bank: QuestionBank) -> None:
    path = _write(tmp_path / "d.jsonl", [
        {"question_id": "adam-optimizer", "answer": "It adapts.", "score": 3, "scale_max": 10},
        {"question_id": "x-1", "question": "What is a stack?", "reference_answers": ["LIFO."],
         "criteria": ["last in, first out"], "answer": "LIFO", "score": 5, "scale_max": 5},
    ])
    first, second = load_dataset(path, bank)
    assert first.question_ref() == "adam-optimizer"
    adhoc = second.question_ref()
    assert isinstance(adhoc, AdhocQuestion) and adhoc.criteria == ["last in, first out"]


def test_every_bad_row_is_reported_with_its_line(tmp_path: Path, bank: QuestionBank) -> None:
    path = _write(tmp_path / "d.jsonl", [
        {"question_id": "adam-optimizer", "answer": "ok", "score": 3, "scale_max": 10},
        "{not json",
        {"question_id": "nope", "answer": "a", "score": 1, "scale_max": 5},
        {"question_id": "adam-optimizer", "answer": "a", "score": 7, "scale_max": 5},
        {"question_id": "q", "question": "Q?", "answer": "a", "score": 1, "scale_max": 5},
    ])
    with pytest.raises(DatasetError) as info:
        load_dataset(path, bank)
    message = str(info.value)
    for line, words in ((2, "not valid JSON"), (3, "not in the bank"), (4, "above scale_max"),
                        (5, "needs both")):
        assert f"d.jsonl:{line}:" in message and words in message


def test_missing_file_is_a_clear_error(tmp_path: Path, bank: QuestionBank) -> None:
    with pytest.raises(DatasetError, match="Cannot read dataset"):
        load_dataset(tmp_path / "absent.jsonl", bank)


def test_limit_spreads_over_the_file(tmp_path: Path, bank: QuestionBank) -> None:
    rows = load_dataset(REPO / "eval" / "inhouse.jsonl", bank, limit=14)
    assert len(rows) == 14 and len({r.question_id for r in rows}) >= 10


def test_inhouse_set_covers_every_question_from_full_marks_to_zero(bank: QuestionBank) -> None:
    rows = load_dataset(REPO / "eval" / "inhouse.jsonl", bank)
    by_question = defaultdict(list)
    for row in rows:
        by_question[row.question_id].append(row)
        assert row.rationale and row.scale_max == 10
    # The in-house set holds the seed article's questions; the later ones are in eval/labeled.
    assert set(by_question) == {r.id for r in bank if isinstance(r.source, Source)}
    for question, answers in by_question.items():
        scores = [a.score for a in answers]
        assert len(answers) >= 10, question
        assert max(scores) == 10 and min(scores) == 0, question
        assert any(not a.answer.strip() for a in answers), f"{question}: no empty answer"
        assert len({s for s in scores if 0 < s < 10}) >= 4, f"{question}: too few partial marks"
