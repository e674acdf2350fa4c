"""The rubric schema: what one question-bank file under ``rubrics/`` holds.

A rubric is data. Every file is validated against these models when it is loaded,
and a bad file fails with its name and the offending field (see ``grader.bank``).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from functools import cached_property
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

Difficulty = Literal["basic", "intermediate", "advanced"]

#: The bank's areas, in the order they are listed (``grader questions``, the practice page).
Area = Literal["foundations", "optimisation", "regularisation", "normalisation",
               "architectures", "practice", "scale", "language-models"]
AREAS: tuple[Area, ...] = get_args(Area)
DIFFICULTIES: tuple[Difficulty, ...] = get_args(Difficulty)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ALLOWED_CONTROLS = {"\n", "\t"}


def _check_text(value: str) -> str:
    """``value`` with ``\\r\\n`` and ``\\r`` line breaks made ``\\n``; any other control
    character but the tab is refused (``ValueError`` naming it and its position)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    for position, char in enumerate(text):
        if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS:
            raise ValueError(f"contains the control character U+{ord(char):04X} at position "
                             f"{position}; remove it (only newlines and tabs may appear in rubric "
                             "text)")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # Control characters are invisible in an editor and in the page, and an escape sequence
        # in a hint or a correction would reach a terminal as is. Every text field passes here.
        if isinstance(value, str):
            return _check_text(value)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            checked = []
            for index, item in enumerate(value):
                try:
                    checked.append(_check_text(item))
                except ValueError as error:
                    raise ValueError(f"item {index} {error}") from None
            return checked
        return value


def _check_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a lowercase-hyphenated id such as 'first-moment'")
    return value


class Source(_Strict):
    """Where in the seed document the question came from."""

    document: str = Field(min_length=1)
    section: str = Field(min_length=1)
    number: int | None = Field(
        default=None, ge=1, description="the question's number in its section"
    )


class LiteratureSource(_Strict):
    """The paper or textbook chapter the answer rests on, for a question not from the seed."""

    literature: str = Field(min_length=3, examples=[
        "Kingma, D. P. & Ba, J. (2015). Adam: A Method for Stochastic Optimization. ICLR."])


def _source_form(value: Any) -> str:
    if isinstance(value, dict):
        return "literature" if "literature" in value else "document"
    return "literature" if isinstance(value, LiteratureSource) else "document"


#: Exactly one of the two forms: ``{document, section, number?}`` or ``{literature}``.
RubricSource = Annotated[
    Annotated[Source, Tag("document")] | Annotated[LiteratureSource, Tag("literature")],
    Discriminator(_source_form),
]


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
    area: Area | None = Field(
        default=None, description="required in a bank file (see ``load_rubric``); absent only "
        "for ad-hoc questions and ingested drafts")
    source: RubricSource | None = None
    difficulty: Difficulty = "intermediate"
    tags: list[str] = Field(default_factory=list)
    reference_answers: list[str] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)
    misconceptions: list[Misconception] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)
    draft: bool = False

    _slug = field_validator("id")(_check_slug)

    @field_validator("source", mode="before")
    @classmethod
    def _one_source_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError("give a mapping: {literature: '...'} for a paper or textbook "
                             "chapter, or {document, section, number} for the seed document")
        if isinstance(value, dict) and "literature" in value and value.keys() - {"literature"}:
            extra = ", ".join(sorted(map(str, value.keys() - {"literature"})))
            raise ValueError(f"give either the seed document's document, section and number, "
                             f"or literature, not both (remove {extra} or literature)")
        return value

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


#: What every rubric in the bank must have (issue 17); ``grader rubrics check`` enforces them.
MIN_REFERENCE_ANSWERS = 2
CRITERIA_RANGE = (4, 8)
MIN_PHRASINGS = 2
MIN_MISCONCEPTIONS = 2


def minimum_shortfalls(rubric: Rubric) -> list[str]:
    """What ``rubric`` lacks of the bank's minimums, one line per field; empty when it has all.

    The schema accepts less (an ad-hoc question has one reference answer and no hints); these
    are the bar for a rubric to land in ``rubrics/``. Misconceptions need no phrasings.
    """
    problems = []
    if len(rubric.reference_answers) < MIN_REFERENCE_ANSWERS:
        problems.append(f"reference_answers: {len(rubric.reference_answers)}, needs at least "
                        f"{MIN_REFERENCE_ANSWERS} (a concise one and a fuller one)")
    low, high = CRITERIA_RANGE
    if not low <= len(rubric.criteria) <= high:
        problems.append(f"criteria: {len(rubric.criteria)}, needs {low} to {high}")
    for criterion in rubric.criteria:
        if len(criterion.phrasings) < MIN_PHRASINGS:
            problems.append(f"criteria.{criterion.id}.phrasings: {len(criterion.phrasings)}, "
                            f"needs at least {MIN_PHRASINGS} in candidates' words")
        if not criterion.hint:
            problems.append(f"criteria.{criterion.id}.hint: missing")
    if len(rubric.misconceptions) < MIN_MISCONCEPTIONS:
        problems.append(f"misconceptions: {len(rubric.misconceptions)}, needs at least "
                        f"{MIN_MISCONCEPTIONS}, each with why_wrong")
    if not rubric.tags:
        problems.append("tags: none, needs at least one")
    if "difficulty" not in rubric.model_fields_set:
        problems.append(f"difficulty: not set, needs one of {', '.join(DIFFICULTIES)}")
    if rubric.area is None:
        problems.append(f"area: not set, needs one of {', '.join(AREAS)}")
    if rubric.source is None:
        problems.append("source: not set, needs {document, section, number} or {literature}")
    return problems
