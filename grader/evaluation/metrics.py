"""Agreement metrics between predicted and human scores, each with a bootstrap 95% interval.

All metrics are on the dataset's own scale (``scale_max``); kappa rounds both sides to whole
points first; pass/fail agreement uses the grader's pass threshold as a share of the scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

#: Fixed so that the same run gives the same intervals.
BOOTSTRAP_SEED = 20110619
BOOTSTRAP_SAMPLES = 1000

METRICS = ("pearson", "spearman", "rmse", "mae", "qwk", "pass_agreement")
#: For these, lower is better; for the rest, higher is better.
LOWER_IS_BETTER = frozenset({"rmse", "mae"})


@dataclass(frozen=True)
class MetricValue:
    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": round(self.value, 4), "ci_low": round(self.low, 4),
                "ci_high": round(self.high, 4)}


def pearson(predicted: np.ndarray, human: np.ndarray) -> float:
    if predicted.std() == 0 or human.std() == 0:
        return 0.0  # a constant prediction carries no ranking information
    return float(np.corrcoef(predicted, human)[0, 1])


def spearman(predicted: np.ndarray, human: np.ndarray) -> float:
    return pearson(rankdata(predicted), rankdata(human))


def rmse(predicted: np.ndarray, human: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - human) ** 2)))


def mae(predicted: np.ndarray, human: np.ndarray) -> float:
    return float(np.mean(np.abs(predicted - human)))


def rounded(values: np.ndarray, scale_max: float) -> np.ndarray:
    """Whole points on 0..scale_max; halves round up (4.5 -> 5), as a grader would."""
    return np.clip(np.floor(values + 0.5), 0, np.floor(scale_max)).astype(int)


def quadratic_weighted_kappa(predicted: np.ndarray, human: np.ndarray, scale_max: float) -> float:
    """Cohen's kappa with quadratic weights on the rounded 0..scale_max scale."""
    size = int(np.floor(scale_max)) + 1
    a, b = rounded(predicted, scale_max), rounded(human, scale_max)
    observed = np.zeros((size, size))
    np.add.at(observed, (a, b), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / max(len(a), 1)
    grid = np.arange(size)
    weights = (grid[:, None] - grid[None, :]) ** 2 / max((size - 1) ** 2, 1)
    denominator = float((weights * expected).sum())
    if denominator == 0:
        return 0.0
    return 1.0 - float((weights * observed).sum()) / denominator


def pass_agreement(predicted: np.ndarray, human: np.ndarray, threshold: float) -> float:
    """Share of answers on which grader and humans agree about pass (>= threshold) or fail."""
    return float(np.mean((predicted >= threshold) == (human >= threshold)))


def _all(predicted: np.ndarray, human: np.ndarray, scale_max: float, pass_fraction: float
         ) -> dict[str, float]:
    return {
        "pearson": pearson(predicted, human),
        "spearman": spearman(predicted, human),
        "rmse": rmse(predicted, human),
        "mae": mae(predicted, human),
        "qwk": quadratic_weighted_kappa(predicted, human, scale_max),
        "pass_agreement": pass_agreement(predicted, human, pass_fraction * scale_max),
    }


def compute_metrics(
    predicted: np.ndarray,
    human: np.ndarray,
    *,
    scale_max: float,
    pass_fraction: float = 0.7,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, MetricValue]:
    """Every metric with a percentile bootstrap 95% interval (answers resampled with replacement).

    >>> import numpy as np
    >>> m = compute_metrics(np.array([1., 2, 3, 4]), np.array([1., 2, 3, 5]), scale_max=5)
    >>> round(m["mae"].value, 2)
    0.25
    """
    predicted = np.asarray(predicted, dtype=float)
    human = np.asarray(human, dtype=float)
    if predicted.shape != human.shape or predicted.ndim != 1 or len(human) == 0:
        raise ValueError("predicted and human scores must be equal-length, non-empty 1-D arrays")
    point = _all(predicted, human, scale_max, pass_fraction)
    rng = np.random.default_rng(seed)
    draws = {name: np.empty(samples) for name in METRICS}
    for i in range(samples):
        index = rng.integers(0, len(human), len(human))
        for name, value in _all(predicted[index], human[index], scale_max, pass_fraction).items():
            draws[name][i] = value
    return {
        name: MetricValue(point[name], float(np.percentile(draws[name], 2.5)),
                          float(np.percentile(draws[name], 97.5)))
        for name in METRICS
    }


def beats(ours: dict[str, MetricValue], theirs: dict[str, MetricValue]) -> dict[str, bool]:
    """Per metric, whether ``ours`` has the better point value."""
    return {
        name: (ours[name].value < theirs[name].value if name in LOWER_IS_BETTER
               else ours[name].value > theirs[name].value)
        for name in METRICS
    }
