"""The shipped score calibration: from the raw 0-100 score to the share of full marks a careful
expert gives.

The raw score mixes criterion credit, the reference match and penalties; it orders answers
but is not on an expert's scale. A monotone map fitted on the bank's labeled answers
(``grader judge train`` fits it with the judge, on the dev sets only) turns it into one: a
calibrated 70 means an expert would give about 7/10. The calibration also names the mix of
signals its raw score is made of (``weight_coverage``, ``weight_reference``,
``misconception_penalty``), which replace the settings' for the questions it applies to. The
map is data, ``grader/data/score-calibration.json``; applying it needs numpy only.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.errors import ConfigurationError, describe_validation_error
from grader.settings import ScoringConfig

DEFAULT_FILE = "score-calibration.json"


class ScoreCalibration(BaseModel):
    """A monotone piecewise-linear map from raw share (score/100) to expert share, 0..1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="named in every result's versions.calibration")
    x: list[float] = Field(min_length=1)
    y: list[float] = Field(min_length=1)
    rows: int = Field(default=0, ge=0, description="labeled answers it was fitted on")
    weight_coverage: float = Field(ge=0, description="the raw score's mix, as in ScoringConfig")
    weight_reference: float = Field(ge=0)
    misconception_penalty: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _monotone(self) -> ScoreCalibration:
        if len(self.x) != len(self.y):
            raise ValueError("x and y must have the same length")
        if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)) or any(
                b < a for a, b in zip(self.y, self.y[1:], strict=False)):
            raise ValueError("x and y must be non-decreasing")
        return self

    def scoring(self, config: ScoringConfig) -> ScoringConfig:
        """``config`` with the raw score's mix this map was fitted on."""
        return config.model_copy(update={"weight_coverage": self.weight_coverage,
                                         "weight_reference": self.weight_reference,
                                         "misconception_penalty": self.misconception_penalty})

    def apply(self, raw_score: float) -> float:
        """The calibrated 0-100 score for a raw 0-100 score."""
        return round(100.0 * float(np.interp(raw_score / 100.0, self.x, self.y)), 1)

    def save(self, path: Path) -> None:
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")
        partial.replace(path)


def parse_calibration(text: str, where: str) -> ScoreCalibration:
    try:
        return ScoreCalibration.model_validate(json.loads(text))
    except (ValueError, ValidationError) as error:
        detail = (describe_validation_error(error) if isinstance(error, ValidationError)
                  else str(error))
        raise ConfigurationError(f"The score calibration {where} cannot be used: {detail}. "
                                 "Refit it with `grader judge train`.") from error


@cache
def default_calibration() -> ScoreCalibration | None:
    """The calibration shipped in the package, or None when none has been fitted yet."""
    resource = files("grader.data").joinpath(DEFAULT_FILE)
    if not resource.is_file():
        return None
    return parse_calibration(resource.read_text(encoding="utf-8"), f"grader/data/{DEFAULT_FILE}")
