"""``POST /v1/integrations/promptfoo``: promptfoo's ``webhook`` assertion, with its exact payload.

promptfoo (src/assertions/webhook.ts) POSTs ``JSON.stringify({output, context})`` with
``context = {prompt, vars: test.vars || {}}`` and only ``Content-Type: application/json``; it
reads ``pass`` (a boolean), ``score`` and ``reason``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from grader import (
    Grader,
    GradeResult,
    OfflineCritic,
    QuestionBank,
    ScoringConfig,
    Settings,
)
from grader.critic import Critique, CritiqueRequest
from grader.integrations.promptfoo import PromptfooRequest, grade_item, verdict
from tests.fakes import FakeEmbedder

PROMPT = "You are a candidate in a deep-learning interview. Answer: {{question}}"
WEAK = "Adam is an optimizer."


class SpyCritic:
    """An 'LLM' critic that judges like the offline one and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self._offline = OfflineCritic()

    def critique(self, request: CritiqueRequest) -> Critique:
        self.calls += 1
        return self._offline.critique(request)


@pytest.fixture(scope="module")
def spy() -> SpyCritic:
    return SpyCritic()


@pytest.fixture(scope="module")
def client(bank: QuestionBank, spy: SpyCritic) -> Iterator[TestClient]:
    """One app for the module (its start-up embeds the whole bank), with an LLM critic set up,
    so that 'auto' would use it."""
    grader = Grader(bank, FakeEmbedder(), llm_critic=spy, settings=Settings(
        scoring=ScoringConfig(offline_judge=False, calibrate_score=False)))
    with TestClient(create_app(grader, api_settings=ApiSettings())) as test_client:
        yield test_client


def payload(output: str, **variables: Any) -> dict[str, Any]:
    """Byte for byte what promptfoo sends for a test with these vars."""
    return {"output": output, "context": {"prompt": PROMPT, "vars": variables}}


def post(client: TestClient, body: dict[str, Any]) -> Any:
    # As promptfoo sends it: the JSON text, with only a Content-Type header.
    return client.post("/v1/integrations/promptfoo", content=json.dumps(body),
                       headers={"Content-Type": "application/json"})


def test_a_bank_question_round_trip_returns_pass_score_and_reason(
        client: TestClient, fake_grader: Grader) -> None:
    answer = fake_grader.bank.get("adam-optimizer").reference_answers[0]
    request = payload(answer, question_id="adam-optimizer", question="What is Adam?")
    response = post(client, request)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"pass", "score", "reason"}
    expected = fake_grader.grade("adam-optimizer", answer, critic="offline")
    assert body["pass"] is (expected.verdict == "pass") is True
    assert body["score"] == round(expected.score / 100, 4)
    assert body["reason"].startswith(f"pass ({expected.score:.0f}/100): ")
    print("\n--- promptfoo request ---\n" + json.dumps(request, indent=2))
    print("--- grader response ---\n" + json.dumps(body, indent=2))


def test_a_weak_answer_fails_and_the_reason_says_what_is_missing(client: TestClient) -> None:
    body = post(client, payload(WEAK, question_id="adam-optimizer")).json()
    assert body["pass"] is False and 0 <= body["score"] < 0.5
    assert body["reason"].startswith("fail (")
    assert "; Missing: " in body["reason"]  # the hints for each point not made


def test_the_offline_critic_is_the_default_even_with_an_llm_configured(
        client: TestClient, spy: SpyCritic) -> None:
    before = spy.calls
    assert post(client, payload(WEAK, question_id="adam-optimizer")).status_code == 200
    assert spy.calls == before  # promptfoo waits 5 s: the LLM only when the test asks for it
    assert post(client, payload(WEAK, question_id="adam-optimizer", critic="llm")
                ).status_code == 200
    assert spy.calls == before + 1


def test_an_adhoc_question_comes_from_the_vars(client: TestClient) -> None:
    body = post(client, payload(
        "A stack is last-in, first-out: pop returns what was pushed last.",
        question="What is a stack?",
        reference_answer="A stack is a last-in, first-out collection.",
        criteria="A stack is last-in, first-out.\nPop removes the item pushed last.")).json()
    assert set(body) == {"pass", "score", "reason"} and body["score"] > 0


@pytest.mark.parametrize(("variables", "status", "says"), [
    ({}, 422, "give 'question_id'"),
    ({"question": "What is a stack?"}, 422, "reference_answer"),
    ({"question_id": "no-such-question"}, 404, "Unknown question id"),
    ({"question_id": "adam-optimizer", "critic": "gpt-4"}, 422, "'critic' must be one of"),
])
def test_a_test_that_names_no_usable_question_fails_with_what_to_fix(
        client: TestClient, variables: dict[str, Any], status: int, says: str) -> None:
    response = post(client, payload(WEAK, **variables))
    assert response.status_code == status  # promptfoo counts any non-2xx as a failed assertion
    assert says in response.json()["error"]["message"]


def test_fields_promptfoo_may_add_later_are_ignored(client: TestClient) -> None:
    body = payload(WEAK, question_id="adam-optimizer")
    body["context"]["test"] = {"description": "newer promptfoo"}
    body["provider"] = {"id": "openai:gpt-4o-mini"}
    assert post(client, body).status_code == 200
    del body["context"]["prompt"]  # promptfoo drops an undefined prompt from the JSON
    assert post(client, body).status_code == 200


def test_with_api_keys_the_webhook_needs_one_too(fake_grader: Grader) -> None:
    app = create_app(fake_grader, api_settings=ApiSettings(api_keys=["k"]))
    with TestClient(app) as keyed:
        assert post(keyed, payload(WEAK, question_id="adam-optimizer")).status_code == 401


def test_the_mapping_is_the_library_s(fake_grader: Grader) -> None:
    item = grade_item(PromptfooRequest.model_validate(payload(WEAK, question_id="adam-optimizer")))
    assert (item.question, item.answer, item.critic) == ("adam-optimizer", WEAK, "offline")
    result: GradeResult = fake_grader.grade(item.question, item.answer, critic=item.critic)
    assert verdict(result).model_dump() == {"pass": result.verdict == "pass",
                                            "score": round(result.score / 100, 4),
                                            "reason": verdict(result).reason}
