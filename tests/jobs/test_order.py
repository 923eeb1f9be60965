"""Jobs of one queue run one at a time, in the order they were enqueued."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from jobs.registry import HandlerRegistry
from jobs.store import _UNQUEUED_DUE_SQLITE
from storage.database import Database
from tests.jobs.conftest import TEST, FakeClock, add_job, get_job, make_worker


def _recording(ran: list[str], fail: set[str] | None = None) -> HandlerRegistry:
    registry = HandlerRegistry()
    failing = fail if fail is not None else set()

    @registry.handler(TEST)
    async def handle(payload: dict[str, Any]) -> None:
        ran.append(payload["name"])
        if payload["name"] in failing:
            raise RuntimeError("try again")

    return registry


async def test_a_queue_runs_in_enqueue_order_one_at_a_time(database: Database) -> None:
    ran: list[str] = []
    for n in range(5):
        await add_job(database, payload={"name": f"q{n}"}, key=f"q{n}", queue="tg:1")
    worker = make_worker(database, _recording(ran), FakeClock())

    rounds = [await worker.run_once() for _ in range(6)]

    assert ran == ["q0", "q1", "q2", "q3", "q4"]
    assert rounds == [1, 1, 1, 1, 1, 0]  # never two of one queue in a claim


async def test_queues_run_side_by_side(database: Database) -> None:
    ran: list[str] = []
    for queue in ("a", "b", "c"):
        for n in range(2):
            name = f"{queue}{n}"
            await add_job(database, payload={"name": name}, key=name, queue=queue)
    await add_job(database, payload={"name": "free"}, key="free")
    worker = make_worker(database, _recording(ran), FakeClock())

    first_round = await worker.run_once()

    assert first_round == 4
    assert sorted(ran) == ["a0", "b0", "c0", "free"]


async def test_a_failing_job_holds_back_the_rest_of_its_queue(database: Database) -> None:
    ran: list[str] = []
    fail = {"edit"}
    clock = FakeClock()
    send = await add_job(database, payload={"name": "send"}, key="send", queue="tg:1")
    edit = await add_job(database, payload={"name": "edit"}, key="edit", queue="tg:1")
    edit2 = await add_job(database, payload={"name": "edit2"}, key="edit2", queue="tg:1")
    worker = make_worker(database, _recording(ran, fail), clock)

    await worker.run_until_idle()
    assert ran == ["send", "edit"]  # edit failed; edit2 may not overtake it
    clock.advance(60)
    fail.clear()
    await worker.run_until_idle()

    assert ran == ["send", "edit", "edit", "edit2"]
    assert [(await get_job(database, j)).status for j in (send, edit, edit2)] == ["done"] * 3


async def test_a_dead_job_no_longer_holds_its_queue(database: Database) -> None:
    ran: list[str] = []
    await add_job(database, payload={"name": "bad"}, key="bad", queue="q", max_attempts=1)
    await add_job(database, payload={"name": "next"}, key="next", queue="q")
    worker = make_worker(database, _recording(ran, {"bad"}), FakeClock())

    await worker.run_until_idle()

    assert ran == ["bad", "next"]


async def test_two_workers_never_overlap_or_reorder_a_queue(database: Database) -> None:
    """Real concurrency: two workers, each with its own connections, on 8 queues."""
    running: dict[str, int] = {}
    order: dict[str, list[int]] = {}
    overlaps: list[str] = []
    registry = HandlerRegistry()

    @registry.handler(TEST)
    async def handle(payload: dict[str, Any]) -> None:
        queue = payload["queue"]
        if running.get(queue):
            overlaps.append(queue)
        running[queue] = running.get(queue, 0) + 1
        order.setdefault(queue, []).append(payload["n"])
        await asyncio.sleep(0)  # let the other worker in
        running[queue] -= 1

    for n in range(80):
        queue = f"tg:{n % 8}"
        await add_job(database, payload={"queue": queue, "n": n}, key=f"k{n}", queue=queue)
    other = Database(database.url)
    clock = FakeClock()
    workers = [
        make_worker(database, registry, clock, name="one", batch_size=4),
        make_worker(other, registry, clock, name="two", batch_size=4),
    ]
    try:
        totals = await asyncio.gather(*(worker.run_until_idle() for worker in workers))
        totals = [t + await w.run_until_idle() for t, w in zip(totals, workers, strict=True)]
    finally:
        await other.dispose()

    assert sum(totals) == 80
    assert overlaps == []
    assert all(numbers == sorted(numbers) for numbers in order.values())


async def test_each_round_takes_exactly_the_head_of_every_queue(database: Database) -> None:
    # Queues interleaved by id and not in name order: the claim walks the queues' heads, not
    # the due jobs, and must find one per queue however many wait behind them.
    ran: list[str] = []
    queues = ("tg:-100", "tg:42", "tg:7")
    for n in range(40):
        for queue in reversed(queues):
            name = f"{queue}/{n}"
            await add_job(database, payload={"name": name}, key=name, queue=queue)
    await add_job(database, payload={"name": "free"}, key="free")
    worker = make_worker(database, _recording(ran), FakeClock())

    rounds = [await worker.run_once() for _ in range(41)]

    assert rounds == [4] + [3] * 39 + [0]
    for queue in queues:
        assert [name for name in ran if name.startswith(f"{queue}/")] == [
            f"{queue}/{n}" for n in range(40)
        ]


async def test_sqlite_finds_jobs_of_no_queue_on_their_own_index(database: Database) -> None:
    # Without being told, SQLite walks ix_job_due through every pending card of every
    # chat (a backlog under Telegram's limits) before it reaches a job of no queue.
    if not database.is_sqlite:
        pytest.skip("SQLite's plan: PostgreSQL picks the partial index from its statistics")
    statement = _UNQUEUED_DUE_SQLITE.bindparams(
        b_now=datetime(2026, 1, 1, tzinfo=UTC), b_kinds=["notify", "flexbe"], b_limit=10
    )
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    async with database.reader.connect() as connection:
        plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()

    assert [row[-1] for row in plan] == ["SEARCH job USING INDEX ix_job_unqueued_due (run_at<?)"]
