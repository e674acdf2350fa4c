"""Request and response models of the HTTP API (one model per role; results are ``GradeResult``).

Every request model is a ``RequestModel``: its text is checked at the boundary, so a lone
surrogate (half of a UTF-16 pair, which JSON's ``\\ud800`` escapes can carry) is a 422 naming
the field, never a failure deep inside the tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from api.errors import ErrorBody
from api.settings import MAX_BATCH_ITEMS
from grader.adhoc import AdhocQuestion
from grader.errors import InvalidQuestionError
from grader.result import CriticChoice, GradeResult
from grader.rubric import Area, Difficulty, Rubric, RubricSource

_ANSWER = Field(description="the candidate's answer; an empty answer is graded zero",
                examples=["Adam keeps a moving average of the gradient, like momentum, and "
                          "scales each step by a moving average of squared gradients."])


def _lone_surrogate(value: object) -> tuple[str, int, int] | None:
    """Where the first lone surrogate is in a string, or in a list of them: (where, index, code
    point)."""
    if isinstance(value, str):
        try:  # only a lone surrogate cannot be encoded; this is linear, and fast
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return "", error.start, ord(value[error.start])
        return None
    if isinstance(value, (list, tuple)):
        for position, entry in enumerate(value):
            if isinstance(entry, str) and (found := _lone_surrogate(entry)) is not None:
                return f" (item {position})", found[1], found[2]
    return None


class RequestModel(BaseModel):
    """The base of every request model: its text fields (inherited ones too) are valid Unicode."""

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: Any, info: ValidationInfo) -> Any:
        found = _lone_surrogate(value)
        if found is not None:
            where, index, code_point = found
            raise PydanticCustomError(
                "lone_surrogate",
                "'{field}'{where} has a lone surrogate (U+{code_point}) at character {index}, "
                "which is not valid Unicode text; send whole characters (a surrogate pair in "
                "JSON escapes, or plain UTF-8)",
                {"field": info.field_name, "where": where, "index": index,
                 "code_point": f"{code_point:04X}"})
        return value


class BankGradeRequest(RequestModel):
    """Grade an answer to a question in the bank."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "question_id": "adam-optimizer",
        "answer": "Adam combines momentum with RMSprop-style per-parameter step sizes.",
        "critic": "auto",
    }]})

    question_id: str = Field(min_length=1, max_length=200, examples=["adam-optimizer"])
    answer: str = _ANSWER
    critic: CriticChoice = Field(
        default="auto", description="'auto' uses the LLM critic when one is configured")


class AdhocGradeRequest(AdhocQuestion, RequestModel):
    """Grade an answer to a question given inline: its text, reference answers, criteria."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False,
                              json_schema_extra={"examples": [{
                                  "question": "What is a stack?",
                                  "reference_answers": ["A last-in, first-out collection: push "
                                                        "adds on top, pop removes the top."],
                                  "answer": "A stack is LIFO: you pop what you pushed last.",
                              }]})

    answer: str = _ANSWER
    critic: CriticChoice = Field(
        default="auto", description="'auto' uses the LLM critic when one is configured")

    @model_validator(mode="before")
    @classmethod
    def _one_reference_answer(cls, data: Any) -> Any:
        """``reference_answer`` (one string), as batch files and ``grader grade`` take it, goes
        first into ``reference_answers``: one vocabulary across the CLI, batch files and API."""
        if not isinstance(data, dict) or "reference_answer" not in data:
            return data
        data = dict(data)
        single = data.pop("reference_answer")
        if not isinstance(single, str):
            raise PydanticCustomError(
                "reference_answer_type", "'reference_answer' should be one string; send a list "
                "of them as 'reference_answers'")
        given = data.get("reference_answers", [])
        data["reference_answers"] = [single, *given] if isinstance(given, list) else given
        return data

    def to_question(self) -> AdhocQuestion:
        """The question, its texts stripped; ``InvalidQuestionError`` when that leaves one empty
        (a question of only spaces passes this model, which keeps the answer's spaces)."""
        try:
            return AdhocQuestion.model_validate(self.model_dump(exclude={"answer", "critic"}))
        except ValidationError as error:
            raise InvalidQuestionError([
                f"field '{'.'.join(map(str, problem['loc']))}': {problem['msg']}"
                for problem in error.errors()]) from None


def _request_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "adhoc" if "question" in value else "bank"
    return "adhoc" if isinstance(value, AdhocGradeRequest) else "bank"


_ITEMS = ("answers to grade; the limit is a setting (GRADER_BATCH_MAX_ITEMS, default 100). An "
          "item that is not valid fails alone, with its error in its result")

#: The union's tags: pydantic puts the tag in every error location, which a client never sent.
_REQUEST_KINDS = frozenset({"bank", "adhoc"})


def _relocated(error: ValidationError, prefix: tuple[str | int, ...] = ()) -> ValidationError:
    """``error`` with each location as the client wrote it: the union's tag taken out, and
    ``prefix`` put in front."""
    details: list[InitErrorDetails] = []
    for problem in error.errors(include_url=False):
        loc = problem["loc"]
        if loc and loc[0] in _REQUEST_KINDS:
            loc = loc[1:]
        # Each problem keeps its type, message and context; only its location changes.
        details.append({"type": PydanticCustomError(problem["type"], problem["msg"],
                                                    problem.get("ctx")),
                        "loc": (*prefix, *loc), "input": problem["input"]})
    return ValidationError.from_exception_data(error.title, details)


def _client_locations(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if not isinstance(value, dict | BaseModel):  # not "a valid instance of BankGradeRequest"
        raise PydanticCustomError(
            "object_type", "Input should be a JSON object: 'question_id' and 'answer', or an "
            "ad-hoc 'question', 'reference_answers' and 'answer'")
    try:
        return handler(value)
    except ValidationError as error:
        raise _relocated(error) from None


GradeRequest = Annotated[
    Annotated[BankGradeRequest, Tag("bank")] | Annotated[AdhocGradeRequest, Tag("adhoc")],
    Discriminator(_request_kind),
    WrapValidator(_client_locations),
]
_grade_request: TypeAdapter[BankGradeRequest | AdhocGradeRequest] = TypeAdapter(GradeRequest)


@dataclass(frozen=True)
class InvalidItem:
    """A batch item that is not a valid ``GradeRequest``: it fails alone, like an unknown id."""

    error: ValidationError


def _batch_item(value: Any) -> BankGradeRequest | AdhocGradeRequest | InvalidItem:
    try:
        return _grade_request.validate_python(value)
    except ValidationError as error:
        return InvalidItem(error)


#: A batch item: a ``GradeRequest``, or anything else, which becomes an ``InvalidItem`` and fails
#: alone (the schema says so: any value is accepted, and answered per item).
BatchItemRequest = Annotated[BankGradeRequest | AdhocGradeRequest | InvalidItem,
                             PlainValidator(_batch_item, json_schema_input_type=GradeRequest | Any)]


class BatchGradeRequest(RequestModel):
    """Many answers at once; each item is a ``GradeRequest``.

    The item limit is in the model (``batch_request_model`` sets the configured one), so a
    request over it fails on the count alone, before any item is validated.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"items": [
        {"question_id": "adam-optimizer", "answer": "Adam adapts the step size per parameter."},
        {"question_id": "no-such-question", "answer": "..."},
    ]}]})

    items: list[BatchItemRequest] = Field(max_length=MAX_BATCH_ITEMS, description=_ITEMS)


def batch_request_model(max_items: int) -> type[BatchGradeRequest]:
    """``BatchGradeRequest`` with at most ``max_items`` items (``GRADER_BATCH_MAX_ITEMS``)."""
    model: type[BatchGradeRequest] = create_model(
        "BatchGradeRequest", __base__=BatchGradeRequest, __doc__=BatchGradeRequest.__doc__,
        items=(list[BatchItemRequest], Field(max_length=max_items, description=_ITEMS)))
    return model


class BatchItemGraded(BaseModel):
    index: int = Field(ge=0, description="position of the item in the request")
    status: Literal["graded"] = "graded"
    result: GradeResult


class BatchItemFailed(BaseModel):
    index: int = Field(ge=0)
    status: Literal["error"] = "error"
    error: ErrorBody


BatchItem = Annotated[BatchItemGraded | BatchItemFailed, Field(discriminator="status")]


class BatchGradeResponse(BaseModel):
    """One entry per item, in request order: a result, or the error for that item."""

    results: list[BatchItem]
    graded: int = Field(ge=0)
    failed: int = Field(ge=0)


# -- questions ---------------------------------------------------------------------------------


class CriterionPublic(BaseModel):
    id: str
    description: str
    weight: float
    hint: str = ""
    phrasings: list[str] | None = Field(default=None, description="only with ?include=reference")


class MisconceptionPublic(BaseModel):
    id: str
    claim: str
    why_wrong: str


class QuestionSummary(BaseModel):
    id: str
    question: str
    area: Area | None = None
    difficulty: Difficulty
    tags: list[str]
    source: RubricSource | None = None
    criteria_count: int = Field(ge=1)

    @classmethod
    def of(cls, rubric: Rubric) -> QuestionSummary:
        return cls(id=rubric.id, question=rubric.question, area=rubric.area,
                   difficulty=rubric.difficulty, tags=list(rubric.tags), source=rubric.source,
                   criteria_count=len(rubric.criteria))


class QuestionPage(BaseModel):
    items: list[QuestionSummary]
    total: int = Field(ge=0, description="questions matching the filters")
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)
    next_offset: int | None = Field(default=None, description="offset of the next page, if any")


class QuestionDetail(BaseModel):
    """A question and its criteria; reference material only with ``?include=reference``."""

    id: str
    question: str
    area: Area | None = None
    difficulty: Difficulty
    tags: list[str]
    source: RubricSource | None = None
    criteria: list[CriterionPublic]
    reference_answers: list[str] | None = Field(default=None,
                                                description="only with ?include=reference")
    misconceptions: list[MisconceptionPublic] | None = Field(
        default=None, description="only with ?include=reference")

    @classmethod
    def of(cls, rubric: Rubric, *, include_reference: bool) -> QuestionDetail:
        criteria = [CriterionPublic(id=c.id, description=c.description, weight=c.weight,
                                    hint=c.hint,
                                    phrasings=list(c.phrasings) if include_reference else None)
                    for c in rubric.criteria]
        return cls(
            id=rubric.id, question=rubric.question, area=rubric.area,
            difficulty=rubric.difficulty, tags=list(rubric.tags), source=rubric.source,
            criteria=criteria,
            reference_answers=list(rubric.reference_answers) if include_reference else None,
            misconceptions=[MisconceptionPublic(id=m.id, claim=m.claim, why_wrong=m.why_wrong)
                            for m in rubric.misconceptions] if include_reference else None,
        )


# -- health ------------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    questions: int = Field(ge=0, description="questions in the bank")
    embedding_model: str
    grader_version: str
