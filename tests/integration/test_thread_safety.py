"""``Grader.grade`` and ``grade_many`` may be called from any number of threads at once.

The real model and tokenizer, because the race was in them: a Hugging Face fast tokenizer keeps
its padding and truncation settings as mutable state, so two threads tokenizing at once broke
each other's calls ("token offsets do not line up", "Unable to create tensor").
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from grader import Grader, QuestionBank, Settings
from grader.batch import BatchOptions, plan_batch, run_batch
from grader.llm import ClientSettings, LLMCritic
from tests.batch.batch_files import read_jsonl, write_jsonl
from tests.llm.llm_helpers import BASE_URL, MODEL, completion, reply

pytestmark = pytest.mark.integration

#: Answers of very different lengths, so concurrent calls pad and truncate differently.
FRAGMENTS = [
    "Adam keeps a moving average of the gradients.",
    "It also tracks the squared gradients, like RMSprop, and divides the step by their root, "
    "so each weight gets its own learning rate; early steps are bias-corrected because both "
    "averages start at zero.",
    "Fast convergence.",
    " ".join(["A very long rambling sentence about optimisers and learning rates"] * 40) + ".",
    "CNNs slide learned filters over the image, share weights, and pool to shrink the maps.",
]


def answers(count: int) -> list[tuple[str, str]]:
    questions = ["adam-optimizer", "cnn-architecture", "feedforward-vs-recurrent"]
    return [(questions[n % 3], " ".join(FRAGMENTS[(n + k) % len(FRAGMENTS)]
                                        for k in range(1 + n % 4)) + f" Answer {n}.")
            for n in range(count)]


def grade_all(grader: Grader, items: list[tuple[str, str]], threads: int) -> list[dict[str, Any]]:
    def one(item: tuple[str, str]) -> dict[str, Any]:
        return grader.grade(item[0], item[1], critic="offline").model_dump()

    if threads == 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, items))


@pytest.mark.parametrize("backend", ["real_grader", "torch_grader"])
def test_eight_threads_grade_exactly_as_one(backend: str, request: pytest.FixtureRequest
                                            ) -> None:
    grader: Grader = request.getfixturevalue(backend)
    items = answers(30)
    expected = grade_all(grader, items, threads=1)
    for _ in range(5):  # the race hit 1-3 of 30 calls a run before the fix (torch)
        assert grade_all(grader, items, threads=8) == expected


@pytest.fixture
def llm_grader(bank: QuestionBank, real_grader: Grader) -> Grader:
    """The real model with an LLM critic whose server is a respx stand-in (no cache)."""
    settings = ClientSettings(model=MODEL, base_url=BASE_URL, max_retries=0)
    return Grader(bank, real_grader.embedder, llm_critic=LLMCritic(settings),
                  settings=Settings())


def llm_server(bank: QuestionBank) -> respx.MockRouter:
    """Answers every critique at once: every criterion missed (no quote needed)."""
    def respond(request: httpx.Request) -> httpx.Response:
        prompt = " ".join(m["content"] for m in json.loads(request.content)["messages"])
        rubric = next(r for r in bank if r.question in prompt)
        return completion(json.dumps(reply(rubric, "missed")))

    router = respx.mock(base_url=BASE_URL, assert_all_called=False)
    router.post("/chat/completions").mock(side_effect=respond)
    return router


def test_batch_with_an_llm_at_concurrency_8_is_complete_and_as_at_1(
    bank: QuestionBank, llm_grader: Grader, tmp_path: Path
) -> None:
    rows = [{"id": f"r{n}", "question_id": q, "answer": a}
            for n, (q, a) in enumerate(answers(40))]
    source = tmp_path / "answers.jsonl"
    write_jsonl(source, rows)

    def run(concurrency: int, name: str) -> list[dict[str, Any]]:
        plan = plan_batch(source, tmp_path / name, BatchOptions(critic="llm",
                                                                concurrency=concurrency))
        with llm_server(bank):
            run_batch(llm_grader, plan)
        return read_jsonl(tmp_path / name)

    expected = run(1, "one.jsonl")
    assert len(expected) == len(rows)
    assert all(row["critic"]["kind"] == "llm" for row in expected), "the stand-in LLM was used"
    for attempt in range(3):
        assert run(8, f"eight-{attempt}.jsonl") == expected
