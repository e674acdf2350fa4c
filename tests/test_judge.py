"""The learned criterion judge and the shipped score calibration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from grader import GradeItem, Grader, QuestionBank, Settings
from grader.cli.judge import MIX
from grader.critic import CritiqueRequest, OfflineCritic
from grader.errors import ConfigurationError
from grader.evaluation.judge_training import LabeledPoint, cross_validate, fit_cutoffs, train
from grader.evidence import RubricVectors
from grader.judge import (
    ALIGN_SIMILARITY,
    FEATURES,
    MONOTONE,
    CriterionJudge,
    _alignment,
    default_judge,
    stem,
)
from grader.score_calibration import ScoreCalibration, default_calibration
from grader.scoring import score_answer
from grader.settings import ScoringConfig
from tests.fakes import FakeEmbedder


def synthetic_points(n: int = 300, seed: int = 0) -> list[LabeledPoint]:
    """Labels that follow the first feature: missed below 0.3, partial below 0.6, met above."""
    rng = np.random.default_rng(seed)
    points = []
    for i in range(n):
        x = rng.random(len(FEATURES))
        label = 0 if x[0] < 0.3 else 1 if x[0] < 0.6 else 2
        points.append(LabeledPoint(x, label, f"q{i % 6}", f"k{i % 3}"))
    return points


def test_a_trained_judge_learns_the_labels_and_round_trips(tmp_path: Path) -> None:
    points = synthetic_points()
    judge = train(points, trained_on="synthetic").judge
    folds = cross_validate(points, "question_id")
    assert folds.kappa > 0.7
    path = tmp_path / "judge.json"
    judge.save(path)
    again = CriterionJudge.load(path)
    x = np.array([p.features for p in points[:20]])
    assert again.judge(x) == judge.judge(x)
    assert [j.status for j in judge.judge(np.array([[0.05] + [0.5] * (len(FEATURES) - 1),
                                                    [0.95] + [0.5] * (len(FEATURES) - 1)]))
            ] == ["missed", "met"]


def test_a_tighter_false_credit_limit_moves_the_cutoffs_up() -> None:
    gold = np.array([0] * 50 + [2] * 50)
    expected = np.concatenate([np.linspace(0, 1.4, 50), np.linspace(0.6, 2, 50)])

    def false_credit(limit: float) -> float:
        low, high = fit_cutoffs(expected, gold, max_false_credit=limit, max_false_miss=1.0)
        predicted = np.where(expected >= high, 2, np.where(expected >= low, 1, 0))
        return float(np.mean(predicted[gold == 0] > 0))

    assert false_credit(0.02) < false_credit(1.0)


def test_a_judge_with_other_features_is_refused(tmp_path: Path) -> None:
    data = train(synthetic_points(), trained_on="x").judge.to_json()
    data["features"] = ["sim"]
    with pytest.raises(ConfigurationError, match="grader judge train"):
        CriterionJudge.from_json(data, "test")


def test_the_held_out_model_of_a_question_never_saw_its_answers() -> None:
    points = synthetic_points()
    flipped = [replace(p, label=2 - p.label) if p.question_id == "q0" else p for p in points]
    x = np.array([p.features for p in points if p.question_id == "q0"])
    first, second = train(points, trained_on="a"), train(flipped, trained_on="b")
    assert np.array_equal(first.held_out_credit("q0", x), second.held_out_credit("q0", x))
    assert not np.array_equal(first.held_out_credit("q1", x), second.held_out_credit("q1", x))


def test_stem_meets_inflections() -> None:
    assert stem("corrects") == stem("correcting") == "correct"


def test_word_alignment_in_one_product_equals_aligning_each_text_alone() -> None:
    rng = np.random.default_rng(3)

    def unit(rows: int) -> np.ndarray:
        v = rng.normal(size=(rows, 8))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    answer = unit(6)
    # three criteria: texts of several sizes and one without content words; a criterion whose
    # only text has none; and one whose second text is nearly two of the answer's words
    per_criterion = ((unit(3), unit(0), unit(5)), (unit(0),), (unit(1), answer[:2] * 0.99))
    vectors = RubricVectors(unit(1), unit(1), (unit(3), unit(1), unit(2)), (), unit(0), (),
                            per_criterion)
    mean, share = _alignment(vectors, answer, 3)
    for k, texts in enumerate(per_criterion):
        nearest = [(t @ answer.T).max(axis=1) for t in texts if len(t)]
        assert mean[k] == pytest.approx(max((np.clip(n, 0, 1).mean() for n in nearest),
                                            default=0.0))
        assert share[k] == pytest.approx(max(((n >= ALIGN_SIMILARITY).mean() for n in nearest),
                                             default=0.0))
    assert share[2] == 1.0 and mean[1] == share[1] == 0.0


def test_the_shipped_judge_and_calibration_load_and_are_named_in_results(
        bank: QuestionBank) -> None:
    judge, calibration = default_judge(), default_calibration()
    assert judge is not None and calibration is not None
    grader = Grader(bank, FakeEmbedder(), settings=Settings())
    result = grader.grade("adam-optimizer", "Adam keeps a running mean of the gradients and "
                          "divides each step by the root of the mean of their squares.")
    assert result.versions.judge == judge.version
    assert result.versions.calibration == calibration.name
    assert result.score == calibration.apply(result.signals.raw_score)


def test_the_calibrated_raw_score_is_the_judges_credit_less_misconceptions(
        bank: QuestionBank) -> None:
    """The shipped map was fitted on the judge's weighted credit (the reference match adds
    nothing to it on the labeled answers): the raw score it maps must be that mix."""
    calibration = default_calibration()
    assert calibration is not None and calibration.weight_reference == 0.0
    grader = Grader(bank, FakeEmbedder(), settings=Settings())
    answer = "Adam divides each step by a running root mean square of the gradients."
    prepared = grader.prepare_many([GradeItem("adam-optimizer", answer)])[0]
    assert not isinstance(prepared, Exception)
    critique = grader.offline_critic.critique(
        CritiqueRequest(prepared.rubric, answer, prepared.evidence))
    weights = [c.weight for c in prepared.rubric.criteria]
    credit = sum(w * (j.credit or 0.0) for w, j in zip(weights, critique.criteria, strict=True))
    expected = (credit / sum(weights)
                - calibration.misconception_penalty * len(critique.misconceptions))
    result = grader.grade("adam-optimizer", answer)
    assert result.signals.raw_score == pytest.approx(100 * max(0.0, expected), abs=0.06)


def test_the_offline_critic_judges_with_the_judge_unless_switched_off(bank: QuestionBank) -> None:
    grader = Grader(bank, FakeEmbedder(), settings=Settings())
    prepared = grader.prepare_many([GradeItem(
        "adam-optimizer", "Adam keeps moving averages of gradients and squared gradients.")])[0]
    assert not isinstance(prepared, Exception) and prepared.evidence.criterion_features is not None
    judge = default_judge()
    assert judge is not None
    critic = OfflineCritic(judge)
    request = CritiqueRequest(prepared.rubric, prepared.parts.answer, prepared.evidence)
    expected = [j.status for j in judge.judge(prepared.evidence.criterion_features)]
    assert [c.status for c in critic.critique(request).criteria] == expected
    off = replace(request, scoring=ScoringConfig(offline_judge=False))
    strengths = [m.strength for m in prepared.evidence.criteria]
    by_strength = ["met" if s >= 0.45 else "partial" if s >= 0.25 else "missed"
                   for s in strengths]
    assert [c.status for c in critic.critique(off).criteria] == by_strength


def test_calibration_keeps_an_empty_answer_at_zero(bank: QuestionBank) -> None:
    grader = Grader(bank, FakeEmbedder(), settings=Settings())
    assert grader.grade("adam-optimizer", "   ").score == 0.0


def test_a_calibration_must_be_monotone() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        ScoreCalibration(name="x", x=[0.0, 1.0], y=[0.5, 0.1], **MIX)
    assert ScoreCalibration(name="x", x=[0.0, 1.0], y=[0.0, 0.5], **MIX).apply(100.0) == 50.0


def test_an_off_topic_answer_is_not_lifted_by_the_calibration_floor() -> None:
    config = ScoringConfig()
    common = {"weights": [1.0, 1.0], "credits": [0.05, 0.05], "misconceptions_found": 0,
              "answer_words": 14, "new_words": 12, "config": config,
              "calibrate": lambda raw: 4.0 + raw}
    off = score_answer(["missed", "missed"], reference_strength=0.1, **common)  # type: ignore[arg-type]
    on = score_answer(["missed", "missed"], reference_strength=0.5, **common)  # type: ignore[arg-type]
    assert off.flags == ("off_topic",) and off.score == off.raw < 4.0 + off.raw
    assert on.flags == () and on.score == 4.0 + on.raw


def test_stronger_evidence_never_lowers_the_shipped_judges_credit() -> None:
    """The README's promise: each feature moves a point's credit one way only (MONOTONE)."""
    judge = default_judge()
    assert judge is not None
    rows = np.random.default_rng(0).uniform(-0.5, 1.5, size=(400, len(FEATURES)))
    rows[:, FEATURES.index("log_words_60")] *= 4

    def credit(x: np.ndarray) -> np.ndarray:
        p = judge.probabilities(x)
        result: np.ndarray = p[:, 1] + 2 * p[:, 2]
        return result

    for k, name in enumerate(FEATURES):
        if MONOTONE[name] == 0:
            continue
        stronger = rows.copy()
        stronger[:, k] += 0.3 * MONOTONE[name]
        assert (credit(stronger) >= credit(rows) - 1e-12).all(), name
