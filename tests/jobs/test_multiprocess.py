"""Three worker processes on one PostgreSQL database: each job runs once, work is shared."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.database import Database
from tests.jobs.processes import (
    WorkerProcess,
    add_probe_jobs,
    count_status,
    create_execution_table,
    wait_for_done,
)
from tests.jobs.testing_worker import EXECUTION

JOBS = 5000
WORKERS = 3


@pytest.mark.slow
async def test_three_processes_share_the_work_and_run_each_job_once(
    database: Database, tmp_path: Path
) -> None:
    if database.is_sqlite:
        pytest.skip("several worker processes are a PostgreSQL deployment")
    await create_execution_table(database)
    log = tmp_path / "workers.log"
    workers = await asyncio.gather(
        *(
            # A little simulated I/O per job, as a real side effect would have.
            WorkerProcess.start(database.url, f"w{n}", log, "--work-ms", "2", "--concurrency", "8")
            for n in range(WORKERS)
        )
    )
    began = time.monotonic()
    await add_probe_jobs(database, JOBS)  # one insert: the trigger's NOTIFY wakes all three
    await wait_for_done(database, JOBS, timeout=60)
    elapsed = time.monotonic() - began
    codes = await asyncio.gather(*(worker.stop() for worker in workers))

    async with database.reader.connect() as connection:
        rows = (await connection.execute(select(EXECUTION.c.job_id, EXECUTION.c.worker))).all()
    runs = Counter(job_id for job_id, _ in rows)
    shares = Counter(worker for _, worker in rows)
    print(  # noqa: T201  (the figures this test reports)
        f"\n{JOBS} jobs by {WORKERS} processes in {elapsed:.1f} s "
        f"({JOBS / elapsed:.0f}/s); shares: "
        + ", ".join(f"{name} {count / JOBS:.0%}" for name, count in sorted(shares.items()))
    )

    assert codes == [0] * WORKERS
    assert await count_status(database, "done") == JOBS
    assert len(runs) == JOBS
    assert set(runs.values()) == {1}, "a job ran twice"
    assert set(shares) == {worker.name for worker in workers}
    assert min(shares.values()) >= 0.15 * JOBS
