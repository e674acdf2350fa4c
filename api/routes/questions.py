"""The question bank, read-only: list with filters and pages, or one question."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import GraderDep
from api.errors import ErrorResponse
from api.schemas import QuestionDetail, QuestionPage, QuestionSummary
from grader.json_schema import hide_null
from grader.rubric import Area, Difficulty

router = APIRouter(prefix="/v1/questions", tags=["questions"])


class QuestionFilters(BaseModel):
    """Query parameters of the list; an unknown one (a typo) is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    # hide_null: optional, and shown without a nullable anyOf that client generators trip on.
    tag: str | None = Field(default=None, max_length=100, json_schema_extra=hide_null,
                            description="only questions with this tag")
    difficulty: Difficulty | None = Field(default=None, description="only this difficulty",
                                          json_schema_extra=hide_null)
    area: Area | None = Field(default=None, description="only questions in this area",
                              json_schema_extra=hide_null)
    q: str | None = Field(default=None, max_length=200, examples=["attention"],
                          json_schema_extra=hide_null,
                          description="text to search for: a case-insensitive substring of the "
                                      "question or of one of its tags")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0)


class QuestionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include: Literal["reference"] | None = Field(
        default=None, json_schema_extra=hide_null,
        description="'reference' adds reference answers, phrasings, misconceptions")


@router.get("", response_model=QuestionPage, operation_id="listQuestions")
async def list_questions(grader: GraderDep,
                         filters: Annotated[QuestionFilters, Query()]) -> QuestionPage:
    """Questions in the bank, filtered by tag, difficulty, area and text, a page at a time."""
    matching = grader.bank.filter(tag=filters.tag, difficulty=filters.difficulty,
                                  area=filters.area, search=filters.q)
    page = matching[filters.offset : filters.offset + filters.limit]
    following = filters.offset + filters.limit
    return QuestionPage(items=[QuestionSummary.of(rubric) for rubric in page],
                        total=len(matching), limit=filters.limit, offset=filters.offset,
                        next_offset=following if following < len(matching) else None)


@router.get("/{question_id}", response_model=QuestionDetail, response_model_exclude_none=True,
            operation_id="getQuestion",
            responses={404: {"model": ErrorResponse, "description": "no question has this id"}})
async def get_question(
    grader: GraderDep,
    question_id: Annotated[str, Path(max_length=200, examples=["adam-optimizer"])],
    options: Annotated[QuestionOptions, Query()],
) -> QuestionDetail:
    """One question and its criteria, without reference answers unless ``?include=reference``."""
    rubric = grader.bank.get(question_id)
    return QuestionDetail.of(rubric, include_reference=options.include == "reference")
