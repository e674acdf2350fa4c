"""The dynamic batcher: concurrent requests share one embedding call, limits hold, errors spread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import httpx
import pytest

from api.app import create_app
from api.batcher import BatcherClosedError, GradeBatcher, Outcome
from api.settings import ApiSettings
from grader import GradeItem, Grader
from grader.errors import EmbeddingError
from tests.fakes import FakeEmbedder

ADAM = "adam-optimizer"


class Recorder:
    """A ``grade_many`` stand-in that records each call and checks it is off the event loop."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.loop_threads: set[int] = set()

    def __call__(self, items: Sequence[GradeItem]) -> list[Outcome]:
        self.calls.append(len(items))
        self.loop_threads.add(threading.get_ident())
        return [EmbeddingError(item.answer) for item in items]


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


def test_a_failing_batch_fails_every_waiting_request_and_the_batcher_goes_on() -> None:
    calls = 0

    def flaky(items: Sequence[GradeItem]) -> list[Outcome]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        return [EmbeddingError("fine") for _ in items]

    async def scenario() -> None:
        async with GradeBatcher(flaky, max_wait_ms=50) as batcher:
            results = await asyncio.gather(batcher.grade([GradeItem(ADAM, "a")]),
                                           batcher.grade([GradeItem(ADAM, "b")]),
                                           return_exceptions=True)
            assert all(isinstance(r, RuntimeError) for r in results)
            assert len(await batcher.grade([GradeItem(ADAM, "c")])) == 1
        with pytest.raises(BatcherClosedError):
            await batcher.grade([GradeItem(ADAM, "d")])

    asyncio.run(scenario())


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
