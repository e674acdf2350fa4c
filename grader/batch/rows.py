"""One input row: its fields validated into a ``GradeItem``, or the reason it cannot be graded.

``to_item`` is the one place where a row's fields become an item, so every check of a row's
content lives there: types, lone surrogates, and the limits of an ad-hoc question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import ConfigDict, ValidationError

from grader.adhoc import AdhocQuestion, QuestionFields, rubric_from_adhoc
from grader.errors import (
    GraderError,
    GradingFailedError,
    InvalidAnswerError,
    InvalidQuestionError,
    UnknownQuestionError,
    describe_validation_error,
)
from grader.grading import GradeItem
from grader.result import CriticChoice
from grader.rubric import Rubric

ProblemKind = Literal[
    "malformed_json",     # a JSONL line that is not JSON, or not a JSON object
    "malformed_csv",      # a CSV record the csv module rejects, or with the wrong field count
    "not_utf8",           # bytes that are not UTF-8
    "row_too_long",       # a line (or CSV record) over --max-row-bytes, skipped unread
    "missing_field",      # no answer, or neither question_id nor question + reference_answers
    "wrong_type",         # a field of the wrong JSON type (answer: 42)
    "invalid_row",        # fields that contradict each other or break a limit of an ad-hoc question
    "duplicate_id",       # an id that an earlier row already used
    "unknown_question",   # a question_id that no rubric has
    "invalid_answer",     # an answer the grader refuses (over GRADER_MAX_ANSWER_CHARS, not text)
    "grading_failed",     # any other GraderError the grader returned for this row
    "unexpected_error",   # an exception that is not a GraderError (a bug, a library failure)
]

#: What a row must hold, said in every missing-field error.
ROW_SHAPE = ("each row needs 'answer' and either 'question_id' or an ad-hoc 'question' with "
             "'reference_answers'")

# Half of a UTF-16 surrogate pair on its own: JSON can spell it ("\ud800"), but it is not text.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class RowProblem:
    """Why a row was not graded."""

    kind: ProblemKind
    message: str

    @classmethod
    def from_grader_error(cls, error: GraderError) -> RowProblem:
        if isinstance(error, GradingFailedError):  # a bug: the batch user may see its cause
            return cls.unexpected(error.__cause__ if isinstance(error.__cause__, Exception)
                                  else error)
        kind: ProblemKind = "grading_failed"
        if isinstance(error, UnknownQuestionError):
            kind = "unknown_question"
        elif isinstance(error, InvalidAnswerError):
            kind = "invalid_answer"
        elif isinstance(error, InvalidQuestionError):  # an ad-hoc question the grader refuses
            kind = "invalid_row"
        return cls(kind, str(error))

    @classmethod
    def unexpected(cls, error: Exception) -> RowProblem:
        return cls("unexpected_error", f"grading this row failed unexpectedly "
                                       f"({type(error).__name__}: {error}); please report it")


@dataclass(frozen=True)
class ParsedRow:
    """A row ready to grade (``item``) or already decided (``problem``); exactly one is set."""

    row: int   # 1-based position among the input's rows (blank lines are not rows)
    line: int  # 1-based line of the input file where the row starts
    id: str
    item: GradeItem | None = None
    problem: RowProblem | None = None
    question_id: str | None = None  # as given, so error rows can show it
    input_digest: str = ""  # the input's fingerprint up to this row (``grader.batch.fingerprint``)


class InputRow(QuestionFields):
    """The fields of one input row. Unknown fields (a name, a cohort) are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: str | int | None = None
    answer: str


def row_id(fields: dict[str, object], row: int) -> str:
    """The row's own id when it has a usable one, else its row number."""
    value = fields.get("id")
    if isinstance(value, str) and value.strip():
        return without_lone_surrogates(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return str(row)


def to_item(fields: dict[str, object], critic: CriticChoice) -> GradeItem | RowProblem:
    """Validate a row's fields into a ``GradeItem``, or say what is wrong with them."""
    try:
        data = InputRow.model_validate(fields)
    except ValidationError as error:
        return _describe(error)
    surrogate = _lone_surrogate(data)
    if surrogate is not None:
        return surrogate
    references = data.references
    if data.question_id is not None:
        if references:
            return RowProblem("invalid_row", "the row has both 'question_id' and "
                              "'reference_answers'; give a bank question_id, or an ad-hoc "
                              "'question' with 'reference_answers', not both")
        return GradeItem(data.question_id, data.answer, critic)
    if data.question is None:
        return RowProblem("missing_field", f"missing field 'question_id'; {ROW_SHAPE}")
    if not references:
        return RowProblem("missing_field", "an ad-hoc 'question' needs 'reference_answers' "
                          "(a list in JSONL, one text in a CSV cell)")
    try:
        rubric = _adhoc_rubric(data.question, tuple(references),
                               tuple(data.criteria) if data.criteria is not None else None)
    except ValidationError as error:  # a limit of AdhocQuestion: blank, too long, too many
        return RowProblem("invalid_row", "the ad-hoc question cannot be used: "
                          + describe_validation_error(error, root="question", limit=3))
    except InvalidQuestionError as error:
        return RowProblem("invalid_row", str(error))
    return GradeItem(rubric, data.answer, critic)


def without_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so that it can be written out."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _lone_surrogate(data: InputRow) -> RowProblem | None:
    for name, value in data:
        for index, text in enumerate(value if isinstance(value, list) else [value]):
            found = _LONE_SURROGATE.search(text) if isinstance(text, str) else None
            if found is None:
                continue
            field = f"{name}[{index}]" if isinstance(value, list) else name
            return RowProblem(
                "invalid_answer" if name == "answer" else "invalid_row",
                f"field '{field}' holds a lone surrogate (U+{ord(found.group()):04X} at "
                f"character {found.start() + 1}), which is not text; write characters outside "
                "the Basic Multilingual Plane as a pair of \\u escapes, or as UTF-8")
    return None


@lru_cache(maxsize=256)
def _adhoc_rubric(question: str, references: tuple[str, ...],
                  criteria: tuple[str, ...] | None) -> Rubric:
    # Many rows usually share one ad-hoc question: build (and hash) its rubric once.
    adhoc = AdhocQuestion(question=question, reference_answers=list(references),
                          criteria=list(criteria) if criteria is not None else None)
    return rubric_from_adhoc(adhoc)


_JSON_TYPES = {"NoneType": "null", "dict": "an object", "list": "an array", "str": "text",
               "int": "a number", "float": "a number", "bool": "a boolean"}


def _describe(error: ValidationError) -> RowProblem:
    first = error.errors()[0]
    location = first["loc"]
    field = str(location[0]) if location else "row"
    if len(location) > 1 and isinstance(location[1], int):
        field += f"[{location[1]}]"
    if first["type"] == "missing":
        hint = f"; {ROW_SHAPE}" if field == "answer" else ""
        return RowProblem("missing_field", f"missing field '{field}'{hint}")
    if first["type"].endswith("_type"):
        got = type(first["input"]).__name__
        return RowProblem("wrong_type", f"field '{field}' must be {_expected(field)}, "
                          f"not {_JSON_TYPES.get(got, got)}")
    return RowProblem("invalid_row", f"field '{field}': {first['msg']}")


def _expected(field: str) -> str:
    if field == "id":
        return "text or a whole number"
    if field in ("reference_answers", "criteria"):
        return "a list of texts"
    return "text"
