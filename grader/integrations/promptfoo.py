"""promptfoo's ``webhook`` assertion: the payload it POSTs and the verdict it expects.

promptfoo sends ``{"output": "<the LLM's answer>", "context": {"prompt": ..., "vars": {...}}}``
and reads ``{"pass": bool, "score": number, "reason": string}``; a non-2xx reply fails the
assertion, and it waits 5 s by default (``WEBHOOK_TIMEOUT``), so the offline critic is the
default. The test's vars name the question: ``question_id`` for a bank question, or
``question`` with ``reference_answer`` (and optional ``criteria``) for an ad-hoc one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from grader.errors import InvalidQuestionError
from grader.grading import GradeItem
from grader.integrations.evaluator import comment_on
from grader.integrations.questions import question_from
from grader.result import CriticChoice, GradeResult

_WHERE = "the test's vars (context.vars)"
CRITICS: tuple[CriticChoice, ...] = ("offline", "auto", "llm")


class PromptfooContext(BaseModel):
    # Unknown fields are ignored, here and below: a newer promptfoo may send more, and an
    # eval must not fail on what the grader does not read.
    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(default="", description="the rendered prompt (not graded)")
    vars: dict[str, Any] = Field(
        default_factory=dict,
        description="the test's vars: question_id, or question with reference_answer (and "
                    "criteria, one per line); critic (default 'offline')")


class PromptfooRequest(BaseModel):
    """What promptfoo's ``webhook`` assertion POSTs."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{
        "output": "Adam keeps moving averages of the gradient and of its square, so each "
                  "parameter gets its own step size.",
        "context": {"prompt": "Answer the interview question: ...",
                    "vars": {"question_id": "adam-optimizer"}},
    }]})

    output: str = Field(description="the LLM's answer, graded")
    context: PromptfooContext = Field(default_factory=PromptfooContext)


class PromptfooVerdict(BaseModel):
    """What promptfoo's ``webhook`` assertion reads back."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    pass_: bool = Field(alias="pass", description="true when the grader's verdict is 'pass'")
    score: float = Field(ge=0, le=1, description="the grade over 100, from 0 to 1")
    reason: str = Field(description="verdict, score, summary and what was missing")


def grade_item(request: PromptfooRequest) -> GradeItem:
    """The answer to grade and its question. Raises ``InvalidQuestionError`` when the vars name
    no question, or a bad one."""
    fields = request.context.vars
    critic = fields.get("critic", "offline")
    if critic not in CRITICS:
        raise InvalidQuestionError([f"{_WHERE}: 'critic' must be one of "
                                    f"{', '.join(CRITICS)}, not {critic!r}"])
    return GradeItem(question_from(fields, _WHERE), request.output, critic)


def verdict(result: GradeResult) -> PromptfooVerdict:
    """Pass follows the grader's verdict (borderline fails); score is the grade over 100."""
    return PromptfooVerdict.model_validate({
        "pass": result.verdict == "pass", "score": round(result.score / 100, 4),
        "reason": comment_on(result)})
