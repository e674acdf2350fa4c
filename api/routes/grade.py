"""Grading: one answer, or a batch with one result or one error per item.

The routes are built per app (``build_router``): the batch body's model carries the app's item
limit, so a batch over it is refused on the count alone, before any item is validated.
"""

# No ``from __future__ import annotations`` here: the batch route's body model is made in
# ``build_router``, and FastAPI must see that class itself, not a name it would look up in
# this module's globals.

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from api.deps import BatcherDep, GraderDep, MetricsDep, require_json
from api.errors import (
    ApiError,
    ErrorBody,
    ErrorResponse,
    count_error,
    describe_grader_error,
    validation_problems,
)
from api.schemas import (
    AdhocGradeRequest,
    BankGradeRequest,
    BatchGradeRequest,
    BatchGradeResponse,
    BatchItemFailed,
    BatchItemGraded,
    GradeRequest,
    InvalidItem,
    batch_request_model,
)
from grader.errors import GraderError, InvalidQuestionError, describe_validation_error
from grader.grading import GradeItem, Grader
from grader.result import GradeResult

_GRADE_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "critic 'llm' asked for, but no LLM is set up"},
    415: {"model": ErrorResponse, "description": "the body is not sent as JSON"},
    404: {"model": ErrorResponse, "description": "no question has this id"},
    422: {"model": ErrorResponse, "description": "invalid request, or answer over the limit"},
    503: {"model": ErrorResponse, "description": "the grader is not ready"},
}


def _to_item(grader: Grader, request: BankGradeRequest | AdhocGradeRequest) -> GradeItem:
    """A ``GradeItem``; an ad-hoc question becomes its rubric here, so a bad one is a 422."""
    if isinstance(request, BankGradeRequest):
        return GradeItem(request.question_id, request.answer, request.critic)
    try:
        rubric = grader.resolve(request.to_question())
    except InvalidQuestionError as error:
        _, body = describe_grader_error(error)
        raise ApiError(422, body.code, body.message, body.details) from None
    return GradeItem(rubric, request.answer, request.critic)


async def grade(
    request: Annotated[GradeRequest, Body(openapi_examples={
        "bank": {"summary": "a question from the bank",
                 "value": {"question_id": "adam-optimizer",
                           "answer": "Adam combines momentum with per-parameter step sizes."}},
        "adhoc": {"summary": "a question given inline",
                  "value": {"question": "What is a stack?",
                            "reference_answers": ["A last-in, first-out collection."],
                            "answer": "A LIFO structure: pop returns what was pushed last."}},
    })],
    grader: GraderDep, batcher: BatcherDep, metrics: MetricsDep,
) -> GradeResult:
    """Grade one answer to a bank question (``question_id``) or to an ad-hoc question."""
    [outcome] = await batcher.grade([_to_item(grader, request)])
    metrics.record_results([outcome])
    if isinstance(outcome, GraderError):
        raise outcome
    return outcome


async def _grade_batch(request: BatchGradeRequest, grader: Grader, batcher: BatcherDep,
                       metrics: MetricsDep, http: Request) -> BatchGradeResponse:
    items: list[GradeItem | ErrorBody] = []
    for index, entry in enumerate(request.items):
        if isinstance(entry, InvalidItem):
            where = describe_validation_error(entry.error, root="item", limit=5)
            items.append(ErrorBody(
                code="validation_error", message=f"Item {index} is not valid: {where}",
                details={"problems": validation_problems(entry.error.errors())}))
            continue
        try:
            items.append(_to_item(grader, entry))
        except ApiError as error:
            items.append(ErrorBody(code=error.code, message=error.message, details=error.details))
    outcomes = iter(await batcher.grade([i for i in items if isinstance(i, GradeItem)]))
    results: list[BatchItemGraded | BatchItemFailed] = []
    for index, item in enumerate(items):
        if isinstance(item, ErrorBody):
            results.append(BatchItemFailed(index=index, error=item))
            continue
        outcome = next(outcomes)
        metrics.record_results([outcome])
        if isinstance(outcome, GraderError):
            _, body = describe_grader_error(outcome)
            results.append(BatchItemFailed(index=index, error=body))
        else:
            results.append(BatchItemGraded(index=index, result=outcome))
    for failed in results:
        if isinstance(failed, BatchItemFailed):
            count_error(http.app, failed.error.code)
    graded = sum(isinstance(r, BatchItemGraded) for r in results)
    return BatchGradeResponse(results=results, graded=graded, failed=len(results) - graded)


def build_router(max_batch_items: int) -> APIRouter:
    """The grading routes, with at most ``max_batch_items`` items in a batch."""
    router = APIRouter(prefix="/v1/grade", tags=["grading"], dependencies=[Depends(require_json)])
    router.add_api_route("", grade, methods=["POST"], response_model=GradeResult,
                         operation_id="grade",
                         responses=_GRADE_ERRORS)
    limited = batch_request_model(max_batch_items)

    async def grade_batch(
        request: limited,  # type: ignore[valid-type]  # made above, with the limit
        grader: GraderDep, batcher: BatcherDep, metrics: MetricsDep, http: Request,
    ) -> BatchGradeResponse:
        """Grade many answers; one result or one error per item, in request order."""
        return await _grade_batch(request, grader, batcher, metrics, http)

    router.add_api_route("/batch", grade_batch, methods=["POST"], operation_id="gradeBatch",
                         response_model=BatchGradeResponse,
                         responses={code: _GRADE_ERRORS[code] for code in (415, 503)})
    return router
