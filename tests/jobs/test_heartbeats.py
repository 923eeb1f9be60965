"""Heartbeats: a worker that stops beating has its jobs taken over within the liveness
timeout, long before their lease; one that beats keeps them however slow the job; a
worker whose job was taken over cannot record it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from jobs.heartbeats import WORKER
from jobs.metrics import render_metrics
from jobs.registry import HandlerRegistry, current_job
from jobs.worker import Worker
from storage.clock import utcnow
from storage.database import Database
from tests.jobs.conftest import TEST, FakeClock, add_job, attempts_of, get_job, make_worker
from tests.jobs.handlers import recording_attempts

LEASE = 60.0  # the backstop: far longer than anything below
LIVENESS = 10.0


class Slow:
    """A handler that holds its attempts until told to finish them."""

    def __init__(self, *, fails: bool = False, hold: set[int] | None = None) -> None:
        self.started = asyncio.Event()
        self.finish = asyncio.Event()
        self.ran: list[int] = []
        self.fails = fails
        self.hold = hold  # the attempts to hold; all when None

    def registry(self) -> HandlerRegistry:
        registry = HandlerRegistry()

        @registry.handler(TEST)
        async def handle(payload: dict[str, Any]) -> None:
            self.ran.append(current_job().attempt)
            if self.hold is None or current_job().attempt in self.hold:
                self.started.set()
                await self.finish.wait()
            if self.fails:
                raise RuntimeError("the slow attempt failed")

        return registry


def _worker(database: Database, registry: HandlerRegistry, clock: FakeClock, name: str) -> Worker:
    return make_worker(database, registry, clock, name=name, lease=LEASE, liveness=LIVENESS)


async def _attempt_log(database: Database, job_id: int) -> list[tuple[int, str, str]]:
    """Each attempt of the job: its number, its outcome and the worker that made it."""
    return [(a.attempt, a.outcome, a.worker) for a in await attempts_of(database, job_id)]


async def _start_slow_attempt(worker: Worker, handler: Slow) -> asyncio.Task[int]:
    """The worker claims the job and runs it until the handler holds it."""
    running = asyncio.create_task(worker.run_once())
    # A bound for a broken worker only: the handler starts at once.
    await asyncio.wait_for(handler.started.wait(), timeout=30)
    handler.started.clear()
    return running


@pytest.mark.parametrize("fails", [False, True], ids=["succeeds", "fails"])
async def test_a_worker_that_stops_heartbeating_loses_its_job_within_the_liveness_timeout(
    database: Database, fails: bool
) -> None:
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    stalled = Slow(fails=fails)
    hung = _worker(database, stalled.registry(), clock, "hung")
    await hung.beat()
    hung_attempt = await _start_slow_attempt(hung, stalled)
    ran: list[int] = []
    survivor = _worker(database, recording_attempts(ran), clock, "survivor")

    clock.advance(LIVENESS - 1)
    assert await survivor.run_until_idle() == 0, "its heartbeat is still fresh"
    clock.advance(2)  # past the liveness timeout, 49 s before the lease ends
    assert await survivor.run_until_idle() == 1
    assert ran == [2]

    # The hung worker wakes up and finishes: too late, its outcome is not recorded.
    stalled.finish.set()
    assert await hung_attempt == 1
    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.last_error) == ("done", 2, None)
    assert await _attempt_log(database, job_id) == [(1, "lost", "hung"), (2, "done", "survivor")]


async def test_a_worker_that_heartbeats_keeps_its_slow_job_past_the_liveness_timeout(
    database: Database,
) -> None:
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    slow = Slow()
    busy = _worker(database, slow.registry(), clock, "busy")
    await busy.beat()
    attempt = await _start_slow_attempt(busy, slow)
    ran: list[int] = []
    other = _worker(database, recording_attempts(ran), clock, "other")

    for _ in range(10):  # 30 s: three liveness timeouts, half the lease
        clock.advance(busy.beat_interval + 0.5)
        await busy.beat()
        assert await other.run_until_idle() == 0

    slow.finish.set()
    assert await attempt == 1
    assert ran == []
    job = await get_job(database, job_id)
    assert (job.status, job.attempts) == ("done", 1)
    assert await _attempt_log(database, job_id) == [(1, "done", "busy")]


async def test_a_job_taken_from_a_stalled_worker_and_claimed_by_it_again_counts_once(
    database: Database,
) -> None:
    """The stalled worker's first attempt ends after its second began: only the second,
    the one the database says it holds, is recorded."""
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    slow = Slow(hold={1, 2})
    stalled = _worker(database, slow.registry(), clock, "stalled")
    await stalled.beat()
    first = await _start_slow_attempt(stalled, slow)
    clock.advance(LIVENESS + 1)
    assert await _worker(database, HandlerRegistry(), clock, "reaper").reap() == 1
    await stalled.beat()  # it wakes up
    second = await _start_slow_attempt(stalled, slow)  # and claims the job again

    slow.finish.set()
    await asyncio.gather(first, second)

    assert slow.ran == [1, 2]
    job = await get_job(database, job_id)
    assert (job.status, job.attempts) == ("done", 2)
    assert await _attempt_log(database, job_id) == [(1, "lost", "stalled"), (2, "done", "stalled")]


async def test_live_workers_are_counted_in_metrics_and_a_stopped_one_leaves(
    database: Database,
) -> None:
    now = utcnow()
    alive = _worker(database, HandlerRegistry(), FakeClock(now), "alive")
    await alive.beat()
    await _worker(database, HandlerRegistry(), FakeClock(now - timedelta(minutes=1)), "gone").beat()
    assert await _live_workers(database) == 1

    stop = asyncio.Event()
    stop.set()
    await alive.run(stop)  # registers, finds itself stopped, leaves

    assert await _live_workers(database) == 0
    async with database.reader.connect() as connection:
        names = set((await connection.execute(select(WORKER.c.name))).scalars())
    assert names == {"gone"}, "a stopped worker holding nothing leaves the table"


async def _live_workers(database: Database) -> float:
    body, _ = await render_metrics(
        database, registry=CollectorRegistry(), liveness=timedelta(seconds=LIVENESS)
    )
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
    return samples["leadrelay_job_workers_live"]


async def test_a_worker_waking_from_a_stall_beats_before_it_claims(
    database: Database,
) -> None:
    """Waking from a stall, its heartbeat is too old to claim on: it beats first, in a
    transaction of its own, so the jobs it then claims are safe from takeover and run."""
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    ran: list[int] = []
    stalled = _worker(database, recording_attempts(ran), clock, "stalled")
    await stalled.beat()

    clock.advance(LIVENESS / 2)
    assert await stalled.run_once() == 1
    assert ran == [1]
    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("done", 1, None)
    async with database.reader.connect() as connection:
        beaten = await connection.execute(
            select(WORKER.c.heartbeat_at).where(WORKER.c.name == "stalled")
        )
        assert beaten.scalar_one() == clock(), "the heartbeat was written before the claim"


async def test_a_claim_that_outlasts_half_the_liveness_is_handed_back_unstarted(
    database: Database,
) -> None:
    """A claim whose commit took so long that others may already judge the worker dead:
    those jobs could be taken from it at once, so it runs none of them."""
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    ran: list[int] = []
    slow = _worker(database, recording_attempts(ran), clock, "slow")
    await slow.beat()

    claimed = await slow._claim(10)
    assert len(claimed.jobs) == 1, "it claimed the job"
    clock.advance(LIVENESS / 2)  # the time the claim took to come back
    assert await slow._keep_if_fresh(claimed.jobs) == []
    job = await get_job(database, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("pending", 0, None)

    assert await slow.run_until_idle() == 1
    assert ran == [1]
