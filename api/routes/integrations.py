"""Endpoints in other tools' own shapes: promptfoo's ``webhook`` assertion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import BatcherDep, MetricsDep, require_json
from api.errors import ErrorResponse
from grader.errors import GraderError
from grader.integrations.promptfoo import (
    PromptfooRequest,
    PromptfooVerdict,
    grade_item,
    verdict,
)

router = APIRouter(prefix="/v1/integrations", tags=["integrations"],
                   dependencies=[Depends(require_json)])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "vars.question_id names no bank question"},
    415: {"model": ErrorResponse, "description": "the body is not sent as JSON"},
    422: {"model": ErrorResponse, "description": "the vars name no question, or a bad one"},
    503: {"model": ErrorResponse, "description": "the grader is not ready"},
}


@router.post("/promptfoo", operation_id="gradePromptfoo", response_model=PromptfooVerdict,
             responses=_ERRORS)
async def promptfoo(request: PromptfooRequest, batcher: BatcherDep, metrics: MetricsDep
                    ) -> PromptfooVerdict:
    """Grade an LLM's answer for promptfoo's ``webhook`` assertion; pass follows the verdict."""
    [outcome] = await batcher.grade([grade_item(request)])
    metrics.record_results([outcome])
    if isinstance(outcome, GraderError):
        raise outcome
    return verdict(outcome)
