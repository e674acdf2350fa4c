"""Errors the grader raises, each saying what was wrong and what to do.

    GraderError
    ├── RubricError            a rubric file is missing, unreadable or invalid
    ├── UnknownQuestionError   no rubric has that id
    ├── InvalidAnswerError     the answer breaks a limit (too long, wrong type, lone surrogate)
    ├── InvalidQuestionError   an ad-hoc question cannot be turned into a rubric (or takes a
    │                          bank question's id)
    ├── GradingFailedError     grading one answer failed unexpectedly; the others are graded
    ├── ConfigurationError     a setting is wrong or something it needs is missing
    │   ├── CriticUnavailableError  the LLM critic was asked for but is not configured
    │   └── MissingExtraError       an optional dependency (an extra) is not installed
    ├── DatasetError           a labeled dataset for ``grader eval`` cannot be read
    ├── EmbeddingError         the embedding model could not be loaded or run
    └── LLMError               an LLM gave no usable reply (rubric drafting falls back)
        └── CriticError        the LLM critic gave no usable reply (the grade falls back)

Adapters map these in one place: the API to status codes, the CLI to exit codes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from grader.result import TokenUsage


class GraderError(Exception):
    """Base class of every error the grader raises on purpose."""


class RubricError(GraderError):
    """A rubric file is missing, unreadable or fails the schema."""


class UnknownQuestionError(GraderError):
    """No rubric in the bank has the requested id."""

    def __init__(self, question_id: str, known: list[str] | None = None) -> None:
        self.question_id = question_id
        hint = ""
        if known:
            preview = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
            hint = f" Known ids: {preview} (`grader questions` lists them all)."
        super().__init__(f"Unknown question id {question_id!r}.{hint}")


class InvalidAnswerError(GraderError):
    """The answer cannot be graded as given (for example, it is over the length limit).

    ``length`` and ``limit`` are set when the answer is too long, in characters.
    """

    def __init__(self, message: str, *, length: int | None = None, limit: int | None = None
                 ) -> None:
        super().__init__(message)
        self.length = length
        self.limit = limit


class InvalidQuestionError(GraderError):
    """An ad-hoc question (text, reference answers, criteria) cannot be graded against."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("The ad-hoc question cannot be graded against: " + "; ".join(problems))


class GradingFailedError(GraderError):
    """Grading one answer failed in a way no check foresaw (a bug, or input a library could not
    handle). It stands in that answer's place; the answers graded with it are unaffected. The
    original exception is its ``__cause__`` and is logged, never shown to the client."""

    def __init__(self, cause: BaseException) -> None:
        self.cause_type = type(cause).__name__
        super().__init__(f"Grading this answer failed unexpectedly ({self.cause_type}); the "
                         "failure has been logged and other answers were not affected. Check the "
                         "text for unusual characters, and report it if it happens again.")


class ConfigurationError(GraderError):
    """A setting is invalid, or something it needs is missing."""


class CriticUnavailableError(ConfigurationError):
    """The LLM critic was requested but no LLM is configured."""

    def __init__(self) -> None:
        super().__init__(
            "critic 'llm' was requested but no LLM is configured: set GRADER_LLM_MODEL (and "
            "GRADER_LLM_BASE_URL, GRADER_LLM_API_KEY), or use critic 'auto' or 'offline'."
        )


class DatasetError(GraderError):
    """A labeled dataset file is missing or a row breaks the format; the message names file and
    line."""


class EmbeddingError(GraderError):
    """The embedding model could not be loaded or failed to encode."""


class LLMError(GraderError):
    """An OpenAI-compatible server gave no usable reply, after retries and one re-ask.

    ``model`` and ``usage`` say what was asked and what the failed calls spent; ``flags`` are
    grade flags the caller should keep (a suspected injection).
    """

    def __init__(self, message: str, *, model: str | None = None,
                 usage: TokenUsage | None = None, flags: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.model = model
        self.usage = usage
        self.flags = flags


class CriticError(LLMError):
    """The LLM critic could not produce a usable critique; the grader falls back to offline."""


class _HasErrors(Protocol):
    """A pydantic ``ValidationError``, or FastAPI's ``RequestValidationError``."""

    def errors(self) -> Sequence[Any]: ...


class MissingExtraError(ConfigurationError):
    """A feature needs an optional dependency that is not installed."""

    def __init__(self, what: str, extra: str, error: ImportError) -> None:
        self.extra = extra
        super().__init__(f"{what} needs the '{extra}' extra ({error.name or error} is not "
                         f"installed): pip install 'grader[{extra}]'.")


def describe_validation_error(
    error: _HasErrors,
    *,
    root: str = "value",
    limit: int | None = None,
    location: Callable[[tuple[Any, ...]], str] | None = None,
) -> str:
    """A validation error for people: ``"field 'a.b': message; ..."``.

    ``root`` names the whole value when a problem has no location; ``limit`` shows only the
    first problems and counts the rest; ``location`` renders a location differently (an
    environment variable's name, say).
    """
    problems = list(error.errors())
    shown = problems if limit is None else problems[:limit]
    render = location or (lambda loc: ".".join(map(str, loc)))
    text = "; ".join(f"field '{render(p['loc']) or root}': {p['msg']}" for p in shown)
    if len(problems) > len(shown):
        text += f" (and {len(problems) - len(shown)} more)"
    return text
