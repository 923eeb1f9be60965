"""Group commit: concurrent callers' writes share one transaction.

Each caller awaits its own result; a background task takes whatever is queued (up to
`max_batch`), applies it in one transaction and answers everyone at once. One fsync and
a handful of statements then serve many webhooks, instead of one each.

Under load (the last batch held at least `linger_from` items) the task waits `linger`
seconds before taking a batch, so that more callers share its fixed cost: a few
milliseconds of latency for fewer transactions. A lone caller never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import Connection

from storage.database import Database, run_retrying_conflicts

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
Apply = Callable[[Connection, Sequence[Item]], list[Result]]

# Attempts of a batch whose insert lost a race for a unique key to another process.
CONFLICT_ATTEMPTS = 5


class WriterUnavailable(RuntimeError):
    """The write was not done: the caller must not report it stored."""


class WriterClosed(WriterUnavailable):
    pass


class WriterFailed(WriterUnavailable):
    """The writer's task stopped on an unexpected error (a bug); the next write restarts it."""


class BatchWriter(Generic[Item, Result]):
    def __init__(
        self,
        database: Database,
        apply: Apply[Item, Result],
        *,
        max_batch: int = 256,
        linger: float = 0.002,
        linger_from: int = 4,
    ) -> None:
        self._database = database
        self._apply = apply
        self._max_batch = max_batch
        self._linger = linger
        self._linger_from = linger_from
        self._last_batch = 0
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future[Result]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # Taken from the queue and not yet answered: what a crash of the task must answer.
        self._taken: list[tuple[Item, asyncio.Future[Result]]] = []
        self._closed = False

    async def submit(self, item: Item) -> Result:
        if self._closed:
            raise WriterClosed("the writer is shut down")
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="batch-writer")
            self._task.add_done_callback(self._on_stopped)
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        """Finish what is queued, then stop."""
        self._closed = True
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = self._taken = [await self._queue.get()]
            try:
                if self._linger > 0 and self._last_batch >= self._linger_from:
                    await asyncio.sleep(self._linger)
                while len(batch) < self._max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                self._last_batch = len(batch)
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
            self._taken = []

    def _on_stopped(self, task: asyncio.Task[None]) -> None:
        """A crashed writer must not leave its callers waiting forever: each gets an
        error (a 503 for a webhook), and it is logged; the next submit starts a new task."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("the batch writer stopped on an error", exc_info=task.exception())
        waiting = self._taken
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
            self._queue.task_done()
        for _, future in waiting:
            _settle(future, error=WriterFailed("the batch writer stopped on an error"))

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            items = [item for item, _ in batch]
            results = await run_retrying_conflicts(
                self._database,
                lambda connection: self._apply(connection, items),
                attempts=CONFLICT_ATTEMPTS,
            )
        except Exception as exc:
            if len(batch) > 1:
                # Find the one that fails; the others must not pay for it.
                for entry in batch:
                    await self._write([entry])
                return
            _settle(batch[0][1], error=exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[Result], *, result: Result | None = None, error: Exception | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
