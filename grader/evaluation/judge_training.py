"""Train the criterion judge (``grader.judge``) on answers labeled per criterion.

Two sets of gradient-boosted trees over the judge's features (``TREES``), one saying whether a
point is at least partly made and one whether it is made, each feature allowed to move the
credit one way only (``grader.judge.MONOTONE``). Its two cutoffs on
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

from grader.boosted_trees import BoostedTrees
from grader.evaluation.criteria import linear_kappa
from grader.judge import FEATURES, MONOTONE, CriterionJudge

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


#: The trees' settings: shallow and few, with big leaves, as a few thousand points allow.
#: Chosen by question-left-out and kind-left-out cross-validation on the dev sets.
TREES = {"max_iter": 150, "learning_rate": 0.05, "max_depth": 3, "min_samples_leaf": 40}


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[BoostedTrees, BoostedTrees]:
    """The two yes/no models: at least partial, and met."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if sorted(set(y.tolist())) != [0, 1, 2]:
        raise ValueError("the labels must include missed, partial and met")
    monotone = [MONOTONE[name] for name in FEATURES]
    fitted = [HistGradientBoostingClassifier(**TREES, monotonic_cst=monotone,
                                             early_stopping=False, random_state=0)
              .fit(x, (y >= level).astype(int)) for level in (1, 2)]
    return BoostedTrees.from_sklearn(fitted[0]), BoostedTrees.from_sklearn(fitted[1])


def _judge(models: tuple[BoostedTrees, BoostedTrees], cutoffs: tuple[float, float] = (1, 2),
           version: str = "fold", trained_on: str = "") -> CriterionJudge:
    return CriterionJudge(version=version, features=FEATURES, at_least_partial=models[0],
                          at_least_met=models[1], cutoffs=cutoffs, trained_on=trained_on)


def _expected(x: np.ndarray, judge: CriterionJudge) -> np.ndarray:
    p = judge.probabilities(x)
    result: np.ndarray = p[:, 1] + 2 * p[:, 2]
    return result


def fold_models(points: Sequence[LabeledPoint], by: str) -> dict[str, CriterionJudge]:
    """For each group (question or kind), a judge fitted on the points of the other groups."""
    x = np.array([p.features for p in points])
    y = np.array([p.label for p in points])
    keys = np.array([getattr(p, by) for p in points])
    return {str(group): _judge(_fit(x[keys != group], y[keys != group]))
            for group in dict.fromkeys(keys)}


def out_of_fold(points: Sequence[LabeledPoint], by: str,
                models: dict[str, CriterionJudge] | None = None) -> np.ndarray:
    """Each point's expected credit (0..2) from a model fitted without its group."""
    models = models if models is not None else fold_models(points, by)
    x = np.array([p.features for p in points])
    keys = np.array([getattr(p, by) for p in points])
    expected = np.zeros(len(points))
    for group, trees in models.items():
        expected[keys == group] = _expected(x[keys == group], trees)
    return expected


def cross_validate(points: Sequence[LabeledPoint], by: str, **limits: float) -> Folds:
    """Out-of-fold figures; the cutoffs for each group are fitted on the other groups only."""
    expected = out_of_fold(points, by)
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


@dataclass(frozen=True)
class Trained:
    """The judge fitted on every point, and per question the model fitted without it: what
    the score calibration is fitted on, so that it sees credit as it is on unseen questions."""

    judge: CriterionJudge
    held_out: dict[str, CriterionJudge]

    def held_out_credit(self, question_id: str, features: np.ndarray) -> np.ndarray:
        """The credit (0..1) per criterion of an answer to a training question, from the model
        that did not see that question."""
        result: np.ndarray = _expected(features, self.held_out[question_id]) / 2
        return result


def train(points: Sequence[LabeledPoint], *, trained_on: str,
          max_false_credit: float = 0.10, max_false_miss: float = 0.15) -> Trained:
    """Fit on every point; cutoffs from out-of-fold (question left out) expected credit."""
    x = np.array([p.features for p in points])
    y = np.array([p.label for p in points])
    held_out = fold_models(points, "question_id")
    cutoffs = fit_cutoffs(out_of_fold(points, "question_id", held_out), y,
                          max_false_credit=max_false_credit, max_false_miss=max_false_miss)
    recipe = repr((sorted(TREES.items()), sorted(MONOTONE.items()))).encode()
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes() + y.tobytes()
                            + recipe).hexdigest()[:12]
    judge = _judge(_fit(x, y), cutoffs, f"criterion-judge-{digest}", trained_on)
    return Trained(judge, held_out)


def labeled_points(features: np.ndarray, labels: dict[str, str], criterion_ids: Sequence[str],
                   question_id: str, kind: str) -> list[LabeledPoint]:
    """The points of one answer: a row of ``features`` per criterion, in ``criterion_ids`` order."""
    return [LabeledPoint(features[k], _LEVEL[labels[cid]], question_id, kind)
            for k, cid in enumerate(criterion_ids) if cid in labels]
