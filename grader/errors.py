"""Errors the grader raises, each saying what was wrong and what to do.

    GraderError
    ├── RubricError            a rubric file is missing, unreadable or invalid
    ├── UnknownQuestionError   no rubric has that id
    ├── InvalidAnswerError     the answer breaks a limit (too long, wrong type)
    ├── InvalidQuestionError   an ad-hoc question cannot be turned into a rubric
    ├── ConfigurationError     a setting is wrong or something it needs is missing
    │   └── CriticUnavailableError  the LLM critic was asked for but is not configured
    ├── EmbeddingError         the embedding model could not be loaded or run
    └── CriticError            the LLM critic gave no usable reply (the grade falls back)

Adapters map these in one place: the API to status codes, the CLI to exit codes.
"""

from __future__ import annotations


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
    """The answer cannot be graded as given (for example, it is over the length limit)."""


class InvalidQuestionError(GraderError):
    """An ad-hoc question (text, reference answers, criteria) cannot be graded against."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("The ad-hoc question cannot be graded against: " + "; ".join(problems))


class ConfigurationError(GraderError):
    """A setting is invalid, or something it needs is missing."""


class CriticUnavailableError(ConfigurationError):
    """The LLM critic was requested but no LLM is configured."""


class EmbeddingError(GraderError):
    """The embedding model could not be loaded or failed to encode."""


class CriticError(GraderError):
    """The LLM critic could not produce a usable critique; the grader falls back to offline."""

    def __init__(self, message: str, *, model: str | None = None, usage: object | None = None,
                 flags: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.model = model
        self.usage = usage
        self.flags = flags
