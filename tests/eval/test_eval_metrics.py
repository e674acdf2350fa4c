"""Metrics, calibration and grouped folds: pure functions, checked against known values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import cohen_kappa_score

from grader.errors import ConfigurationError
from grader.evaluation.calibration import CalibrationSet, fit_calibration, load_calibration
from grader.evaluation.crossval import cross_validated_share, grouped_folds
from grader.evaluation.metrics import (
    beats,
    compute_metrics,
    quadratic_weighted_kappa,
    rounded,
)

RNG = np.random.default_rng(7)
HUMAN = np.clip(np.round(RNG.normal(3.5, 1.2, 200) * 2) / 2, 0, 5)
PREDICTED = np.clip(HUMAN + RNG.normal(0, 0.9, 200), 0, 5)


def test_point_values_match_scipy_and_sklearn() -> None:
    metrics = compute_metrics(PREDICTED, HUMAN, scale_max=5, samples=50)
    assert metrics["pearson"].value == pytest.approx(pearsonr(PREDICTED, HUMAN)[0])
    assert metrics["spearman"].value == pytest.approx(spearmanr(PREDICTED, HUMAN)[0])
    assert metrics["rmse"].value == pytest.approx(np.sqrt(np.mean((PREDICTED - HUMAN) ** 2)))
    assert metrics["mae"].value == pytest.approx(np.mean(np.abs(PREDICTED - HUMAN)))
    expected_qwk = cohen_kappa_score(rounded(PREDICTED, 5), rounded(HUMAN, 5), weights="quadratic",
                                     labels=list(range(6)))
    assert metrics["qwk"].value == pytest.approx(expected_qwk)
    assert metrics["pass_agreement"].value == pytest.approx(
        np.mean((PREDICTED >= 3.5) == (HUMAN >= 3.5)))


def test_intervals_contain_the_point_and_are_reproducible() -> None:
    first = compute_metrics(PREDICTED, HUMAN, scale_max=5, samples=200)
    second = compute_metrics(PREDICTED, HUMAN, scale_max=5, samples=200)
    for name, value in first.items():
        assert value.low <= value.value <= value.high, name
        assert value == second[name]
    assert first["pearson"].high - first["pearson"].low > 0.01


def test_perfect_and_reversed_predictions() -> None:
    perfect = compute_metrics(HUMAN, HUMAN, scale_max=5, samples=20)
    assert perfect["pearson"].value == pytest.approx(1.0)
    assert perfect["rmse"].value == 0 and perfect["qwk"].value == pytest.approx(1.0)
    reversed_ = compute_metrics(5 - HUMAN, HUMAN, scale_max=5, samples=20)
    assert reversed_["pearson"].value == pytest.approx(-1.0)
    assert reversed_["qwk"].value < 0
    assert beats(perfect, reversed_) == dict.fromkeys(perfect, True) | {"pass_agreement": True}


def test_kappa_rounds_halves_up() -> None:
    assert list(rounded(np.array([0.49, 0.5, 4.5, 5.2]), 5)) == [0, 1, 5, 5]
    assert quadratic_weighted_kappa(np.array([1.0, 2, 3]), np.array([1.0, 2, 3]), 5) == 1.0


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="equal-length"):
        compute_metrics(np.array([1.0]), np.array([1.0, 2.0]), scale_max=5)


def test_grouped_folds_never_split_a_question() -> None:
    groups = [f"q{i % 13}" for i in range(300)]
    folds = grouped_folds(groups, 5)
    assert sorted(np.concatenate(folds)) == list(range(300))
    seen: dict[str, int] = {}
    for fold, rows in enumerate(folds):
        for row in rows:
            assert seen.setdefault(groups[row], fold) == fold


def test_calibration_is_monotone_and_round_trips(tmp_path: Path) -> None:
    raw = np.clip(HUMAN / 5 + RNG.normal(0, 0.2, 200), 0, 1)
    calibration = fit_calibration({"score": raw}, HUMAN / 5, ["score"])
    grid = np.linspace(-0.5, 1.5, 101)
    mapped = calibration.share({"score": grid})
    assert np.all(np.diff(mapped) >= 0) and mapped.min() >= 0 and mapped.max() <= 1
    path = tmp_path / "calibration.json"
    CalibrationSet(fitted_on="synthetic", methods={"grader": calibration}).save(path)
    loaded = load_calibration(path)
    assert np.allclose(loaded.methods["grader"].share({"score": grid}), mapped)
    assert json.loads(path.read_text())["fitted_on"] == "synthetic"


def test_multi_signal_calibration_keeps_weights_non_negative() -> None:
    good = HUMAN / 5 + RNG.normal(0, 0.1, 200)
    anti = -HUMAN / 5 + RNG.normal(0, 0.1, 200)
    calibration = fit_calibration({"a": good, "b": anti}, HUMAN / 5, ["a", "b"])
    assert calibration.weights[0] > 0 and calibration.weights[1] == 0


def test_bad_calibration_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"version": 1, "fitted_on": "x", "methods": {"grader": {"signals": []}}}')
    with pytest.raises(ConfigurationError, match="not valid"):
        load_calibration(path)
    with pytest.raises(ConfigurationError, match="--calibrate-on"):
        load_calibration(tmp_path / "missing.json")


def test_cross_validated_share_uses_only_other_questions() -> None:
    # Each question's raw signal is constant and its human score differs: a model that saw the
    # question would fit it exactly; one that did not cannot.
    groups = [f"q{i}" for i in range(10) for _ in range(10)]
    raw = np.repeat(np.arange(10) / 10, 10)
    human = np.repeat(RNG.uniform(0, 1, 10), 10)
    predicted = cross_validated_share({"score": raw}, human, groups, ["score"], folds=5)
    assert not np.allclose(predicted, human)
