"""The rubric schema: what one question-bank file under ``rubrics/`` holds.

A rubric is data. Every file is validated against these models when it is loaded,
and a bad file fails with its name and the offending field (see ``grader.bank``).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Difficulty = Literal["basic", "intermediate", "advanced"]

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a lowercase-hyphenated id such as 'first-moment'")
    return value


class Source(_Strict):
    """Where in which document the question came from."""

    document: str = Field(min_length=1)
    section: str = Field(min_length=1)
    number: int | None = Field(
        default=None, ge=1, description="the question's number in its section"
    )


class Criterion(_Strict):
    """A key point an interviewer listens for."""

    id: str
    description: str = Field(min_length=3, description="the point, stated as a correct claim")
    weight: float = Field(default=1.0, gt=0, le=10)
    phrasings: list[str] = Field(
        default_factory=list, description="ways a candidate might put it; each is matched too"
    )
    hint: str = Field(
        default="", description="a nudge for a candidate who missed it, without giving it away"
    )

    _slug = field_validator("id")(_check_slug)

    @property
    def texts(self) -> list[str]:
        """Every text that counts as saying this point."""
        return [self.description, *self.phrasings]


class Misconception(_Strict):
    """A wrong claim a candidate may make, and why it is wrong."""

    id: str
    claim: str = Field(min_length=3, description="the wrong claim, as a candidate would say it")
    why_wrong: str = Field(min_length=3)
    phrasings: list[str] = Field(default_factory=list)

    _slug = field_validator("id")(_check_slug)

    @property
    def texts(self) -> list[str]:
        return [self.claim, *self.phrasings]


class Correction(_Strict):
    """A place where the source document is wrong, and what is right instead."""

    document_says: str = Field(min_length=3)
    correct: str = Field(min_length=3)
    why: str = Field(default="")


class Rubric(_Strict):
    """One question with everything needed to grade an answer to it."""

    id: str
    question: str = Field(min_length=3)
    source: Source | None = None
    difficulty: Difficulty = "intermediate"
    tags: list[str] = Field(default_factory=list)
    reference_answers: list[str] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)
    misconceptions: list[Misconception] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)
    draft: bool = False

    _slug = field_validator("id")(_check_slug)

    @field_validator("reference_answers")
    @classmethod
    def _non_empty_answers(cls, answers: list[str]) -> list[str]:
        for index, answer in enumerate(answers):
            if not answer.strip():
                raise ValueError(f"reference answer {index} is empty")
        return answers

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        for kind, items in (("criterion", self.criteria), ("misconception", self.misconceptions)):
            ids = [item.id for item in items]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids: {', '.join(duplicates)}")
        return self

    @cached_property
    def content_hash(self) -> str:
        """A short hash of everything that affects a grade, so results name the rubric version."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    @property
    def total_weight(self) -> float:
        return sum(criterion.weight for criterion in self.criteria)
