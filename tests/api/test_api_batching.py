"""The dynamic batcher: concurrent requests share one embedding call, limits hold, one item or
one request never fails another, and LLM critiques never hold up offline grades."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Sequence

import httpx
import pytest

from api.app import create_app
from api.batcher import BatcherClosedError, GradeBatcher, Outcome
from api.settings import ApiSettings
from grader import GradeItem, Grader, QuestionBank, Settings
from grader.critic import Critique, CritiqueRequest, OfflineCritic
from grader.errors import EmbeddingError, GraderError
from grader.grading import PreparedAnswer
from grader.result import CriticInfo, GradeResult
from tests.fakes import POISON, FakeEmbedder, PoisonEmbedder

ADAM = "adam-optimizer"
#: Generous bounds for waits that, with the code working, end at once; they only keep a broken
#: build from hanging the test run.
WAIT_S = 30.0


class Recorder:
    """A ``BatchGrader`` stand-in: records each embedding pass (and that it ran off the event
    loop); each item becomes an error carrying its answer. Answers "bug" make the pass raise."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.loop_threads: set[int] = set()

    def prepare_many(self, items: Sequence[GradeItem]) -> list[PreparedAnswer | GraderError]:
        self.calls.append(len(items))
        self.loop_threads.add(threading.get_ident())
        if any(item.answer == "bug" for item in items):
            raise RuntimeError("a bug in the grader")
        return [EmbeddingError(item.answer) for item in items]

    def finish(self, prepared: PreparedAnswer) -> GradeResult:
        raise AssertionError("nothing here is prepared")

    def finish_offline(self, prepared: PreparedAnswer, reason: str) -> GradeResult:
        raise AssertionError("nothing here is prepared")


def test_concurrent_requests_share_one_call_and_keep_their_own_results() -> None:
    recorder = Recorder()

    async def scenario() -> list[list[Outcome]]:
        async with GradeBatcher(recorder, max_batch_size=64, max_wait_ms=200) as batcher:
            requests = [[GradeItem(ADAM, f"r{n}-{i}") for i in range(n % 3 + 1)] for n in range(8)]
            return await asyncio.gather(*(batcher.grade(items) for items in requests))

    outcomes = asyncio.run(scenario())
    assert recorder.calls == [sum(n % 3 + 1 for n in range(8))]
    for n, result in enumerate(outcomes):
        assert [str(error) for error in result] == [f"r{n}-{i}" for i in range(n % 3 + 1)]
    assert threading.get_ident() not in recorder.loop_threads


def test_batches_stop_at_the_size_limit_without_splitting_a_request() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        async with GradeBatcher(recorder, max_batch_size=4, max_wait_ms=100) as batcher:
            await asyncio.gather(*(batcher.grade([GradeItem(ADAM, "a")] * 3) for _ in range(3)))

    asyncio.run(scenario())
    assert recorder.calls == [3, 3, 3]


def test_a_failing_pass_fails_only_the_request_it_belongs_to() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        async with GradeBatcher(recorder, max_wait_ms=200) as batcher:
            results = await asyncio.gather(batcher.grade([GradeItem(ADAM, "a")]),
                                           batcher.grade([GradeItem(ADAM, "bug")]),
                                           batcher.grade([GradeItem(ADAM, "c")]),
                                           return_exceptions=True)
            assert [str(r[0]) for r in results if isinstance(r, list)] == ["a", "c"]
            assert isinstance(results[1], RuntimeError)
            assert len(await batcher.grade([GradeItem(ADAM, "d")])) == 1
        with pytest.raises(BatcherClosedError):
            await batcher.grade([GradeItem(ADAM, "e")])

    asyncio.run(scenario())
    assert recorder.calls[0] == 3  # they were batched together, then graded apart


def test_concurrent_http_requests_are_embedded_together(fake_grader: Grader) -> None:
    embedder = fake_grader.embedder
    assert isinstance(embedder, FakeEmbedder)
    app = create_app(fake_grader, api_settings=ApiSettings(batcher_max_wait_ms=200))
    answers = [f"Adam keeps a moving average number {n}." for n in range(8)]

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            embedder.token_calls.clear()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await asyncio.gather(*(
                    client.post("/v1/grade", json={"question_id": ADAM, "answer": answer})
                    for answer in answers))

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200] * 8
    assert len(embedder.token_calls) == 1
    assert sorted(embedder.token_calls[0]) == sorted(answers)
    # each response belongs to its own request: the evidence quotes that request's answer
    for answer, response in zip(answers, responses, strict=True):
        quoted = {c["evidence"] for c in response.json()["criteria"] if c["evidence"]}
        assert quoted <= {answer}


def test_an_answer_that_breaks_the_model_does_not_fail_its_batch_mates(
        bank: QuestionBank) -> None:
    """Issue 16, H1: the victim got a 500 whenever it shared a batch with the attacker."""
    grader = Grader(bank, PoisonEmbedder(), settings=Settings(max_answer_chars=2_000))
    app = create_app(grader, api_settings=ApiSettings(batcher_max_wait_ms=200))

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await asyncio.gather(
                    client.post("/v1/grade", json={"question_id": ADAM, "answer": "momentum"}),
                    client.post("/v1/grade", json={"question_id": ADAM, "answer": POISON}),
                    client.post("/v1/grade/batch", json={"items": [
                        {"question_id": ADAM, "answer": f"a {POISON}"},
                        {"question_id": ADAM, "answer": "moving average"}]}))

    victim, attacker, batch = asyncio.run(scenario())
    assert victim.status_code == 200 and victim.json()["question_id"] == ADAM
    assert attacker.status_code == 500 and attacker.json()["error"]["code"] == "grading_failed"
    assert [r["status"] for r in batch.json()["results"]] == ["error", "graded"]
    metrics = app.state.metrics.render()
    assert "grader_batch_size_items_count 1" in metrics  # all three shared one batch


class SlowLLMCritic:
    """An LLM critic stand-in that blocks until released; it records what happened when."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()
        self.running = self.most_running = 0

    def critique(self, request: CritiqueRequest) -> Critique:
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.events.append("llm started")
        self.started.release()
        released = self.release.wait(WAIT_S)
        with self._lock:
            self.running -= 1
            self.events.append("llm done" if released else "llm gave up waiting")
        critique = OfflineCritic().critique(request)
        return dataclasses.replace(critique, info=CriticInfo(kind="llm", model="slow-fake"))


def _llm_app(bank: QuestionBank, critic: SlowLLMCritic, **api_settings: float):  # type: ignore[no-untyped-def]
    grader = Grader(bank, FakeEmbedder(), llm_critic=critic,
                    settings=Settings(max_answer_chars=2_000))
    return create_app(grader, api_settings=ApiSettings(batcher_max_wait_ms=0, **api_settings))


async def _started(critic: SlowLLMCritic) -> None:
    assert await asyncio.to_thread(critic.started.acquire, timeout=WAIT_S)


def test_an_offline_grade_never_waits_behind_an_llm_critique(bank: QuestionBank) -> None:
    """Issue 16, M2: the offline grade used to wait in the batcher until the LLM answered."""
    events: list[str] = []
    critic = SlowLLMCritic(events)
    app = _llm_app(bank, critic)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                slow = asyncio.ensure_future(client.post("/v1/grade", json={
                    "question_id": ADAM, "answer": "momentum", "critic": "llm"}))
                await _started(critic)
                offline = await client.post("/v1/grade", json={
                    "question_id": ADAM, "answer": "moving average", "critic": "offline"})
                events.append("offline answered")
                critic.release.set()
                return offline, await slow

    offline, slow = asyncio.run(scenario())
    assert events == ["llm started", "offline answered", "llm done"]
    assert offline.status_code == 200 and offline.json()["critic"]["kind"] == "offline"
    assert slow.status_code == 200 and slow.json()["critic"]["kind"] == "llm"


def test_llm_critiques_run_concurrently_up_to_the_pool_size(bank: QuestionBank) -> None:
    critic = SlowLLMCritic([])
    app = _llm_app(bank, critic, llm_concurrency=2)

    async def scenario() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                requests = [asyncio.ensure_future(client.post("/v1/grade", json={
                    "question_id": ADAM, "answer": f"momentum {n}", "critic": "llm"}))
                    for n in range(4)]
                await _started(critic)
                await _started(critic)  # two at once: neither waited for the other
                critic.release.set()
                return await asyncio.gather(*requests)

    responses = asyncio.run(scenario())
    assert [r.json()["critic"]["kind"] for r in responses] == ["llm"] * 4
    assert critic.most_running == 2


def test_an_llm_critique_past_its_deadline_falls_back_to_offline(bank: QuestionBank) -> None:
    critic = SlowLLMCritic([])
    app = _llm_app(bank, critic, llm_deadline_s=0.2)

    async def scenario() -> httpx.Response:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                try:
                    return await client.post("/v1/grade/batch", json={"items": [
                        {"question_id": ADAM, "answer": "momentum", "critic": "llm"},
                        {"question_id": ADAM, "answer": "momentum", "critic": "offline"}]})
                finally:
                    critic.release.set()

    response = asyncio.run(scenario())
    late, offline = (entry["result"] for entry in response.json()["results"])
    assert late["critic"]["kind"] == "offline"
    assert "GRADER_LLM_DEADLINE_S" in late["critic"]["fallback_reason"]
    assert late["score"] == offline["score"] and offline["critic"]["fallback_reason"] is None
    assert "grader_llm_fallbacks_total 1" in app.state.metrics.render()
