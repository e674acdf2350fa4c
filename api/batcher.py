"""The dynamic batcher: answers from concurrent requests are graded in one embedding call.

Requests put their items on a shared list and wait. One runner task takes what has arrived,
waits up to ``max_wait_ms`` for more (or until ``max_batch_size`` items), and embeds the lot
with one ``Grader.prepare_many`` call in a worker thread, so the event loop never runs torch.
While that call runs, new requests pile up and form the next batch: under load, batches grow
on their own. A request's items are never split across batches.

Offline critiques are finished in that same worker call, at once. LLM critiques are not: they
go to a pool of ``llm_concurrency`` threads and the runner moves on to the next batch, so an
offline grade never waits behind an LLM call. Each request's LLM critiques share a deadline
(``llm_deadline_s``, time queued for the pool included); a critique not done by then is
abandoned (dropped from the queue, or left to finish unheard) and that item is graded by the
offline critic, with ``critic.fallback_reason`` saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import anyio.to_thread

from grader.errors import GraderError
from grader.grading import GradeItem, PreparedAnswer
from grader.result import GradeResult

Outcome = GradeResult | GraderError

logger = logging.getLogger("grader.api")


class BatchGrader(Protocol):
    """What the batcher needs of a ``Grader``."""

    def prepare_many(self, items: Sequence[GradeItem]) -> list[PreparedAnswer | GraderError]: ...

    def finish(self, prepared: PreparedAnswer) -> GradeResult: ...

    def finish_offline(self, prepared: PreparedAnswer, reason: str) -> GradeResult: ...


class BatcherClosedError(RuntimeError):
    """The batcher is not running (the app is starting up or shutting down)."""


@dataclass
class _Pending:
    items: Sequence[GradeItem]
    future: asyncio.Future[list[Outcome]] = field(repr=False)


Step = Outcome | PreparedAnswer  # an outcome, or an answer waiting for its LLM critique


class GradeBatcher:
    """Collects concurrent grading requests into batches; use ``async with`` to run it."""

    def __init__(self, grader: BatchGrader, *, max_batch_size: int = 64,
                 max_wait_ms: float = 5.0, llm_concurrency: int = 8,
                 llm_deadline_s: float = 60.0,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self._grader = grader
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.llm_concurrency = llm_concurrency
        self.llm_deadline_s = llm_deadline_s
        self._on_batch = on_batch
        self._pending: list[_Pending] = []
        self._arrived: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        self._llm_pool: ThreadPoolExecutor | None = None
        self._llm_tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def __aenter__(self) -> GradeBatcher:
        self._arrived = asyncio.Event()
        self._llm_pool = ThreadPoolExecutor(self.llm_concurrency, thread_name_prefix="llm-critic")
        self._runner = asyncio.get_running_loop().create_task(self._run(), name="grade-batcher")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        tasks = [task for task in (self._runner, *self._llm_tasks) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._runner = None
        if self._llm_pool is not None:  # running critiques are left to end on their own
            self._llm_pool.shutdown(wait=False, cancel_futures=True)
            self._llm_pool = None
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
            steps = await anyio.to_thread.run_sync(self._embed_and_finish_offline, items)
        except Exception as error:  # every waiting request must hear about it, not hang
            if len(batch) > 1:  # prepare_many keeps items apart; should it fail, so do we
                logger.exception("grading a batch of %d requests failed; grading each alone",
                                 len(batch))
                for pending in batch:
                    await self._process([pending])
                return
            logger.exception("grading a batch of %d items failed", len(items))
            self._fail(batch, error)
            return
        except BaseException:  # cancelled at shutdown: nobody may wait forever
            self._fail(batch, BatcherClosedError("the server is shutting down"))
            raise
        start = 0
        for pending in batch:
            end = start + len(pending.items)
            mine = steps[start:end]
            start = end
            if any(isinstance(step, PreparedAnswer) for step in mine):
                self._start_llm_critiques(pending, mine)
            elif not pending.future.done():
                pending.future.set_result([s for s in mine if not isinstance(s, PreparedAnswer)])

    def _embed_and_finish_offline(self, items: Sequence[GradeItem]) -> list[Step]:
        """The worker thread's part: one embedding pass, then every offline critique."""
        return [self._finish(step) if isinstance(step, PreparedAnswer) and step.offline
                else step for step in self._grader.prepare_many(items)]

    def _finish(self, prepared: PreparedAnswer) -> Outcome:
        try:
            return self._grader.finish(prepared)
        except GraderError as error:
            return error

    def _finish_offline(self, prepared: PreparedAnswer) -> Outcome:
        reason = (f"the LLM critic took longer than the {self.llm_deadline_s:g} s allowed "
                  "(GRADER_LLM_DEADLINE_S), so the offline critic graded this answer")
        try:
            return self._grader.finish_offline(prepared, reason)
        except GraderError as error:
            return error

    def _start_llm_critiques(self, pending: _Pending, steps: list[Step]) -> None:
        task = asyncio.get_running_loop().create_task(self._llm_critiques(pending, steps))
        self._llm_tasks.add(task)
        task.add_done_callback(self._llm_tasks.discard)
        # A client that goes away frees its place in the LLM queue.
        pending.future.add_done_callback(lambda future: task.cancel() if future.cancelled()
                                         else None)

    async def _llm_critiques(self, pending: _Pending, steps: list[Step]) -> None:
        deadline = asyncio.get_running_loop().time() + self.llm_deadline_s
        try:
            outcomes = await asyncio.gather(*(self._llm_critique(step, deadline)
                                              for step in steps))
        except BaseException:  # cancelled: at shutdown, or the client went away
            self._fail([pending], BatcherClosedError("the server is shutting down"))
            raise
        if not pending.future.done():
            pending.future.set_result(list(outcomes))

    async def _llm_critique(self, step: Step, deadline: float) -> Outcome:
        if not isinstance(step, PreparedAnswer):
            return step
        assert self._llm_pool is not None  # set in __aenter__, before any batch runs
        future = self._llm_pool.submit(self._finish, step)
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            future.cancel()  # still queued: it never runs; running: its reply goes unheard
            logger.warning("an LLM critique ran past its deadline of %g s; the offline critic "
                           "graded the answer", self.llm_deadline_s)
            return await anyio.to_thread.run_sync(self._finish_offline, step)

    @staticmethod
    def _fail(batch: list[_Pending], error: BaseException) -> None:
        for pending in batch:
            if not pending.future.done():
                pending.future.set_exception(error)
