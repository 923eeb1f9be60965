"""Helpers for the job engine's tests: a clock that moves only when told, and enqueueing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from jobs.policy import Backoff
from jobs.registry import HandlerRegistry, RawKind
from jobs.worker import Worker
from storage.database import Database
from storage.models import Job, JobAttempt
from storage.queries.jobs import enqueue

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# The kind these tests enqueue (`add_job`'s default) and register: its payload as stored.
TEST = RawKind("test")


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def to(self, moment: datetime) -> None:
        assert moment >= self.now, "the clock never goes back"
        self.now = moment


async def add_job(
    database: Database,
    kind: str = TEST.name,
    payload: dict[str, Any] | None = None,
    *,
    key: str,
    queue: str | None = None,
    run_at: datetime | None = START,
    max_attempts: int | None = None,
) -> int:
    async with database.write() as session:
        job, _ = await enqueue(
            session,
            kind=kind,
            payload=payload or {},
            dedupe_key=key,
            queue=queue,
            run_at=run_at,
            max_attempts=max_attempts,
        )
        await session.flush()
        assert job.id is not None
        return job.id


async def get_job(database: Database, job_id: int) -> Job:
    async with database.read() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def attempts_of(database: Database, job_id: int) -> list[JobAttempt]:
    async with database.read() as session:
        rows = await session.exec(
            select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(col(JobAttempt.id))
        )
        return list(rows.all())


def make_worker(
    database: Database, registry: HandlerRegistry, clock: FakeClock, **options: Any
) -> Worker:
    """A worker on the fake clock, without jitter (rand 0.5) and without listening."""
    options.setdefault("backoff", Backoff(base=1.0, factor=2.0, cap=100.0, jitter=0.25))
    return Worker(database, registry, clock=clock, rand=lambda: 0.5, listen=False, **options)


async def run_to_the_end(worker: Worker, clock: FakeClock, job_id: int, database: Database) -> None:
    """Run the job each time it falls due, jumping the clock to its run_at in between."""
    for _ in range(50):
        await worker.run_until_idle()
        job = await get_job(database, job_id)
        if job.status in {"done", "dead"}:
            return
        assert job.run_at > clock(), "a due job was left unclaimed"
        clock.to(job.run_at)
    raise AssertionError("the job never finished")
