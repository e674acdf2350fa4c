"""Limits of ad-hoc questions (issue 16, H2 and H3): sizes, counts and control characters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from grader.adhoc import (
    MAX_CRITERIA,
    MAX_CRITERION_CHARS,
    MAX_ID_CHARS,
    MAX_QUESTION_CHARS,
    MAX_REFERENCE_CHARS,
    MAX_REFERENCES,
    AdhocQuestion,
)

README = Path(__file__).resolve().parent.parent / "README.md"
VALID: dict[str, Any] = {"question": "What is a stack?",
                         "reference_answers": ["A last-in, first-out collection."],
                         "criteria": ["last in, first out"], "id": "my-stack"}


def _with(**change: Any) -> dict[str, Any]:
    return {**VALID, **change}


@pytest.mark.parametrize(("change", "field"), [
    ({"question": "q" * (MAX_QUESTION_CHARS + 1)}, "question"),
    ({"reference_answers": ["r" * (MAX_REFERENCE_CHARS + 1)]}, "reference_answers.0"),
    ({"reference_answers": ["ok"] * (MAX_REFERENCES + 1)}, "reference_answers"),
    ({"criteria": ["c" * (MAX_CRITERION_CHARS + 1)]}, "criteria.0"),
    ({"criteria": ["a point"] * (MAX_CRITERIA + 1)}, "criteria"),
    ({"id": "i" * (MAX_ID_CHARS + 1)}, "id"),
], ids=["question", "reference-chars", "references", "criterion-chars", "criteria", "id"])
def test_each_limit_is_enforced(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AdhocQuestion(**_with(**change))
    assert [".".join(map(str, e["loc"])) for e in caught.value.errors()] == [field]


def test_a_question_at_every_limit_is_accepted() -> None:
    AdhocQuestion(question="q" * MAX_QUESTION_CHARS,
                  reference_answers=["r" * MAX_REFERENCE_CHARS] * MAX_REFERENCES,
                  criteria=["c" * MAX_CRITERION_CHARS] * MAX_CRITERIA, id="i" * MAX_ID_CHARS)


FIELDS = {"question": False, "reference_answers": True, "criteria": True, "id": False}


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\x7f", "\x85"],
                         ids=["nul", "escape", "bell", "delete", "next-line"])
@pytest.mark.parametrize("field", FIELDS)
def test_control_characters_are_refused(char: str, field: str) -> None:
    value = f"tokens{char}What is a stack?"
    with pytest.raises(ValidationError, match=rf"control character \(U\+{ord(char):04X}\) at "
                                              "character 6; remove it"):
        AdhocQuestion(**_with(**{field: [value] if FIELDS[field] else value}))


@pytest.mark.parametrize("field", FIELDS)
def test_lone_surrogates_are_refused(field: str) -> None:
    value = "What is \ud800 a stack?"
    with pytest.raises(ValidationError) as caught:
        AdhocQuestion(**_with(**{field: [value] if FIELDS[field] else value}))
    assert caught.value.errors()[0]["loc"][0] == field


def test_line_breaks_and_tabs_are_text() -> None:
    question = AdhocQuestion(**_with(reference_answers=["First line.\r\nSecond\tline.\nThird."]))
    assert question.reference_answers == ["First line.\r\nSecond\tline.\nThird."]


def test_the_readme_states_the_limits() -> None:
    text = README.read_text(encoding="utf-8")
    for number in (MAX_QUESTION_CHARS, MAX_REFERENCE_CHARS, MAX_REFERENCES, MAX_CRITERIA,
                   MAX_CRITERION_CHARS):
        assert f"{number:,}" in text, number
