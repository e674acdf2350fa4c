"""Fixtures for the LLM critic: a respx-stubbed OpenAI-compatible server and a fast grader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from grader import Grader, QuestionBank, Rubric, Settings
from grader.llm import LLMClient, LLMCritic
from grader.llm.cache import LLMReplyCache
from tests.fakes import FakeEmbedder
from tests.llm.llm_helpers import BASE_URL, LLMHarness, make_settings


@pytest.fixture
def adam(bank: QuestionBank) -> Rubric:
    return bank.get("adam-optimizer")


@pytest.fixture
def harness(bank: QuestionBank, adam: Rubric, tmp_path: Path) -> Iterator[LLMHarness]:
    settings = make_settings()
    sleeps: list[float] = []
    client = LLMClient(settings, sleep=sleeps.append)
    cache = LLMReplyCache(tmp_path / "llm.sqlite3")
    critic = LLMCritic(settings, client=client, cache=cache)
    grader = Grader(bank, FakeEmbedder(), llm_critic=critic, settings=Settings())
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        route = router.post("/chat/completions")
        yield LLMHarness(router, route, grader, critic, client, cache, adam, sleeps)
