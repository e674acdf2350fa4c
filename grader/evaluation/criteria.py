"""Per-point agreement: the statuses a critic gives each criterion against gold labels.

A row may carry ``criteria_labels`` ({criterion id: met | partial | missed}) and gold
``misconceptions`` (ids). For every method that yields statuses (the offline critic, an LLM
critic) this measures, each with a bootstrap 95% interval over answers:

- ``accuracy`` and ``kappa``: agreement on the three ordered statuses, and Cohen's kappa with
  linear weights over missed < partial < met (``contradicted`` counts as missed);
- ``false_credit``: the share of gold-missed criteria the grader calls met or partial;
- ``false_miss``: the share of gold-met criteria the grader calls missed;
- ``misconception_precision`` and ``misconception_recall`` over (answer, misconception) pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.evaluation.metrics import BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED, MetricValue
from grader.result import GradeResult

CRITERION_METRICS = ("kappa", "accuracy", "false_credit", "false_miss",
                     "misconception_precision", "misconception_recall")
#: For these, lower is better.
LOWER_IS_BETTER = frozenset({"false_credit", "false_miss"})

_ORDER = {"missed": 0, "contradicted": 0, "partial": 1, "met": 2}


@dataclass(frozen=True)
class Judged:
    """One answer's gold and predicted statuses (ordinal 0..2), and misconception ids."""

    question_id: str
    gold: np.ndarray
    predicted: np.ndarray
    gold_misconceptions: frozenset[str]
    found_misconceptions: frozenset[str]


def judged(question_ids: Sequence[str], labels: Sequence[Mapping[str, str] | None],
           gold_misconceptions: Sequence[Sequence[str] | None],
           results: Sequence[GradeResult]) -> list[Judged]:
    """The labeled rows (those with ``criteria_labels``) paired with the grader's statuses."""
    out = []
    for question_id, label, misconceptions, result in zip(
            question_ids, labels, gold_misconceptions, results, strict=True):
        if not label:
            continue
        statuses = {c.id: c.status for c in result.criteria}
        shared = [cid for cid in label if cid in statuses]
        out.append(Judged(
            question_id=question_id,
            gold=np.array([_ORDER[label[cid]] for cid in shared], dtype=int),
            predicted=np.array([_ORDER[statuses[cid]] for cid in shared], dtype=int),
            gold_misconceptions=frozenset(misconceptions or ()),
            found_misconceptions=frozenset(m.id for m in result.misconceptions),
        ))
    return out


def linear_kappa(gold: np.ndarray, predicted: np.ndarray, levels: int = 3) -> float:
    """Cohen's kappa with linear weights; 0 when the expected disagreement is 0.

    >>> linear_kappa(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 2]))
    1.0
    """
    observed = np.zeros((levels, levels))
    np.add.at(observed, (gold, predicted), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / max(len(gold), 1)
    grid = np.arange(levels)
    weights = np.abs(grid[:, None] - grid[None, :]) / (levels - 1)
    denominator = float((weights * expected).sum())
    if denominator == 0:
        return 0.0
    return 1.0 - float((weights * observed).sum()) / denominator


def _point(items: Sequence[Judged]) -> dict[str, float]:
    gold = np.concatenate([j.gold for j in items]) if items else np.zeros(0, int)
    predicted = np.concatenate([j.predicted for j in items]) if items else np.zeros(0, int)
    missed, met = gold == 0, gold == 2
    true_found = sum(len(j.gold_misconceptions & j.found_misconceptions) for j in items)
    found = sum(len(j.found_misconceptions) for j in items)
    gold_count = sum(len(j.gold_misconceptions) for j in items)
    return {
        "kappa": linear_kappa(gold, predicted) if len(gold) else 0.0,
        "accuracy": float(np.mean(gold == predicted)) if len(gold) else 0.0,
        "false_credit": float(np.mean(predicted[missed] > 0)) if missed.any() else 0.0,
        "false_miss": float(np.mean(predicted[met] == 0)) if met.any() else 0.0,
        # no prediction is no false alarm; no gold misconception leaves recall undefined (1.0)
        "misconception_precision": true_found / found if found else 1.0,
        "misconception_recall": true_found / gold_count if gold_count else 1.0,
    }


def criterion_metrics(items: Sequence[Judged], *, samples: int = BOOTSTRAP_SAMPLES,
                      seed: int = BOOTSTRAP_SEED) -> dict[str, MetricValue]:
    """Every per-point metric with a percentile bootstrap 95% interval (answers resampled)."""
    point = _point(items)
    rng = np.random.default_rng(seed)
    draws = {name: np.empty(samples) for name in CRITERION_METRICS}
    for i in range(samples):
        picked = [items[k] for k in rng.integers(0, len(items), len(items))]
        for name, value in _point(picked).items():
            draws[name][i] = value
    return {name: MetricValue(point[name], float(np.percentile(draws[name], 2.5)),
                              float(np.percentile(draws[name], 97.5)))
            for name in CRITERION_METRICS}


def per_question(items: Sequence[Judged]) -> list[dict[str, object]]:
    """Point values of every metric, and the counts behind them, per question."""
    out: list[dict[str, object]] = []
    for question in dict.fromkeys(j.question_id for j in items):
        mine = [j for j in items if j.question_id == question]
        values = _point(mine)
        gold = np.concatenate([j.gold for j in mine])
        out.append({"question_id": question, "answers": len(mine), "criteria": int(len(gold)),
                    **{name: round(value, 3) for name, value in values.items()}})
    return out
