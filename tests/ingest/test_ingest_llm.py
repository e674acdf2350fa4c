"""Drafting with an LLM through the critic's client (respx-stubbed), and falling back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from grader import Settings
from grader.errors import ConfigurationError
from grader.ingest import draft_document, ingest
from grader.rubric import Rubric

BASE_URL = "http://llm-ingest.test/v1"
MODEL = "drafting-model"


def settings() -> Settings:
    return Settings(llm_model=MODEL, llm_base_url=BASE_URL, llm_max_retries=0)


def completion(content: str) -> httpx.Response:
    return httpx.Response(200, json={
        "id": "chatcmpl-ingest", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 90, "total_tokens": 390},
    })


def good_reply(question: str) -> dict[str, Any]:
    topic = question.rstrip("?")
    return {
        "criteria": [
            {"description": f"The central mechanism behind: {topic}.", "weight": 3,
             "phrasings": ["the core idea", "how it works"], "hint": "What happens first?"},
            {"description": f"A consequence of that mechanism for: {topic}.", "weight": 2,
             "phrasings": [], "hint": "What follows from it?"},
            {"description": f"A practical detail an engineer mentions for: {topic}.", "weight": 1,
             "phrasings": ["in practice"], "hint": ""},
        ],
        "misconceptions": [
            {"claim": f"{topic} only matters for very small models.",
             "why_wrong": "It applies at every scale of network."},
        ],
    }


def question_of(request: httpx.Request) -> str:
    body = json.loads(request.content)
    match = re.search(r"^Question: (.+)$", body["messages"][1]["content"], re.M)
    assert match, "the user message names the question"
    return match.group(1)


@pytest.fixture
def llm() -> Iterator[respx.Route]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router.post("/chat/completions")


def answer_with(reply: Callable[[str], str]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: completion(reply(question_of(request)))


def test_llm_drafts_criteria_and_misconceptions(llm: respx.Route, markdown_fixture: Path,
                                                tmp_path: Path) -> None:
    llm.side_effect = answer_with(lambda q: json.dumps(good_reply(q)))
    report = ingest(markdown_fixture, tmp_path, settings=settings(), use_llm=True)

    assert llm.call_count == 6 == len(report.drafts)
    assert {d.origin for d in report.drafts} == {"llm"}
    assert report.usage is not None
    assert (report.usage.prompt_tokens, report.usage.completion_tokens) == (1800, 540)

    dropout: Rubric = report.drafts[0].rubric
    assert [c.weight for c in dropout.criteria] == [3.0, 2.0, 1.0]
    assert dropout.criteria[0].description == (
        "The central mechanism behind: What is dropout and why does it help.")
    assert dropout.criteria[0].phrasings == ["the core idea", "how it works"]
    assert dropout.criteria[0].hint == "What happens first?"
    assert [c.id for c in dropout.criteria] == [
        "central-mechanism-behind-dropout", "consequence-mechanism-dropout-help",
        "practical-detail-engineer-mentions"]
    assert dropout.misconceptions[0].claim.endswith("only matters for very small models.")
    # the rest of the draft still comes from the document
    assert dropout.reference_answers[0].startswith("During training, dropout randomly sets")
    assert dropout.draft is True and dropout.tags == ["neural-network-training", "regularization"]

    body = next(json.loads(call.request.content) for call in llm.calls
                if question_of(call.request) == "What is dropout and why does it help?")
    assert body["model"] == MODEL
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "DraftReply"
    schema = body["response_format"]["json_schema"]["schema"]
    weight = schema["$defs"]["DraftedCriterion"]["properties"]["weight"]
    assert weight["enum"] == [1, 2, 3]  # the schema constrains the values themselves
    user = body["messages"][-1]["content"]
    assert "Question: What is dropout and why does it help?" in user
    assert "Section: Regularization" in user
    assert "dropout randomly sets a fraction of a layer's activations" in user


def test_malformed_reply_is_reasked_once_then_falls_back(llm: respx.Route, markdown_fixture: Path
                                                         ) -> None:
    deterministic = draft_document(markdown_fixture)
    malformed = {"What is dropout and why does it help?": "this is not JSON {",
                 "What is gradient clipping?": json.dumps({"criteria": [
                     {"description": "ok point here", "weight": 7, "phrasings": [], "hint": ""}],
                     "misconceptions": []})}
    llm.side_effect = answer_with(lambda q: malformed.get(q) or json.dumps(good_reply(q)))

    report = draft_document(markdown_fixture, settings=settings(), use_llm=True)

    origins = {d.parsed.question: d.origin for d in report.drafts}
    assert origins["What is dropout and why does it help?"] == "fallback"
    assert origins["What is gradient clipping?"] == "fallback"
    assert sum(1 for o in origins.values() if o == "llm") == 4
    assert report.fallbacks == 2
    assert llm.call_count == 4 + 2 * 2  # each malformed reply was asked for once more

    expected = {d.parsed.question: d.rubric for d in deterministic.drafts}
    for draft in report.drafts:
        if draft.origin == "fallback":
            assert draft.rubric == expected[draft.parsed.question]  # the deterministic draft
            assert any("LLM drafting failed" in w and "no usable reply" in w
                       for w in draft.warnings)
    # the re-ask tells the model what was wrong
    reasks = [json.loads(call.request.content) for call in llm.calls
              if len(json.loads(call.request.content)["messages"]) == 3]
    assert len(reasks) == 2 and all("not valid" in r["messages"][-1]["content"] for r in reasks)


def test_a_valid_second_reply_is_used(llm: respx.Route, markdown_fixture: Path) -> None:
    replies = iter(['{"criteria": [}', json.dumps(good_reply("What is dropout"))])
    llm.side_effect = lambda request: completion(
        next(replies, None) or json.dumps(good_reply(question_of(request))))
    report = draft_document(markdown_fixture, settings=settings(), use_llm=True)
    assert report.drafts[0].origin == "llm" and report.fallbacks == 0


def test_duplicate_criteria_are_rejected_like_malformed_ones(llm: respx.Route,
                                                            markdown_fixture: Path) -> None:
    def reply(question: str) -> str:
        data = good_reply(question)
        data["criteria"][1]["description"] = data["criteria"][0]["description"]
        return json.dumps(data)

    llm.side_effect = answer_with(reply)
    report = draft_document(markdown_fixture, settings=settings(), use_llm=True)
    assert report.fallbacks == 6
    assert "same description" in report.drafts[0].warnings[-1]


def test_unreachable_server_falls_back_for_every_question(llm: respx.Route,
                                                          markdown_fixture: Path) -> None:
    llm.side_effect = lambda request: httpx.Response(503, json={"error": {"message": "down"}})
    report = draft_document(markdown_fixture, settings=settings(), use_llm=True)
    assert report.fallbacks == len(report.drafts) == 6
    assert "HTTP 503" in report.drafts[0].warnings[-1]


def test_llm_requested_but_not_configured(markdown_fixture: Path) -> None:
    with pytest.raises(ConfigurationError, match="GRADER_LLM_MODEL"):
        draft_document(markdown_fixture, settings=Settings(), use_llm=True)


def test_a_case_without_an_answer_asks_for_one(llm: respx.Route, source_document: Path) -> None:
    llm.side_effect = answer_with(lambda q: json.dumps(good_reply(q)))
    report = draft_document(source_document, settings=settings(), use_llm=True)
    assert report.fallbacks == 0 and len(report.drafts) == 14
    airbnb = next(call.request for call in llm.calls
                  if question_of(call.request).startswith("Airbnb"))
    user = json.loads(airbnb.content)["messages"][1]["content"]
    assert "Context given with the question:\nKnowing which home listings" in user
    assert "The document gives no answer" in user and "DOCUMENT_ANSWER" not in user
