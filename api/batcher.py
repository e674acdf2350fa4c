"""The dynamic batcher: answers from concurrent requests are graded in one embedding call.

Requests put their items on a shared list and wait. One runner task takes what has arrived,
waits up to ``max_wait_ms`` for more (or until ``max_batch_size`` items), and grades the lot
with one ``Grader.grade_many`` call in a worker thread, so the event loop never runs torch.
While that call runs, new requests pile up and form the next batch: under load, batches grow
on their own. A request's items are never split across batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio.to_thread

from grader.errors import GraderError
from grader.grading import GradeItem
from grader.result import GradeResult

Outcome = GradeResult | GraderError
GradeMany = Callable[[Sequence[GradeItem]], list[Outcome]]

logger = logging.getLogger("grader.api")


class BatcherClosedError(RuntimeError):
    """The batcher is not running (the app is starting up or shutting down)."""


@dataclass
class _Pending:
    items: Sequence[GradeItem]
    future: asyncio.Future[list[Outcome]] = field(repr=False)


class GradeBatcher:
    """Collects concurrent grading requests into batches; use ``async with`` to run it."""

    def __init__(self, grade_many: GradeMany, *, max_batch_size: int = 64,
                 max_wait_ms: float = 5.0,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self._grade_many = grade_many
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self._on_batch = on_batch
        self._pending: list[_Pending] = []
        self._arrived: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def __aenter__(self) -> GradeBatcher:
        self._arrived = asyncio.Event()
        self._runner = asyncio.get_running_loop().create_task(self._run(), name="grade-batcher")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self._runner = None
        self._fail(self._pending, BatcherClosedError("the server is shutting down"))
        self._pending.clear()

    async def grade(self, items: Sequence[GradeItem]) -> list[Outcome]:
        """Grade ``items`` in the next batch; one result or one error per item, in order."""
        if not items:
            return []
        if not self.running or self._arrived is None:
            raise BatcherClosedError("the grading batcher is not running")
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(items, future))
        self._arrived.set()
        return await future

    async def _run(self) -> None:
        assert self._arrived is not None  # set in __aenter__, before this task starts
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            deadline = loop.time() + self.max_wait_s
            while self._size() < self.max_batch_size:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._arrived.wait()
            batch = self._take()
            if batch:
                await self._process(batch)

    def _size(self) -> int:
        return sum(len(pending.items) for pending in self._pending)

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        size = 0
        while self._pending and (not batch or size + len(self._pending[0].items)
                                 <= self.max_batch_size):
            pending = self._pending.pop(0)
            if pending.future.done():  # the client went away before its turn
                continue
            batch.append(pending)
            size += len(pending.items)
        return batch

    async def _process(self, batch: list[_Pending]) -> None:
        items = [item for pending in batch for item in pending.items]
        if self._on_batch is not None:
            self._on_batch(len(items))
        try:
            outcomes = await anyio.to_thread.run_sync(self._grade_many, items)
        except Exception as error:  # every waiting request must hear about it, not hang
            logger.exception("grading a batch of %d items failed", len(items))
            self._fail(batch, error)
            return
        except BaseException:  # cancelled at shutdown: nobody may wait forever
            self._fail(batch, BatcherClosedError("the server is shutting down"))
            raise
        start = 0
        for pending in batch:
            end = start + len(pending.items)
            if not pending.future.done():
                pending.future.set_result(outcomes[start:end])
            start = end

    @staticmethod
    def _fail(batch: list[_Pending], error: BaseException) -> None:
        for pending in batch:
            if not pending.future.done():
                pending.future.set_exception(error)
