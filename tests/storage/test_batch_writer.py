"""Group commit: concurrent callers share one transaction, each gets its own result."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from storage.batch_writer import BatchWriter, WriterFailed
from storage.database import Database

T = TypeVar("T")


class _Inline:
    """A database whose transactions are the work itself: batching is what is tested."""

    async def run_in_transaction(self, work: Callable[[Any], T]) -> T:
        return work(None)


async def test_concurrent_callers_share_a_batch_and_a_lone_caller_goes_alone() -> None:
    batches: list[list[int]] = []

    def apply(_connection: Any, items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        return [item * 2 for item in items]

    writer: BatchWriter[int, int] = BatchWriter(cast(Database, _Inline()), apply)
    try:
        assert await asyncio.gather(*(writer.submit(i) for i in range(10))) == [
            i * 2 for i in range(10)
        ]
        # After a full batch the writer lingers a moment for company; none comes.
        assert await writer.submit(99) == 198
    finally:
        await writer.aclose()

    assert batches == [list(range(10)), [99]]


async def test_a_crashed_writer_answers_its_callers_with_an_error_and_restarts() -> None:
    def apply(_connection: Any, items: Sequence[int]) -> list[int]:
        return [item * 2 for item in items]

    writer: BatchWriter[int, int] = BatchWriter(cast(Database, _Inline()), apply)
    healthy_write = writer._write

    async def broken_write(batch: Any) -> None:
        # A bug in the writer's own loop, not a database error the writer handles.
        raise UnboundLocalError("a bug")

    writer._write = broken_write  # type: ignore[method-assign]
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(writer.submit(i) for i in range(5)), return_exceptions=True), 5
        )
        assert all(isinstance(result, WriterFailed) for result in results)
        writer._write = healthy_write  # type: ignore[method-assign]
        assert await writer.submit(7) == 14, "the next write starts a new writer task"
    finally:
        await writer.aclose()
