"""One answer never fails another (issue 16, H1), and ad-hoc questions never pass for bank
questions (M12): ``Grader`` with a fake embedder, some fakes made to fail on purpose."""

from __future__ import annotations

import logging

import pytest

from grader import AdhocQuestion, GradeItem, Grader, QuestionBank, Rubric, Settings
from grader.critic import Critique, CritiqueRequest, OfflineCritic
from grader.errors import GradingFailedError, InvalidAnswerError, InvalidQuestionError
from grader.result import GradeResult
from tests.fakes import POISON, PoisonEmbedder

ADAM = "adam-optimizer"
GOOD = "Adam keeps a moving average of the gradients and scales each step per parameter."
BUG = "zzbug"  # the word that makes the critic below fail


class PoisonCritic:
    """An LLM critic stand-in with a bug: it raises ``RuntimeError`` on the word ``BUG``."""

    def critique(self, request: CritiqueRequest) -> Critique:
        if BUG in request.answer:
            raise RuntimeError("a bug in a critic")
        return OfflineCritic().critique(request)


@pytest.fixture
def grader(bank: QuestionBank) -> Grader:
    return Grader(bank, PoisonEmbedder(), llm_critic=PoisonCritic(),
                  settings=Settings(max_answer_chars=2_000))


def test_an_answer_that_breaks_the_model_fails_alone(
        grader: Grader, caplog: pytest.LogCaptureFixture) -> None:
    answers = [GOOD, f"Adam is {POISON}.", "Adam adapts the learning rate.", "momentum"]
    with caplog.at_level(logging.ERROR, logger="grader"):
        results = grader.grade_many([GradeItem(ADAM, answer) for answer in answers])
    assert [type(r) for r in results] == [GradeResult, GradingFailedError, GradeResult,
                                          GradeResult]
    assert "TypeError" in str(results[1]) and "other answers were not affected" in str(results[1])
    assert isinstance(results[1].__cause__, TypeError)
    assert "failed unexpectedly" in caplog.text and POISON not in caplog.text
    # the neighbours' grades are what they get alone
    alone = [grader.grade(ADAM, answer) for answer in (answers[0], answers[2], answers[3])]
    assert [r.score for r in results if isinstance(r, GradeResult)] == [r.score for r in alone]


def test_an_adhoc_question_that_breaks_the_model_fails_alone(grader: Grader) -> None:
    poisoned = AdhocQuestion(question="What is a stack?",
                             reference_answers=[f"A {POISON} last-in first-out collection."])
    results = grader.grade_many([GradeItem(ADAM, GOOD), GradeItem(poisoned, "LIFO"),
                                 GradeItem(ADAM, "momentum")])
    assert [type(r) for r in results] == [GradeResult, GradingFailedError, GradeResult]


def test_a_critic_that_fails_unexpectedly_fails_only_its_answer(grader: Grader) -> None:
    results = grader.grade_many([GradeItem(ADAM, GOOD, "llm"),
                                 GradeItem(ADAM, f"{BUG} momentum", "llm"),
                                 GradeItem(ADAM, "momentum", "llm")])
    assert [type(r) for r in results] == [GradeResult, GradingFailedError, GradeResult]
    assert "RuntimeError" in str(results[1])
    with pytest.raises(GradingFailedError):
        grader.grade(ADAM, BUG, critic="llm")


def test_a_lone_surrogate_is_an_invalid_answer_naming_where(grader: Grader) -> None:
    results = grader.grade_many([GradeItem(ADAM, "x \ud800 y"), GradeItem(ADAM, GOOD)])
    assert isinstance(results[0], InvalidAnswerError)
    assert "U+D800" in str(results[0]) and "character 2" in str(results[0])
    assert isinstance(results[1], GradeResult)
    # a well-formed pair (an emoji) is ordinary text
    assert isinstance(grader.grade(ADAM, "Adam \U0001f600 momentum"), GradeResult)


def test_finish_offline_says_why_the_llm_was_not_used(grader: Grader) -> None:
    [prepared] = grader.prepare_many([GradeItem(ADAM, GOOD, "llm")])
    assert not isinstance(prepared, Exception) and not prepared.offline
    result = grader.finish_offline(prepared, "the LLM took too long")
    assert result.critic.kind == "offline"
    assert result.critic.fallback_reason == "the LLM took too long"
    assert result.score == grader.grade(ADAM, GOOD, critic="offline").score


@pytest.mark.parametrize("given_id", [ADAM, "Adam Optimizer", "ADAM-optimizer"])
def test_an_adhoc_question_cannot_take_a_bank_id(grader: Grader, given_id: str) -> None:
    impostor = AdhocQuestion(id=given_id, question="Say yes.", reference_answers=["yes"],
                             criteria=["yes"])
    with pytest.raises(InvalidQuestionError, match="'adam-optimizer' is the id of a question in "
                                                   "the bank"):
        grader.grade(impostor, "yes")
    [result] = grader.grade_many([GradeItem(impostor, "yes")])
    assert isinstance(result, InvalidQuestionError)


def test_a_rubric_given_directly_cannot_pass_for_a_bank_question(
        grader: Grader, bank: QuestionBank) -> None:
    real = bank.get(ADAM)
    altered = Rubric.model_validate({**real.model_dump(), "question": "Say yes."})
    with pytest.raises(InvalidQuestionError, match="id of a question in the bank"):
        grader.grade(altered, "yes")
    assert grader.grade(real, GOOD).source == "bank"


def test_results_say_where_the_question_came_from(grader: Grader) -> None:
    assert grader.grade(ADAM, GOOD).source == "bank"
    adhoc = AdhocQuestion(id="my-stack", question="What is a stack?",
                          reference_answers=["A last-in first-out collection."])
    result = grader.grade(adhoc, "LIFO")
    assert result.source == "adhoc" and result.question_id == "my-stack"
