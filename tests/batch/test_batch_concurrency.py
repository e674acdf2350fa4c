"""With an LLM critic, rows are critiqued concurrently up to --concurrency; failures fall back."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from grader import CriticError, Grader, QuestionBank
from grader.batch import BatchOptions, plan_batch, run_batch
from grader.critic import FALLBACK_REASON, Critique, CritiqueRequest, OfflineCritic
from grader.errors import CriticUnavailableError
from grader.result import CriticInfo
from tests.batch.batch_files import read_jsonl, write_jsonl
from tests.fakes import FakeEmbedder


class SlowFakeLLMCritic:
    """Holds each call until `limit` calls are in flight (or a timeout), and records the peak."""

    def __init__(self, limit: int, failing_answers: set[str]) -> None:
        self.limit = limit
        self.failing_answers = failing_answers
        self.in_flight = 0
        self.peak = 0
        self.calls = 0
        self._condition = threading.Condition()
        self._offline = OfflineCritic()

    def critique(self, request: CritiqueRequest) -> Critique:
        with self._condition:
            self.calls += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self._condition.notify_all()
            self._condition.wait_for(lambda: self.in_flight >= self.limit, timeout=0.5)
        try:
            if request.answer in self.failing_answers:
                raise CriticError("the fake LLM timed out", model="fake-llm")
            critique = self._offline.critique(request)
            return replace(critique, info=CriticInfo(kind="llm", model="fake-llm"))
        finally:
            with self._condition:
                self.in_flight -= 1


def rows(count: int) -> list[dict[str, str]]:
    return [{"id": f"r{n}", "question_id": "adam-optimizer",
             "answer": f"Answer {n}: Adam keeps moving averages of gradients."}
            for n in range(count)]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_llm_calls_run_up_to_the_concurrency_limit(
    bank: QuestionBank, tmp_path: Path, concurrency: int, caplog: pytest.LogCaptureFixture
) -> None:
    failing = {"Answer 3: Adam keeps moving averages of gradients."}
    critic = SlowFakeLLMCritic(limit=concurrency, failing_answers=failing)
    grader = Grader(bank, FakeEmbedder(), llm_critic=critic)
    source = write_jsonl(tmp_path / "in.jsonl", rows(12))
    target = tmp_path / "out.jsonl"

    summary = run_batch(grader, plan_batch(source, target, BatchOptions(
        chunk_size=6, concurrency=concurrency)))

    assert critic.calls == 12
    assert critic.peak == concurrency
    records = read_jsonl(target)
    assert [r["id"] for r in records] == [f"r{n}" for n in range(12)]  # in input order
    assert (summary.graded, summary.errors) == (12, 0)
    fallback = records[3]["critic"]
    assert fallback["kind"] == "offline"
    # The file says that it fell back; why (it may name the server) goes to the log only.
    assert fallback["fallback_reason"] == FALLBACK_REASON
    assert "the fake LLM timed out" in caplog.text
    assert {r["critic"]["kind"] for n, r in enumerate(records) if n != 3} == {"llm"}


def test_offline_critic_uses_one_embedding_call_per_chunk(bank: QuestionBank,
                                                          tmp_path: Path) -> None:
    critic = SlowFakeLLMCritic(limit=1, failing_answers=set())
    embedder = FakeEmbedder()
    grader = Grader(bank, embedder, llm_critic=critic)
    grader.warm_up()
    embedder.token_calls.clear()
    source = write_jsonl(tmp_path / "in.jsonl", rows(10))

    run_batch(grader, plan_batch(source, tmp_path / "out.jsonl", BatchOptions(
        chunk_size=4, critic="offline", concurrency=8)))

    assert critic.calls == 0
    answers = [row["answer"] for row in rows(10)]
    # one pass of the model per chunk of 4, 4 and 2 rows, over exactly that chunk's answers
    assert embedder.token_calls == [answers[:4], answers[4:8], answers[8:]]


def test_critic_llm_without_an_llm_is_refused_before_any_row(bank: QuestionBank,
                                                             tmp_path: Path) -> None:
    grader = Grader(bank, FakeEmbedder())
    source = write_jsonl(tmp_path / "in.jsonl", rows(2))
    plan = plan_batch(source, tmp_path / "out.jsonl", BatchOptions(critic="llm"))
    with pytest.raises(CriticUnavailableError, match="GRADER_LLM_MODEL"):
        run_batch(grader, plan)
    assert not (tmp_path / "out.jsonl").exists()
