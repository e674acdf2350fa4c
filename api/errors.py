"""One JSON error shape for every failure, and the one place errors become status codes.

Every error response is ``{"error": {"code", "message", "details"}}``: grader errors, request
validation, unknown routes, wrong methods, bodies that are too large, not UTF-8 or not JSON, and
(should one ever happen) an internal error. ``details`` is always an object, ``{}`` when there is
nothing to add; a list of problems is ``details.problems``, at most ``MAX_PROBLEMS`` entries and
then one that counts the rest (``capped``), so an error is never larger than the request that
caused it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.batcher import BatcherClosedError
from grader.errors import (
    ConfigurationError,
    CriticUnavailableError,
    EmbeddingError,
    GraderError,
    GradingFailedError,
    InvalidAnswerError,
    InvalidQuestionError,
    RubricError,
    UnknownQuestionError,
    describe_validation_error,
)

#: Problems listed in an error's ``details``; the rest are counted.
MAX_PROBLEMS = 20

_P = TypeVar("_P")
_T = TypeVar("_T")


def capped(problems: Sequence[_P], render: Callable[[_P], _T], more: Callable[[int], _T]
           ) -> list[_T]:
    """The first ``MAX_PROBLEMS`` problems, rendered, then ``more(count)`` for the rest, if any.

    >>> capped(list("abcdefghijklmnopqrstuvwxyz"), str.upper, lambda n: f"+{n}")[-2:]
    ['T', '+6']
    """
    shown = [render(problem) for problem in problems[:MAX_PROBLEMS]]
    hidden = len(problems) - len(shown)
    return [*shown, more(hidden)] if hidden else shown


class ErrorBody(BaseModel):
    """What went wrong, in words a client can act on."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "code": "unknown_question",
        "message": "Unknown question id 'adam'. Known ids: adam-optimizer, ...",
        "details": {"question_id": "adam"},
    }]})

    code: str = Field(description="a stable machine-readable code, e.g. 'unknown_question'")
    message: str = Field(description="what was wrong and what to do")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="always an object, {} when there is nothing to add: limits, ids, and under "
                    "'problems' a list of what was wrong (for a validation error, each with "
                    "'loc', 'msg' and 'type')")


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class ApiError(Exception):
    """An error the API raises itself (auth, limits); rendered like every other error."""

    def __init__(self, status: int, code: str, message: str,
                 details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers


def describe_grader_error(error: GraderError) -> tuple[int, ErrorBody]:
    """The status code and body for a grader error (also used per item in batch results)."""
    if isinstance(error, UnknownQuestionError):
        return 404, ErrorBody(code="unknown_question", message=str(error),
                              details={"question_id": error.question_id})
    if isinstance(error, InvalidAnswerError):
        return 422, ErrorBody(code="invalid_answer", message=str(error),
                              details={} if error.limit is None
                              else {"max_answer_chars": error.limit})
    if isinstance(error, InvalidQuestionError):
        return 422, ErrorBody(code="invalid_question", message=str(error),
                              details={"problems": capped(error.problems, str,
                                                          lambda n: f"and {n:,} more")})
    if isinstance(error, CriticUnavailableError):
        return 409, ErrorBody(code="critic_unavailable", message=str(error),
                              details={"choices": ["auto", "offline"]})
    if isinstance(error, GradingFailedError):
        return 500, ErrorBody(code="grading_failed", message=str(error))
    if isinstance(error, EmbeddingError):
        return 503, ErrorBody(code="embedding_unavailable", message=str(error))
    if isinstance(error, (ConfigurationError, RubricError)):
        return 500, ErrorBody(code="server_misconfigured", message=str(error))
    return 500, ErrorBody(code="grader_error", message=str(error))


def error_response(status: int, body: ErrorBody, headers: Mapping[str, str] | None = None
                   ) -> JSONResponse:
    return JSONResponse(ErrorResponse(error=body).model_dump(mode="json"), status_code=status,
                        headers=headers)


def validation_problems(problems: Sequence[Any]) -> list[dict[str, Any]]:
    """What ``details.problems`` lists for a validation error (a request's, or a batch item's)."""
    # Only location, message and type: the raw input may be large, or hold the answer text.
    return capped(problems, lambda item: {
        "loc": [str(step) for step in item.get("loc", ())], "msg": str(item.get("msg", "")),
        "type": str(item.get("type", ""))}, lambda n: {
        "loc": [], "msg": f"and {n:,} more problems, not shown", "type": "more_problems"})


def _too_many_items(problems: Sequence[Any]) -> ErrorBody | None:
    """The batch's item limit (``max_length`` on ``items``) as its own error, or None."""
    for problem in problems:
        if problem.get("type") == "too_long" and tuple(problem.get("loc", ())) == ("body",
                                                                                    "items"):
            context = problem.get("ctx") or {}
            count, limit = context.get("actual_length"), context.get("max_length")
            has = f"has {count:,} items" if isinstance(count, int) else "has too many items"
            return ErrorBody(
                code="too_many_items",
                message=f"The batch {has}; the limit is {limit}. Split it, or raise "
                "GRADER_BATCH_MAX_ITEMS.",
                details={"items": count, "max_items": limit})
    return None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    return next((value for key, value in (headers or {}).items() if key.lower() == name), None)


def _http_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


def count_error(app: object, code: str) -> None:
    """Count one error by code on ``/metrics``: every error the API returns passes here."""
    metrics = getattr(getattr(app, "state", None), "metrics", None)
    if metrics is not None:
        metrics.errors.inc(code=code)


def _respond(request: Request, status: int, body: ErrorBody,
             headers: Mapping[str, str] | None = None) -> JSONResponse:
    count_error(request.app, body.code)
    return error_response(status, body, headers)


def register_error_handlers(app: FastAPI) -> None:
    """Map every error a request can raise to the one JSON shape."""

    async def on_grader_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, GraderError)  # registered for GraderError only
        status, body = describe_grader_error(error)
        return _respond(request, status, body)

    async def on_api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return _respond(request, error.status, ErrorBody(
            code=error.code, message=error.message, details=error.details), error.headers)

    async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = error.errors()
        too_many = _too_many_items(problems)
        if too_many is not None:
            return _respond(request, 422, too_many)
        details = {"problems": validation_problems(problems)}
        if any(item["type"] == "json_invalid" for item in details["problems"]):
            return _respond(request, 400, ErrorBody(
                code="invalid_json", message="The request body is not valid JSON; send a JSON "
                "object with Content-Type: application/json.", details=details))
        where = describe_validation_error(error, root="body", limit=5)
        return _respond(request, 422, ErrorBody(
            code="validation_error", message=f"The request is not valid: {where}",
            details=details))

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        message = str(error.detail)
        if error.status_code == 404:
            message = f"No route matches {request.url.path}; see /docs for the API."
        elif error.status_code == 405:
            message = (f"{request.method} is not allowed on {request.url.path}; allowed: "
                       f"{_header(error.headers, 'allow') or 'see /docs'}.")
        return _respond(request, error.status_code, ErrorBody(
            code=_http_code(error.status_code), message=message), error.headers)

    async def on_batcher_closed(request: Request, error: Exception) -> JSONResponse:
        return _respond(request, 503, ErrorBody(
            code="not_ready", message=f"The grader is not running ({error}); retry shortly."))

    app.add_exception_handler(GraderError, on_grader_error)
    app.add_exception_handler(BatcherClosedError, on_batcher_closed)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


#: Error responses shared by the /v1 routes, for the OpenAPI schema.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "invalid JSON, invalid UTF-8 or bad header"},
    413: {"model": ErrorResponse, "description": "request body too large"},
    422: {"model": ErrorResponse, "description": "the request does not match the schema"},
}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "missing or wrong API key"},
}
