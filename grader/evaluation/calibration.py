"""Monotone calibration from a method's raw signals to a dataset's human scale.

A ``Calibration`` first mixes one or more raw signals with non-negative weights (so the map is
monotone in every signal), then applies an isotonic step function fitted on a development set.
Its output is a share of the scale (0..1), so one file serves datasets graded 0-5 or 0-10.

A ``CalibrationSet`` holds one calibration per method (the grader and each baseline) and is what
``--calibration FILE`` and ``GRADER_CALIBRATION_FILE`` load::

    {"version": 1, "fitted_on": "mohler-dev", "methods": {"grader": {"signals": ["score"], ...}}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.errors import ConfigurationError


class Calibration(BaseModel):
    """``share = isotonic(intercept + sum(weight * signal))``, clipped at the ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signals: list[str] = Field(min_length=1)
    weights: list[float]
    intercept: float = 0.0
    x: list[float] = Field(min_length=1, description="knots of the monotone step function")
    y: list[float] = Field(min_length=1, description="share of the scale at each knot, 0..1")
    rows: int = Field(default=0, ge=0, description="answers it was fitted on")

    @model_validator(mode="after")
    def _consistent(self) -> Calibration:
        if len(self.weights) != len(self.signals):
            raise ValueError("needs one weight per signal")
        if any(w < 0 for w in self.weights):
            raise ValueError("weights must be non-negative so the map stays monotone")
        if len(self.x) != len(self.y):
            raise ValueError("x and y must have the same length")
        if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)) or any(
            b < a for a, b in zip(self.y, self.y[1:], strict=False)
        ):
            raise ValueError("x and y must be non-decreasing")
        return self

    def mix(self, signals: Mapping[str, np.ndarray]) -> np.ndarray:
        missing = [name for name in self.signals if name not in signals]
        if missing:
            raise ConfigurationError(
                f"The calibration needs signal(s) {', '.join(missing)} that this method does not "
                f"produce (it has: {', '.join(sorted(signals))}); refit it with --calibrate-on."
            )
        total = np.full(len(next(iter(signals.values()))), self.intercept, dtype=float)
        for name, weight in zip(self.signals, self.weights, strict=True):
            total += weight * np.asarray(signals[name], dtype=float)
        return total

    def share(self, signals: Mapping[str, np.ndarray]) -> np.ndarray:
        """The calibrated score as a share of the scale, for each row."""
        shares: np.ndarray = np.interp(self.mix(signals), self.x, self.y)
        return shares


def fit_calibration(signals: Mapping[str, np.ndarray], human_share: np.ndarray,
                    names: Sequence[str]) -> Calibration:
    """Fit on a development set: non-negative linear mix of ``names``, then isotonic regression."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LinearRegression

    names = list(names)
    human_share = np.asarray(human_share, dtype=float)
    if len(names) == 1:
        weights, intercept = [1.0], 0.0
    else:
        features = np.column_stack([np.asarray(signals[n], dtype=float) for n in names])
        linear = LinearRegression(positive=True).fit(features, human_share)
        weights = [float(w) for w in linear.coef_]
        intercept = float(linear.intercept_)
        if not any(weights):
            weights = [1.0] + [0.0] * (len(names) - 1)  # nothing correlates; fall back to one
    probe = Calibration(signals=names, weights=weights, intercept=intercept, x=[0.0], y=[0.0])
    mixed = probe.mix(signals)
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    isotonic.fit(mixed, human_share)
    x, y = _centered(mixed, isotonic.predict(mixed))
    return Calibration(signals=names, weights=[round(w, 6) for w in weights],
                       intercept=round(intercept, 6), x=x, y=y, rows=len(human_share))


def _centered(mixed: np.ndarray, fitted: np.ndarray) -> tuple[list[float], list[float]]:
    """One knot per isotonic step, at the mean input of the step, joined by straight lines.

    Plain isotonic regression is a staircase: answers on one step tie, which throws away the
    ranking inside it. Centring the knots keeps the map monotone but strictly increasing between
    steps (centred isotonic regression), so rank metrics do not suffer from the calibration.
    """
    knots_x, knots_y = [], []
    for level in np.unique(fitted):
        knots_x.append(round(float(mixed[fitted == level].mean()), 5))
        knots_y.append(round(float(level), 5))
    order = np.argsort(knots_x, kind="stable")
    return [knots_x[i] for i in order], [knots_y[i] for i in order]


class CalibrationSet(BaseModel):
    """One calibration per method, with where they were fitted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    fitted_on: str
    methods: dict[str, Calibration]

    def save(self, path: Path) -> None:
        """Write atomically, so an interrupted run never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")
        partial.replace(path)


def load_calibration(path: Path) -> CalibrationSet:
    """Load a calibration file; a bad file raises ``ConfigurationError`` saying what to do."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return CalibrationSet.model_validate(data)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"Cannot read calibration file {path}: {exc}. Check --calibration or "
            "GRADER_CALIBRATION_FILE, or fit one with `grader eval DEV --calibrate-on DEV "
            "--save-calibration FILE`."
        ) from exc
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"Calibration file {path} is not valid: {exc}") from exc
