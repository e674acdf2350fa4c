"""Per-point agreement metrics: kappa, false credit, false miss, misconception precision/recall."""

from __future__ import annotations

import numpy as np
import pytest

from grader import Grader
from grader.evaluation.criteria import (
    Judged,
    criterion_metrics,
    judged,
    linear_kappa,
    per_question,
)
from grader.evaluation.dataset import EvalRow
from grader.evaluation.runner import EvalOptions, collect_signals, evaluate_signals


def item(gold: list[int], predicted: list[int], question: str = "q", gold_m: set[str] = frozenset(),
         found_m: set[str] = frozenset()) -> Judged:
    return Judged(question, np.array(gold), np.array(predicted), frozenset(gold_m),
                  frozenset(found_m))


def test_linear_kappa_is_one_when_equal_and_zero_for_chance() -> None:
    assert linear_kappa(np.array([0, 1, 2]), np.array([0, 1, 2])) == 1.0
    # predicted constant: no agreement beyond chance
    assert linear_kappa(np.array([0, 1, 2, 2]), np.array([2, 2, 2, 2])) == pytest.approx(0.0)
    # one step off costs half of two steps off
    near = linear_kappa(np.array([0, 2, 0, 2]), np.array([1, 2, 0, 2]))
    far = linear_kappa(np.array([0, 2, 0, 2]), np.array([2, 2, 0, 2]))
    assert 0 < far < near < 1


def test_false_credit_and_false_miss_count_the_right_cells() -> None:
    # gold: missed, missed, met, met, partial; predicted: partial, missed, missed, met, met
    values = criterion_metrics([item([0, 0, 2, 2, 1], [1, 0, 0, 2, 2])], samples=10)
    assert values["false_credit"].value == pytest.approx(0.5)  # 1 of 2 gold-missed credited
    assert values["false_miss"].value == pytest.approx(0.5)  # 1 of 2 gold-met called missed
    assert values["accuracy"].value == pytest.approx(2 / 5)


def test_misconception_precision_and_recall() -> None:
    items = [item([2], [2], gold_m={"a", "b"}, found_m={"a", "c"}), item([0], [0])]
    values = criterion_metrics(items, samples=10)
    assert values["misconception_precision"].value == pytest.approx(0.5)
    assert values["misconception_recall"].value == pytest.approx(0.5)


def test_per_question_breaks_down_by_question() -> None:
    rows = per_question([item([2, 0], [2, 0], "a"), item([2, 0], [0, 2], "b")])
    assert [(r["question_id"], r["accuracy"]) for r in rows] == [("a", 1.0), ("b", 0.0)]


def test_labeled_rows_are_measured_against_the_graders_statuses(fake_grader: Grader) -> None:
    rubric = fake_grader.bank.get("adam-optimizer")
    ids = [c.id for c in rubric.criteria]
    answer = rubric.reference_answers[1]  # the fake embedder gives a copy every point
    rows = [
        EvalRow(question_id="adam-optimizer", answer=answer, score=10, scale_max=10,
                criteria_labels=dict.fromkeys(ids, "met")),
        EvalRow(question_id="adam-optimizer", answer="I am not sure, sorry.", score=0,
                scale_max=10, criteria_labels=dict.fromkeys(ids, "missed")),
        EvalRow(question_id="cnn-architecture", answer="No labels on this one.", score=1,
                scale_max=10),
    ]
    options = EvalOptions(progress=None, bootstrap_samples=20, folds=2)
    collected = collect_signals(fake_grader, rows, options)
    assert len(collected.judged["grader"]) == 2  # the unlabeled row is left out
    statuses = [[c.status for c in r.criteria] for r in collected.results[:2]]
    expected = judged(["adam-optimizer"] * 2, [rows[0].criteria_labels, rows[1].criteria_labels],
                      [None, None], collected.results[:2])
    assert [list(j.predicted) for j in expected] == [
        [{"met": 2, "partial": 1}.get(s, 0) for s in answer_statuses]
        for answer_statuses in statuses]
    evaluation = evaluate_signals("tiny", rows, collected, options)
    figures = evaluation.as_json()["criteria"]
    assert figures["grader"]["n_answers"] == 2
    assert set(figures["grader"]["metrics"]) >= {"kappa", "false_credit", "false_miss"}
