"""A dedupe key names one job: enqueueing it again returns that job and changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from storage.database import Database
from storage.models import Job
from storage.queries.jobs import enqueue
from tests.jobs.conftest import START, add_job, get_job


async def _count(database: Database) -> int:
    async with database.read() as session:
        return (await session.exec(select(func.count()).select_from(Job))).one()


async def test_enqueueing_an_existing_key_returns_the_first_job_unchanged(
    database: Database,
) -> None:
    first = await add_job(database, payload={"reason": "new"}, key="notify:1:42", queue="tg:42")

    async with database.write() as session:
        job, created = await enqueue(
            session,
            kind="other",
            payload={"reason": "updated"},
            dedupe_key="notify:1:42",
            run_at=START + timedelta(hours=1),
        )

    assert (job.id, created) == (first, False)
    stored = await get_job(database, first)
    assert (stored.kind, stored.payload, stored.run_at) == ("test", {"reason": "new"}, START)
    assert await _count(database) == 1


async def test_a_finished_job_is_not_enqueued_again(database: Database) -> None:
    job_id = await add_job(database, key="crm5.deal:7")
    async with database.write() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        job.status = "done"
        session.add(job)

    async with database.write() as session:
        again, created = await enqueue(session, kind="test", payload={}, dedupe_key="crm5.deal:7")

    assert (again.id, again.status, created) == (job_id, "done", False)


async def test_concurrent_enqueues_of_one_key_make_one_job(database: Database) -> None:
    async def enqueue_once(n: int) -> tuple[int | None, bool]:
        async with database.write() as session:
            job, created = await enqueue(session, kind="test", payload={"n": n}, dedupe_key="same")
            await session.flush()
            return job.id, created

    results = await asyncio.gather(*(enqueue_once(n) for n in range(10)))

    assert sum(created for _, created in results) == 1
    assert len({job_id for job_id, _ in results}) == 1
    assert await _count(database) == 1
