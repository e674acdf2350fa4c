"""Questions without a rubric file: question text plus reference answers, criteria optional."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from grader.errors import InvalidQuestionError, describe_validation_error
from grader.rubric import Criterion, Rubric
from grader.text import slugify, split_clauses, split_sentences, words

#: Sentences shorter than this are split no further; longer ones are split into clauses.
_CLAUSE_SPLIT_WORDS = 18

# Limits of an ad-hoc question (README, "Ad-hoc questions"). Its texts are embedded on the
# request's time, in the shared model's queue, so they are bounded like an answer is: together
# at most 50,000 characters, a few seconds of model time on a CPU.
MAX_QUESTION_CHARS = 5_000
MAX_REFERENCES = 10
MAX_REFERENCE_CHARS = 3_000
MAX_CRITERIA = 30
MAX_CRITERION_CHARS = 500
MAX_ID_CHARS = 200

#: Control characters a text may hold: line breaks and tabs. Any other (NUL, escape, ...) is
#: refused: no one types them, and they can make one text look like another to a cache key.
ALLOWED_CONTROLS = frozenset("\n\r\t")


def _plain_text(value: str) -> str:
    """Refuse control characters other than ``ALLOWED_CONTROLS`` (pydantic already refuses a
    lone surrogate: not Unicode text)."""
    for position, char in enumerate(value):
        if unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS:
            raise ValueError(
                f"a control character (U+{ord(char):04X}) at character {position}; remove it "
                "(only line breaks and tabs are allowed)")
    return value


QuestionText = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS),
                         AfterValidator(_plain_text)]
ReferenceText = Annotated[str, Field(max_length=MAX_REFERENCE_CHARS), AfterValidator(_plain_text)]
CriterionText = Annotated[str, Field(max_length=MAX_CRITERION_CHARS), AfterValidator(_plain_text)]
IdText = Annotated[str, Field(max_length=MAX_ID_CHARS), AfterValidator(_plain_text)]


class AdhocQuestion(BaseModel):
    """A question to grade against without a rubric file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: QuestionText
    reference_answers: list[ReferenceText] = Field(min_length=1, max_length=MAX_REFERENCES)
    criteria: list[CriterionText] | None = Field(
        default=None, max_length=MAX_CRITERIA,
        description="key points; derived from the first reference answer when absent",
    )
    id: IdText | None = Field(default=None, description="an id for the result; derived when absent")


class QuestionFields(BaseModel):
    """The question fields of a batch row and of a labeled row: a bank ``question_id``, or an
    ad-hoc ``question`` with ``reference_answer`` (or a ``reference_answers`` list) and optional
    ``criteria``."""

    question_id: str | None = None
    question: str | None = None
    reference_answer: str | None = None
    reference_answers: list[str] | None = None
    criteria: list[str] | None = None

    @property
    def references(self) -> list[str]:
        """``reference_answer`` first, then ``reference_answers``."""
        references = list(self.reference_answers or [])
        if self.reference_answer is not None:
            references.insert(0, self.reference_answer)
        return references


def derive_criteria(reference_answer: str) -> list[str]:
    """Key points from a reference answer: its sentences, long ones split into clauses.

    >>> derive_criteria("Adam keeps an average of gradients, and it scales each step.")
    ['Adam keeps an average of gradients, and it scales each step.']
    """
    points: list[str] = []
    for sentence in split_sentences(reference_answer):
        if len(words(sentence)) > _CLAUSE_SPLIT_WORDS:
            points.extend(split_clauses(sentence))
        else:
            points.append(sentence)
    return [point for point in points if words(point)] or [reference_answer]


def rubric_from_adhoc(question: AdhocQuestion) -> Rubric:
    """Build an in-memory rubric; its id is stable for the same question and references.

    Raises ``InvalidQuestionError`` listing each problem when the parts do not make a rubric
    (an empty reference answer, a criterion of under three characters, ...).
    """
    points = question.criteria or derive_criteria(question.reference_answers[0])
    digest = hashlib.sha256(
        "\x00".join([question.question, *question.reference_answers, *points]).encode()
    ).hexdigest()[:12]
    try:
        return Rubric(
            id=(slugify(question.id, drop_function_words=False, fallback="adhoc") if question.id
                else f"adhoc-{digest}"),
            question=question.question,
            reference_answers=question.reference_answers,
            criteria=[Criterion(id=f"point-{i}", description=point)
                      for i, point in enumerate(points, start=1)],
        )
    except ValidationError as error:
        raise InvalidQuestionError([describe_validation_error(error, root="question")]) from None
