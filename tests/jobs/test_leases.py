"""Leases: a job whose worker died is run again by another; a late worker cannot overwrite."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from jobs import store
from jobs.policy import Decision, Verdict
from jobs.ratelimit import RateTable
from storage.database import Database
from tests.jobs.conftest import START, FakeClock, add_job, attempts_of, get_job, make_worker
from tests.jobs.handlers import recording_attempts

LEASE = timedelta(seconds=30)


async def _claim_and_die(database: Database, clock: FakeClock, worker: str) -> store.ClaimResult:
    """What a worker that is killed right after its claim leaves behind."""
    return await database.run_in_transaction(
        functools.partial(
            store.claim,
            now=clock(),
            worker=worker,
            limit=10,
            lease=LEASE,
            kinds={"test"},
            limit_keys=lambda kind, payload: [],
            limits=RateTable(),
        )
    )


async def test_a_dead_workers_job_is_run_again_once_its_lease_expires(database: Database) -> None:
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    assert len((await _claim_and_die(database, clock, "crashed")).jobs) == 1
    ran: list[int] = []
    survivor = make_worker(database, recording_attempts(ran), clock, name="survivor", lease=30)

    clock.advance(29)
    assert await survivor.run_until_idle() == 0  # still leased to the crashed worker
    clock.advance(2)
    assert await survivor.run_until_idle() == 1

    assert ran == [2]
    job = await get_job(database, job_id)
    assert (job.status, job.attempts) == ("done", 2)
    attempts = [(a.attempt, a.outcome, a.worker) for a in await attempts_of(database, job_id)]
    assert attempts == [(1, "lost", "crashed"), (2, "done", "survivor")]


async def test_a_job_that_keeps_killing_its_worker_ends_dead(database: Database) -> None:
    clock = FakeClock()
    job_id = await add_job(database, key="k", max_attempts=2)
    reaper = make_worker(database, recording_attempts([]), clock)
    for _ in range(2):
        await _claim_and_die(database, clock, "crashed")
        clock.advance(31)
        await reaper.reap()

    job = await get_job(database, job_id)
    assert (job.status, job.attempts) == ("dead", 2)
    assert [a.outcome for a in await attempts_of(database, job_id)] == ["lost", "dead"]


async def test_a_worker_that_lost_its_lease_cannot_record_an_outcome(database: Database) -> None:
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    (late,) = (await _claim_and_die(database, clock, "slow")).jobs
    clock.advance(31)
    await make_worker(database, recording_attempts([]), clock).reap()
    (current,) = (await _claim_and_die(database, clock, "fresh")).jobs

    def finish(job: store.ClaimedJob, worker: str) -> Any:
        finished = store.Finished(job, Decision(Verdict.DONE), clock())
        return functools.partial(store.finish, finished=[finished], worker=worker, now=clock())

    assert await database.run_in_transaction(finish(late, "slow")) == []
    assert (await get_job(database, job_id)).status == "running"
    assert len(await database.run_in_transaction(finish(current, "fresh"))) == 1
    assert (await get_job(database, job_id)).status == "done"
    outcomes = [(a.attempt, a.outcome) for a in await attempts_of(database, job_id)]
    assert outcomes == [(1, "lost"), (2, "done")]


async def test_renewing_keeps_the_lease_and_only_its_holder_can(database: Database) -> None:
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    await _claim_and_die(database, clock, "busy")
    clock.advance(20)

    def renew(worker: str) -> Any:
        return functools.partial(store.renew, ids=[job_id], worker=worker, until=clock() + LEASE)

    assert await database.run_in_transaction(renew("someone-else")) == set()
    assert await database.run_in_transaction(renew("busy")) == {job_id}
    clock.advance(20)  # 40 s after the claim, 20 s after the renewal
    assert await make_worker(database, recording_attempts([]), clock).reap() == 0
    assert (await get_job(database, job_id)).locked_by == "busy"


async def test_released_jobs_are_due_again_with_their_attempt_given_back(
    database: Database,
) -> None:
    clock = FakeClock()
    job_id = await add_job(database, key="k")
    (job,) = (await _claim_and_die(database, clock, "stopping")).jobs
    clock.advance(5)

    released = await database.run_in_transaction(
        functools.partial(store.release, jobs=[job], worker="stopping", now=clock())
    )

    assert [item.id for item in released] == [job_id]
    stored = await get_job(database, job_id)
    # Due at once, keeping its place in line.
    assert (stored.status, stored.attempts, stored.run_at, stored.locked_by) == (
        "pending",
        0,
        START,
        None,
    )
    assert [a.outcome for a in await attempts_of(database, job_id)] == ["released"]
