"""The running worker: woken at once by an enqueue, and a clean shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, insert

from jobs import signals, store
from jobs.errors import RetryLater
from jobs.registry import HandlerRegistry
from jobs.store import JOB, ClaimResult
from jobs.worker import Worker
from storage.clock import utcnow
from storage.database import Database
from tests.jobs.conftest import TEST, add_job, attempts_of, get_job

# Long enough that a test passing within WAIT proves the worker did not poll its way there.
POLL = 60.0
WAIT = 10.0


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)


def _signalling_registry(on_run: Callable[[dict[str, Any]], Any]) -> HandlerRegistry:
    registry = HandlerRegistry()

    @registry.handler(TEST)
    async def handle(payload: dict[str, Any]) -> None:
        result = on_run(payload)
        if asyncio.iscoroutine(result):
            await result

    return registry


class Held:
    """A handler that says it `started`, then runs until told to `release`."""

    def __init__(self) -> None:
        self.started, self.release = asyncio.Event(), asyncio.Event()

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.started.set()
        await self.release.wait()


async def _stop_while_it_runs(
    database: Database,
    handler: Callable[[dict[str, Any]], Awaitable[None]],
    started: asyncio.Event,
    *,
    shutdown_timeout: float,
    on_stop: Callable[[], None] = lambda: None,
) -> int:
    """One job due now, run by `handler`: the worker is stopped once `started` is set (then
    `on_stop` is called) and waited for until it has stopped. Returns the job's id."""
    worker = Worker(
        database,
        _signalling_registry(handler),
        poll_interval=POLL,
        shutdown_timeout=shutdown_timeout,
        listen=False,
    )
    job_id = await add_job(database, key="k", run_at=None)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), WAIT)

    stop.set()
    await asyncio.sleep(0)
    on_stop()
    await asyncio.wait_for(task, WAIT)
    return job_id


async def test_an_enqueue_in_this_process_wakes_the_worker_at_once(database: Database) -> None:
    started = asyncio.Event()
    registry = _signalling_registry(lambda payload: started.set())
    worker = Worker(database, registry, poll_interval=POLL, listen=False)

    async with running(worker):
        await asyncio.sleep(0)  # the worker is now waiting
        job_id = await add_job(database, key="k", run_at=None)
        signals.notify_enqueued()
        await asyncio.wait_for(started.wait(), WAIT)

    assert (await get_job(database, job_id)).status == "done"


async def test_an_insert_in_another_process_wakes_a_postgresql_worker(database: Database) -> None:
    if database.is_sqlite:
        return  # SQLite workers poll: there is no notification to test
    started = asyncio.Event()
    registry = _signalling_registry(lambda payload: started.set())
    worker = Worker(database, registry, poll_interval=POLL)
    elsewhere = Database(database.url)
    try:
        async with running(worker):
            await asyncio.sleep(0.2)  # the listener connects
            await add_job(elsewhere, key="k", run_at=None)  # and nobody calls notify
            await asyncio.wait_for(started.wait(), WAIT)
    finally:
        await elsewhere.dispose()


async def test_a_retry_wakes_the_worker_when_it_falls_due(database: Database) -> None:
    calls: list[int] = []
    done = asyncio.Event()

    def flaky(payload: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RetryLater(0.05)
        done.set()

    worker = Worker(database, _signalling_registry(flaky), poll_interval=POLL, listen=False)
    await add_job(database, key="k", run_at=None)

    async with running(worker):
        await asyncio.wait_for(done.wait(), WAIT)

    assert len(calls) == 2


async def test_shutdown_lets_running_jobs_finish(database: Database) -> None:
    slow = Held()

    job_id = await _stop_while_it_runs(
        database, slow, slow.started, shutdown_timeout=WAIT, on_stop=slow.release.set
    )

    assert (await get_job(database, job_id)).status == "done"


async def test_shutdown_hands_back_jobs_that_outlive_the_timeout(database: Database) -> None:
    started = asyncio.Event()

    async def stuck(payload: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()

    job_id = await _stop_while_it_runs(database, stuck, started, shutdown_timeout=0.01)

    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("pending", 0, None)
    assert job.run_at <= utcnow()
    assert [a.outcome for a in await attempts_of(database, job_id)] == ["released"]


async def test_a_long_job_keeps_renewing_its_lease(database: Database) -> None:
    long = Held()
    worker = Worker(
        database, _signalling_registry(long), lease=0.3, poll_interval=POLL, listen=False
    )
    job_id = await add_job(database, key="k", run_at=None)

    async with running(worker):
        await asyncio.wait_for(long.started.wait(), WAIT)
        first = (await get_job(database, job_id)).lease_until
        assert first is not None
        renewed = first
        async with asyncio.timeout(WAIT):
            while renewed <= first or utcnow() <= first:
                await asyncio.sleep(0.05)
                renewed = (await get_job(database, job_id)).lease_until or first
        # Past the first lease, it is still this worker's: renewed, never taken back.
        job = await get_job(database, job_id)
        assert (job.status, job.locked_by) == ("running", worker.name)
        long.release.set()

    assert [a.outcome for a in await attempts_of(database, job_id)] == ["done"]


async def test_a_busy_worker_waits_for_a_free_slot_instead_of_spinning(
    database: Database,
) -> None:
    class Counting(Worker):
        looks = 0

        def _free_slots(self) -> int:
            self.looks += 1
            return super()._free_slots()

    slow = Held()
    worker = Counting(
        database, _signalling_registry(slow), concurrency=1, poll_interval=POLL, listen=False
    )
    await add_job(database, key="first", run_at=None)

    async with running(worker):
        await asyncio.wait_for(slow.started.wait(), WAIT)
        await add_job(database, key="second", run_at=None)
        looks = worker.looks
        for _ in range(3):  # enqueues while the only slot is taken
            signals.notify_enqueued()
            await asyncio.sleep(0.01)
        assert worker.looks - looks <= 6  # one look per notification, not a busy loop
        slow.release.set()


async def test_a_job_retried_at_once_runs_again_under_a_held_lease(database: Database) -> None:
    calls: list[int] = []
    again = asyncio.Event()

    async def twice(payload: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RetryLater(0)  # due again the moment it is recorded
        again.set()
        await asyncio.Event().wait()

    job_id = await _stop_while_it_runs(database, twice, again, shutdown_timeout=0.01)

    # The second run was held like any other: handed back at shutdown, not left running.
    job = await get_job(database, job_id)
    assert (job.status, job.locked_by) == ("pending", None)
    assert [a.outcome for a in await attempts_of(database, job_id)] == ["postponed", "released"]


async def test_never_more_handlers_at_once_than_the_concurrency(database: Database) -> None:
    total = 40
    running_now, peak, ran = 0, 0, 0
    all_ran = asyncio.Event()

    async def busy(payload: dict[str, Any]) -> None:
        nonlocal running_now, peak, ran
        running_now += 1
        peak = max(peak, running_now)
        for _ in range(20):
            await asyncio.sleep(0)  # yield, so claims and flushes interleave with handlers
        running_now -= 1
        ran += 1
        if ran == total:
            all_ran.set()

    worker = Worker(database, _signalling_registry(busy), concurrency=4, listen=False)
    ids = [await add_job(database, key=f"k{n}", run_at=None) for n in range(total)]

    async with running(worker):
        await asyncio.wait_for(all_ran.wait(), WAIT)

    assert 1 < peak <= 4
    assert {(await get_job(database, job_id)).status for job_id in ids} == {"done"}


async def test_a_job_committed_while_a_flush_claims_is_started_at_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The flush after a job claims into the free slot; a job committed just after that
    # claim looked (here: inside its transaction) wakes the loop, which finds the slot
    # promised to the claim. It must not then sleep until its next round.
    started: dict[str, asyncio.Event] = {"first": asyncio.Event(), "second": asyncio.Event()}
    registry = _signalling_registry(lambda payload: started[payload["name"]].set())
    real_claim = store.claim
    flush_claims: list[int] = []

    def claim_then_commit_another(connection: Connection, **arguments: Any) -> ClaimResult:
        result = real_claim(connection, **arguments)
        if started["first"].is_set() and not flush_claims:
            flush_claims.append(arguments["limit"])
            now = utcnow()
            connection.execute(
                insert(JOB),
                {
                    "kind": "test",
                    "payload": {"name": "second"},
                    "dedupe_key": "second",
                    "status": "pending",
                    "run_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            signals.notify_enqueued()  # as its committer does, right after the commit
        return result

    monkeypatch.setattr(store, "claim", claim_then_commit_another)
    # Its next round on its own would come after WAIT: polls, reaps and beats are far.
    worker = Worker(
        database,
        registry,
        concurrency=1,
        poll_interval=POLL,
        lease=240,
        liveness=240,
        listen=False,
    )
    await add_job(database, payload={"name": "first"}, key="first", run_at=None)

    async with running(worker):
        await asyncio.wait_for(started["second"].wait(), WAIT)

    assert flush_claims == [1]
