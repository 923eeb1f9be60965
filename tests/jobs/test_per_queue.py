"""Claiming a queue's next jobs together (`per_queue`): they run in order, one at a time, in
one task; a failure, a stale heartbeat or a stop hands the rest back unstarted; a dead
worker's batch is taken over within the liveness timeout; no job runs twice."""

from __future__ import annotations

import asyncio
from typing import Any

from jobs.registry import HandlerRegistry, JobContext
from storage.database import Database
from tests.jobs.conftest import FakeClock, add_job, attempts_of, get_job, make_worker
from tests.jobs.test_heartbeats import LEASE, LIVENESS, Slow

PER_QUEUE = 4


class Recorder:
    """Notes each run, and whether two jobs of one queue ever ran at once."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.ran: list[str] = []
        self.fail = fail if fail is not None else set()
        self.running: dict[str, int] = {}
        self.overlaps = 0

    def registry(self) -> HandlerRegistry:
        registry = HandlerRegistry()

        @registry.handler("test")
        async def handle(payload: dict[str, Any], context: JobContext) -> None:
            queue = context.queue or ""
            self.running[queue] = self.running.get(queue, 0) + 1
            self.overlaps += self.running[queue] > 1
            await asyncio.sleep(0)  # a chance for another job of the queue to start
            self.ran.append(payload["name"])
            self.running[queue] -= 1
            if payload["name"] in self.fail:
                raise RuntimeError("try again")

        return registry


async def _queue(database: Database, queue: str, count: int) -> list[int]:
    return [
        await add_job(database, payload={"name": f"{queue}{n}"}, key=f"{queue}{n}", queue=queue)
        for n in range(count)
    ]


async def test_a_claim_takes_a_queues_next_jobs_and_runs_them_in_order(
    database: Database,
) -> None:
    await _queue(database, "a", 10)
    await _queue(database, "b", 2)
    recorder = Recorder()
    worker = make_worker(database, recorder.registry(), FakeClock(), per_queue=PER_QUEUE)

    rounds = [await worker.run_once() for _ in range(4)]

    assert rounds == [6, 4, 2, 0], "four of a queue a claim, the rest next time"
    assert [name for name in recorder.ran if name.startswith("a")] == [f"a{n}" for n in range(10)]
    assert [name for name in recorder.ran if name.startswith("b")] == ["b0", "b1"]
    assert recorder.overlaps == 0, "a queue's jobs ran one at a time"


async def test_a_failure_hands_the_rest_of_the_batch_back_unstarted(database: Database) -> None:
    ids = await _queue(database, "a", 4)
    clock = FakeClock()
    recorder = Recorder(fail={"a1"})
    worker = make_worker(database, recorder.registry(), clock, per_queue=PER_QUEUE)

    await worker.run_until_idle()
    assert recorder.ran == ["a0", "a1"], "a2 may not overtake a1, which must be tried again"
    for job_id in ids[2:]:
        job = await get_job(database, job_id)
        assert (job.status, job.attempts) == ("pending", 0), "handed back, its attempt given back"

    clock.advance(60)
    recorder.fail.clear()
    await worker.run_until_idle()

    assert recorder.ran == ["a0", "a1", "a1", "a2", "a3"]
    assert [(await get_job(database, job_id)).status for job_id in ids] == ["done"] * 4
    attempts = [(a.attempt, a.outcome) for a in await attempts_of(database, ids[2])]
    assert attempts == [(1, "released"), (1, "done")]


async def test_a_dead_workers_batch_is_taken_over_within_the_liveness_timeout(
    database: Database,
) -> None:
    ids = await _queue(database, "a", PER_QUEUE)
    clock = FakeClock()
    stuck = Slow()
    hung = make_worker(
        database,
        stuck.registry(),
        clock,
        name="hung",
        per_queue=PER_QUEUE,
        lease=LEASE,
        liveness=LIVENESS,
    )
    await hung.beat()
    hung_run = asyncio.create_task(hung.run_once())
    await asyncio.wait_for(stuck.started.wait(), timeout=30)  # it holds the whole batch
    survivor_ran: list[str] = []
    survivor = make_worker(
        database, _names(survivor_ran), clock, name="survivor", lease=LEASE, liveness=LIVENESS
    )

    clock.advance(LIVENESS - 1)
    assert await survivor.run_until_idle() == 0, "its heartbeat is fresh: the batch is its own"
    clock.advance(2)  # past the liveness timeout, long before the lease
    assert await survivor.run_until_idle() == PER_QUEUE
    assert survivor_ran == [f"a{n}" for n in range(PER_QUEUE)], "in order, each once"

    # The hung worker wakes: its first job's outcome is not recorded, and it starts no
    # other job of the batch (its heartbeat is stale).
    stuck.finish.set()
    await hung_run
    assert stuck.ran == [1]
    for job_id in ids:
        job = await get_job(database, job_id)
        assert (job.status, job.attempts) == ("done", 2)
        attempts = [(a.attempt, a.outcome, a.worker) for a in await attempts_of(database, job_id)]
        assert attempts == [(1, "lost", "hung"), (2, "done", "survivor")]


async def test_a_worker_that_stalls_mid_batch_starts_nothing_more_of_it(
    database: Database,
) -> None:
    """A stall past half the liveness timeout while a batch runs: others may soon take the
    worker's jobs, so it hands the rest back rather than run them; meanwhile no other
    worker may take any of them, and in the end each job ran once."""
    ids = await _queue(database, "a", 3)
    clock = FakeClock()
    ran: list[str] = []
    other_ran: list[str] = []
    other = make_worker(
        database, _names(other_ran), clock, name="other", lease=LEASE, liveness=LIVENESS
    )
    claimed_meanwhile: list[int] = []
    registry = HandlerRegistry()

    @registry.handler("test")
    async def stall_on_the_first(payload: dict[str, Any], context: JobContext) -> None:
        ran.append(payload["name"])
        if payload["name"] == "a0":
            clock.advance(LIVENESS / 2 + 1)  # the handler took that long
            claimed_meanwhile.append(await other.run_until_idle())

    stalled = make_worker(
        database, registry, clock, name="stalled", per_queue=3, lease=LEASE, liveness=LIVENESS
    )
    await stalled.beat()

    assert await stalled.run_once() == 3
    assert ran == ["a0"] and claimed_meanwhile == [0], "its batch stayed its own"
    for job_id in ids[1:]:
        assert (await get_job(database, job_id)).status == "pending"

    await stalled.beat()
    await stalled.run_until_idle()
    assert ran == ["a0", "a1", "a2"] and other_ran == []
    assert [(await get_job(database, job_id)).attempts for job_id in ids] == [1, 1, 1]


async def test_the_loop_drains_queues_in_batches_in_order(database: Database) -> None:
    await _queue(database, "a", 30)
    await _queue(database, "b", 30)
    recorder = Recorder()
    worker = make_worker(
        database, recorder.registry(), FakeClock(), per_queue=8, concurrency=6, poll_interval=0.05
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    for _ in range(600):  # a bound for a broken loop only
        if len(recorder.ran) == 60:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await running

    for queue in ("a", "b"):
        assert [name for name in recorder.ran if name[0] == queue] == [
            f"{queue}{n}" for n in range(30)
        ]
    assert recorder.overlaps == 0


def _names(ran: list[str]) -> HandlerRegistry:
    registry = HandlerRegistry()

    @registry.handler("test")
    async def handle(payload: dict[str, Any], context: JobContext) -> None:
        ran.append(payload["name"])

    return registry
