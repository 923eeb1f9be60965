"""A worker killed mid-drain loses nothing: every job ends done; only jobs in flight at a
kill may run twice."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from jobs.store import ATTEMPT, JOB
from storage.database import Database
from tests.jobs.processes import (
    WorkerProcess,
    add_probe_jobs,
    count_status,
    create_execution_table,
    wait_for_done,
)
from tests.jobs.testing_worker import EXECUTION

JOBS = 2000
QUEUES = 40
KILL_AT = (400, 900, 1400)
OPTIONS = ("--lease", "1", "--poll", "0.1", "--concurrency", "16")


async def _running(database: Database) -> set[int]:
    async with database.reader.connect() as connection:
        rows = await connection.execute(select(JOB.c.id).where(JOB.c.status == "running"))
        return set(rows.scalars())


@pytest.mark.slow
async def test_sigkilled_workers_lose_no_job(database: Database, tmp_path: Path) -> None:
    await create_execution_table(database)
    await add_probe_jobs(database, JOBS, queues=QUEUES)
    log = tmp_path / "workers.log"
    began = time.monotonic()
    in_flight_at_kill: list[set[int]] = []
    for number, threshold in enumerate(KILL_AT):
        worker = await WorkerProcess.start(database.url, f"w{number}", log, *OPTIONS)
        await wait_for_done(database, threshold, timeout=40)
        await asyncio.sleep(0.01 * (number + 1))  # not always right after a commit
        await worker.kill()
        in_flight_at_kill.append(await _running(database))
    last = await WorkerProcess.start(database.url, "last", log, *OPTIONS)
    await wait_for_done(database, JOBS, timeout=40)
    assert await last.stop() == 0
    elapsed = time.monotonic() - began

    async with database.reader.connect() as connection:
        ran_on = (
            await connection.execute(
                select(EXECUTION.c.job_id, EXECUTION.c.worker).order_by(EXECUTION.c.id)
            )
        ).all()
        queue_of = dict((await connection.execute(select(JOB.c.id, JOB.c.queue))).all())
        attempts = (
            await connection.execute(
                select(ATTEMPT.c.job_id, ATTEMPT.c.outcome, ATTEMPT.c.worker).order_by(ATTEMPT.c.id)
            )
        ).all()
    executions = [job_id for job_id, _ in ran_on]
    runs = Counter(executions)
    twice = {job_id for job_id, count in runs.items() if count > 1}
    in_flight = set().union(*in_flight_at_kill)
    print(  # noqa: T201  (the figures this test reports)
        f"\n[{database.dialect}] {JOBS} jobs in {elapsed:.1f} s, {len(KILL_AT)} SIGKILLs; "
        f"in flight at each kill: {[len(s) for s in in_flight_at_kill]}; "
        f"executions: {len(executions)}; run more than once: {len(twice)} "
        f"(all among the {len(in_flight)} in flight at a kill)"
    )

    assert await count_status(database, "done") == JOBS
    assert set(runs) == set(queue_of), "a job was marked done without running"
    unexplained = {
        job_id: {
            "ran on": [worker for ran, worker in ran_on if ran == job_id],
            "attempts": [(outcome, worker) for ran, outcome, worker in attempts if ran == job_id],
        }
        for job_id in twice - in_flight
    }
    assert not unexplained, f"ran twice without being in flight at a kill: {unexplained}"
    done_attempts = Counter(row.job_id for row in attempts if row.outcome == "done")
    assert set(done_attempts.values()) == {1}
    attempt_rows = Counter(row.job_id for row in attempts)
    assert all(runs[job_id] <= attempt_rows[job_id] for job_id in runs)
    per_queue: dict[str, list[int]] = defaultdict(list)
    for job_id in executions:
        per_queue[queue_of[job_id]].append(job_id)
    assert all(ids == sorted(ids) for ids in per_queue.values()), "a queue ran out of order"


@pytest.mark.slow
async def test_sigterm_lets_running_jobs_finish_and_hands_back_none(
    database: Database, tmp_path: Path
) -> None:
    await create_execution_table(database)
    await add_probe_jobs(database, 200)
    worker = await WorkerProcess.start(
        database.url, "w", tmp_path / "w.log", "--work-ms", "300", "--concurrency", "8"
    )
    await wait_for_done(database, 8, timeout=30)
    await asyncio.sleep(0.1)  # the next batch is mid-way

    assert await worker.stop(timeout=10) == 0

    assert await _running(database) == set()
    done = await count_status(database, "done")
    assert 8 <= done < 200
    assert await count_status(database, "pending") == 200 - done
