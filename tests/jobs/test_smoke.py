from __future__ import annotations

from typing import Any

from jobs.registry import HandlerRegistry, JobContext
from jobs.worker import Worker
from storage.database import Database
from tests.jobs.conftest import FakeClock, add_job, attempts_of, get_job


async def test_runs_a_job(database: Database) -> None:
    ran: list[Any] = []
    registry = HandlerRegistry()

    @registry.handler("test")
    async def handle(payload: dict[str, Any], context: JobContext) -> None:
        ran.append((payload, context.attempt))

    job_id = await add_job(database, payload={"x": 1}, key="a")
    worker = Worker(database, registry, clock=FakeClock())
    assert await worker.run_until_idle() == 1
    assert ran == [({"x": 1}, 1)]
    job = await get_job(database, job_id)
    assert job.status == "done"
    assert [a.outcome for a in await attempts_of(database, job_id)] == ["done"]
