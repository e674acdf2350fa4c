"""``grader.integrations.evaluator``: a LangSmith / openevals evaluator, called as they call it."""

from __future__ import annotations

import json

import pytest

from grader import Grader, InvalidAnswerError, InvalidQuestionError
from grader.integrations import evaluator
from grader.integrations.evaluator import answer_from

STACK = "A stack is a last-in, first-out collection: push adds on top, pop removes the top."


def test_a_bank_question_fixed_at_creation(fake_grader: Grader) -> None:
    answer = fake_grader.bank.get("adam-optimizer").reference_answers[0]
    grade = evaluator("adam-optimizer", grader=fake_grader)
    feedback = grade(inputs={"question": "ignored: the id is fixed"}, outputs={"answer": answer})
    expected = fake_grader.grade("adam-optimizer", answer, critic="offline")
    assert feedback == {"key": "grader", "score": round(expected.score / 100, 4),
                        "comment": feedback["comment"]}
    assert feedback["comment"].startswith(f"{expected.verdict} ({expected.score:.0f}/100): ")
    print("\n--- evaluator(...)(inputs, outputs) ---\n" + json.dumps(feedback, indent=2))


def test_the_question_id_from_the_inputs_and_a_key_of_ones_own(fake_grader: Grader) -> None:
    grade = evaluator(key="interview_grade", grader=fake_grader)
    feedback = grade(inputs={"question_id": "adam-optimizer"},
                     outputs={"output": "Adam is an optimizer."}, reference_outputs=None)
    assert feedback["key"] == "interview_grade" and 0 <= feedback["score"] < 0.5
    assert feedback["comment"].endswith(fake_grader.grade(
        "adam-optimizer", "Adam is an optimizer.").feedback.missing[-1])
    assert grade.__name__ == "interview_grade"  # type: ignore[attr-defined]


def test_an_adhoc_question_with_the_dataset_s_reference_output(fake_grader: Grader) -> None:
    grade = evaluator(grader=fake_grader)
    feedback = grade(inputs={"question": "What is a stack?"}, outputs=STACK,
                     reference_outputs={"answer": STACK})
    assert feedback["score"] > 0.5 and feedback["comment"].startswith("pass")


def test_openevals_style_keyword_call(fake_grader: Grader) -> None:
    grade = evaluator("adam-optimizer", grader=fake_grader)
    assert grade(outputs="Adam adapts the step size per parameter.")["key"] == "grader"


def test_no_question_or_no_answer_says_what_to_send(fake_grader: Grader) -> None:
    grade = evaluator(grader=fake_grader)
    with pytest.raises(InvalidQuestionError, match="give 'question_id'"):
        grade(inputs={"topic": "optimizers"}, outputs={"answer": "Adam."})
    with pytest.raises(InvalidAnswerError, match="put it under 'answer'"):
        grade(inputs={"question_id": "adam-optimizer"}, outputs={"tokens": 3, "a": "x", "b": "y"})


@pytest.mark.parametrize(("outputs", "answer"), [
    ("plain text", "plain text"),
    ({"answer": "a", "output": "o"}, "a"),
    ({"response": "r", "latency_ms": 12}, "r"),
    ({"only": "the one text"}, "the one text"),
])
def test_the_answer_is_found_in_the_usual_places(outputs: object, answer: str) -> None:
    assert answer_from(outputs) == answer  # type: ignore[arg-type]
