"""The question an eval harness's record points at: a bank id, or an ad-hoc question."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from grader.adhoc import AdhocQuestion
from grader.errors import InvalidQuestionError, describe_validation_error


def _texts(value: Any, name: str, where: str) -> list[str] | None:
    """A list of texts from a list, or from one string with one text per line.

    One string is accepted because promptfoo turns a list var into one test per item.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(value, list) and all(isinstance(entry, str) for entry in value):
        return list(value)
    raise InvalidQuestionError([f"{where}: '{name}' must be a list of texts, or one text with "
                                f"one item per line, not {type(value).__name__}"])


def question_from(fields: Mapping[str, Any], where: str) -> str | AdhocQuestion:
    """A bank question id (``question_id``), or an ad-hoc question: ``question`` with
    ``reference_answer`` or ``reference_answers``, and optional ``criteria``.

    ``where`` names the record in errors ("the test's vars"). Raises ``InvalidQuestionError``
    saying which fields are missing or wrong.

    >>> question_from({"question_id": "adam-optimizer"}, "inputs")
    'adam-optimizer'
    >>> question_from({"question": "What is a stack?", "reference_answer": "A LIFO list."},
    ...               "inputs").reference_answers
    ['A LIFO list.']
    """
    question_id = fields.get("question_id")
    if question_id is not None:
        if not isinstance(question_id, str) or not question_id:
            raise InvalidQuestionError([f"{where}: 'question_id' must be a question id (text)"])
        return question_id
    references = _texts(fields.get("reference_answers"), "reference_answers", where) or []
    single = fields.get("reference_answer")
    if isinstance(single, str) and single.strip():
        references.insert(0, single)
    if "question" not in fields or not references:
        raise InvalidQuestionError([
            f"{where} name no question: give 'question_id' (a bank question), or 'question' "
            "with 'reference_answer' (or 'reference_answers') for an ad-hoc one"])
    try:
        return AdhocQuestion(question=fields["question"], reference_answers=references,
                             criteria=_texts(fields.get("criteria"), "criteria", where))
    except ValidationError as error:
        raise InvalidQuestionError(
            [f"{where}: {describe_validation_error(error, root='question', limit=5)}"]
        ) from None
