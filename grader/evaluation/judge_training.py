"""Train the criterion judge (``grader.judge``) on answers labeled per criterion.

A multinomial logistic regression over the judge's features, standardised. Its two cutoffs on
the expected credit are fitted *out of fold*: every labeled answer gets an expected credit
from a model trained without its question, and the cutoffs are chosen on those, to agree best
with the labels (linear-weighted kappa) while keeping false credit at or under
``max_false_credit`` and false miss at or under ``max_false_miss``. The same out-of-fold
predictions give the cross-validated figures ``grader judge train`` prints, by question left
out and by kind of answer left out (answer-level signals can learn the kinds in the training
set; the second figure shows how much).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.evaluation.criteria import linear_kappa
from grader.judge import FEATURES, CriterionJudge

_LEVEL = {"missed": 0, "partial": 1, "met": 2}


@dataclass(frozen=True)
class LabeledPoint:
    """One criterion of one labeled answer: its features and gold status."""

    features: np.ndarray
    label: int  # 0 missed, 1 partial, 2 met
    question_id: str
    kind: str


@dataclass(frozen=True)
class Folds:
    """Cross-validated agreement of the judge with the labels."""

    by: str
    kappa: float
    false_credit: float
    false_miss: float


def levels(expected: np.ndarray, cutoffs: tuple[float, float]) -> np.ndarray:
    return np.where(expected >= cutoffs[1], 2, np.where(expected >= cutoffs[0], 1, 0))


def fit_cutoffs(expected: np.ndarray, gold: np.ndarray, *, max_false_credit: float = 0.10,
                max_false_miss: float = 0.15) -> tuple[float, float]:
    """The cutoffs with the best kappa, each point of excess false credit or miss costing 5."""
    best, chosen = -np.inf, (0.5, 1.5)
    grid = np.arange(0.1, 1.95, 0.05)
    missed, met = gold == 0, gold == 2
    for low in grid:
        for high in grid[grid > low]:
            predicted = levels(expected, (low, high))
            credit = float(np.mean(predicted[missed] > 0)) if missed.any() else 0.0
            miss = float(np.mean(predicted[met] == 0)) if met.any() else 0.0
            value = (linear_kappa(gold, predicted) - 5 * max(0.0, credit - max_false_credit)
                     - 5 * max(0.0, miss - max_false_miss))
            if value > best:
                best, chosen = value, (round(float(low), 2), round(float(high), 2))
    return chosen


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    if list(model.classes_) != [0, 1, 2]:
        raise ValueError("the labels must include missed, partial and met")
    return mean, scale, model.coef_, model.intercept_


def _expected(x: np.ndarray, fitted: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
              ) -> np.ndarray:
    mean, scale, coef, intercept = fitted
    logits = ((x - mean) / scale) @ coef.T + intercept
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    result: np.ndarray = p[:, 1] + 2 * p[:, 2]
    return result


def out_of_fold(points: Sequence[LabeledPoint], by: str, c: float) -> np.ndarray:
    """Each point's expected credit from a model fitted without its group (question or kind)."""
    x = np.array([p.features for p in points])
    y = np.array([p.label for p in points])
    keys = np.array([getattr(p, by) for p in points])
    expected = np.zeros(len(points))
    for group in dict.fromkeys(keys):
        test = keys == group
        expected[test] = _expected(x[test], _fit(x[~test], y[~test], c))
    return expected


def cross_validate(points: Sequence[LabeledPoint], by: str, c: float, **limits: float) -> Folds:
    """Out-of-fold figures; the cutoffs for each group are fitted on the other groups only."""
    expected = out_of_fold(points, by, c)
    gold = np.array([p.label for p in points])
    keys = np.array([getattr(p, by) for p in points])
    predicted = np.zeros(len(points), dtype=int)
    for group in dict.fromkeys(keys):
        test = keys == group
        predicted[test] = levels(expected[test], fit_cutoffs(expected[~test], gold[~test],
                                                             **limits))
    credit = float(np.mean(predicted[gold == 0] > 0))
    miss = float(np.mean(predicted[gold == 2] == 0))
    return Folds(by, linear_kappa(gold, predicted), credit, miss)


def train(points: Sequence[LabeledPoint], *, trained_on: str, c: float = 1.0,
          max_false_credit: float = 0.10, max_false_miss: float = 0.15) -> CriterionJudge:
    """Fit on every point; cutoffs from out-of-fold (question left out) expected credit."""
    x = np.array([p.features for p in points])
    y = np.array([p.label for p in points])
    mean, scale, coef, intercept = _fit(x, y, c)
    cutoffs = fit_cutoffs(out_of_fold(points, "question_id", c), y,
                          max_false_credit=max_false_credit, max_false_miss=max_false_miss)
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes() + y.tobytes()).hexdigest()[:12]
    return CriterionJudge(version=f"criterion-judge-{digest}", features=FEATURES, mean=mean,
                          scale=scale, coefficients=coef, intercepts=intercept, cutoffs=cutoffs,
                          trained_on=trained_on)


def labeled_points(features: np.ndarray, labels: dict[str, str], criterion_ids: Sequence[str],
                   question_id: str, kind: str) -> list[LabeledPoint]:
    """The points of one answer: a row of ``features`` per criterion, in ``criterion_ids`` order."""
    return [LabeledPoint(features[k], _LEVEL[labels[cid]], question_id, kind)
            for k, cid in enumerate(criterion_ids) if cid in labels]
