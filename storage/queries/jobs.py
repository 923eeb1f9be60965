"""Jobs from the outside: the outbox half that intake and the bot use inside their own
transactions (`enqueue`), and what operators and metrics read and change.

The worker's own state changes (claim, finish, leases) live in `jobs.store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import JobKind, P, Queued
from storage.clock import utcnow
from storage.models import COUNTED_SQL, UNFINISHED_SQL, Job, JobAttempt, JobStatus
from storage.tables import table_of

_JOB: Table = table_of(Job)
_DEFAULT_MAX_ATTEMPTS = Job.model_fields["max_attempts"].default


async def enqueue_job(
    session: AsyncSession,
    kind: JobKind[P],
    payload: P,
    *,
    dedupe_key: str,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> tuple[Job, bool]:
    """`enqueue` a job of the catalogue: its stored name and payload, and its queue when
    the payload names one."""
    return await enqueue(
        session,
        kind=kind.name,
        payload=payload.dump(),
        dedupe_key=dedupe_key,
        queue=payload.queue if isinstance(payload, Queued) else None,
        run_at=run_at,
        max_attempts=max_attempts,
    )


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
    queue: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> tuple[Job, bool]:
    """Add a job unless one with the same dedupe key exists; returns (job, created).

    Portable on SQLite and PostgreSQL: look up, then insert inside a savepoint so a
    concurrent insert of the same key turns into a lookup instead of a failed transaction.
    """
    existing = await _by_dedupe_key(session, dedupe_key)
    if existing is not None:
        return existing, False
    now = utcnow()
    job = Job(
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        queue=queue,
        run_at=run_at or now,
        created_at=now,
        updated_at=now,
    )
    if max_attempts is not None:
        job.max_attempts = max_attempts
    try:
        async with session.begin_nested():
            session.add(job)
    except IntegrityError:
        existing = await _by_dedupe_key(session, dedupe_key)
        if existing is None:
            raise
        return existing, False
    return job, True


def job_row(
    kind: str, payload: dict[str, Any], key: str, queue: str | None, now: datetime
) -> dict[str, Any]:
    """A new pending job's row, due now, for Core statements (bulk intake, `enqueue_in`)."""
    return {
        "kind": kind,
        "payload": payload,
        "dedupe_key": key,
        "queue": queue,
        "status": JobStatus.PENDING.value,
        "attempts": 0,
        "max_attempts": _DEFAULT_MAX_ATTEMPTS,
        "run_at": now,
        "created_at": now,
        "updated_at": now,
    }


def enqueue_in(connection: Connection, kind: JobKind[P], payload: P, *, dedupe_key: str) -> bool:
    """`enqueue_job`, due now, for synchronous work in the caller's transaction
    (`Database.run_in_transaction`): one insert that a job of the same key already there
    turns into nothing. True when the job was added."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    queue = payload.queue if isinstance(payload, Queued) else None
    row = job_row(kind.name, payload.dump(), dedupe_key, queue, utcnow())
    statement = insert(_JOB).values(row).on_conflict_do_nothing(index_elements=[_JOB.c.dedupe_key])
    return bool(connection.execute(statement).rowcount)


async def _by_dedupe_key(session: AsyncSession, dedupe_key: str) -> Job | None:
    result = await session.exec(select(Job).where(Job.dedupe_key == dedupe_key))
    return result.first()


@dataclass(frozen=True, slots=True)
class JobCount:
    kind: str
    status: str
    count: int


async def count_jobs(session: AsyncSession) -> list[JobCount]:
    """Every job by kind and state: a walk of the whole table, for operators only."""
    query = (
        select(Job.kind, Job.status, func.count())
        .group_by(col(Job.kind), col(Job.status))
        .order_by(col(Job.kind), col(Job.status))
    )
    rows = await session.exec(query)
    return [JobCount(kind, status, count) for kind, status, count in rows.all()]


_DEPTH = (
    select(Job.kind, Job.status, func.count())
    .where(text(COUNTED_SQL))
    .group_by(col(Job.kind), col(Job.status))
    .order_by(col(Job.kind), col(Job.status))
)
# SQLite without statistics would rather range over ix_job_due by status and look each
# row up; SQLAlchemy renders no index hint for it, so the statement is written out.
_DEPTH_SQLITE = text(
    "SELECT kind, status, count(*) FROM job INDEXED BY ix_job_counted_kind "
    f"WHERE {COUNTED_SQL} GROUP BY kind, status ORDER BY kind, status"
)


def queue_depth_query(*, sqlite: bool) -> Any:
    """Pending, running and dead jobs by kind and state, read from their partial index.

    Done jobs are left out: they are history, which grows until the retention prunes it,
    and counting them would walk all of it at every scrape. How many finish is
    `leadrelay_job_attempts_total{outcome="done"}`. The filter is the index's own literal
    text, so the planner sees that the index serves it.
    """
    return _DEPTH_SQLITE if sqlite else _DEPTH


async def queue_depth(session: AsyncSession, *, sqlite: bool) -> list[JobCount]:
    connection = await session.connection()
    rows = await connection.execute(queue_depth_query(sqlite=sqlite))
    return [JobCount(kind, status, count) for kind, status, count in rows.all()]


async def prefer_indexes(session: AsyncSession) -> None:
    """PostgreSQL, for the rest of this transaction: an index over a scan of the table.

    Each connection keeps its prepared statements' plans. One planned while `job` was
    small is a scan of the table, cheapest then, and it stays the plan until the next
    ANALYZE, while a million done jobs pile up (bench/metrics.py measured 413 ms a
    scrape). These queries must read their index whatever the statistics say, as
    SQLite's INDEXED BY makes them; only a table without a usable index is still scanned.
    """
    connection = await session.connection()
    await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")


def oldest_due_query(*, now: datetime) -> Any:
    """One seek down ix_job_due (status, run_at), done jobs or not."""
    return select(func.min(Job.run_at)).where(
        Job.status == JobStatus.PENDING.value, col(Job.run_at) <= now
    )


async def oldest_due(session: AsyncSession, *, now: datetime) -> datetime | None:
    """The run_at of the longest-waiting pending job that is due."""
    result: datetime | None = (await session.exec(oldest_due_query(now=now))).one()
    return result


async def list_jobs(
    session: AsyncSession,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[Job]:
    """Newest first."""
    order = col(Job.id).desc()
    if status is not None and status != JobStatus.DONE.value:
        # `+ 0`: the few jobs of this state are found by `ix_job_due` and sorted, rather
        # than every job (done ones by the hundred thousand) walked down the primary key
        # until fifty match: dead jobs older than the done ones were a scan of the table.
        order = (col(Job.id) + 0).desc()
    query = select(Job).order_by(order).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list((await session.exec(query)).all())


async def job_attempts(session: AsyncSession, job_id: int) -> list[JobAttempt]:
    query = select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(col(JobAttempt.id))
    return list((await session.exec(query)).all())


async def count_attempts(session: AsyncSession, *, job_id: int) -> int:
    """Attempts recorded for the job, over all its lives (a retry keeps the history)."""
    result = await session.exec(
        select(func.count()).select_from(JobAttempt).where(JobAttempt.job_id == job_id)
    )
    return int(result.one())


async def retry_dead(
    session: AsyncSession, *, job_id: int | None = None, kind: str | None = None
) -> int:
    """Give dead jobs (one, all of a kind, or all) a fresh set of attempts, due now.

    Returns how many were revived. Their attempt history stays.
    """
    now = utcnow()
    statement = (
        update(Job)
        .where(col(Job.status) == JobStatus.DEAD.value)
        .values(
            status=JobStatus.PENDING.value,
            attempts=0,
            postponements=0,
            run_at=now,
            updated_at=now,
            finished_at=None,
        )
    )
    if job_id is not None:
        statement = statement.where(col(Job.id) == job_id)
    if kind is not None:
        statement = statement.where(col(Job.kind) == kind)
    result = await session.exec(statement)
    return result.rowcount


async def discard_dead(session: AsyncSession, job_id: int) -> bool:
    """Delete a dead job and its attempts; False if there is no such dead job."""
    statement = delete(Job).where(col(Job.id) == job_id, col(Job.status) == JobStatus.DEAD.value)
    result = await session.exec(statement)
    return result.rowcount > 0


async def discard_dead_of_kind(session: AsyncSession, *, kind: str) -> int:
    """Delete every dead job of a kind with its attempts; returns how many."""
    statement = delete(Job).where(col(Job.kind) == kind, col(Job.status) == JobStatus.DEAD.value)
    result = await session.exec(statement)
    return result.rowcount


async def list_failing(session: AsyncSession, *, limit: int) -> list[Job]:
    """Jobs not dead yet whose last attempt failed: they will be tried again. Newest first."""
    query = (
        select(Job)
        .where(text(UNFINISHED_SQL), col(Job.last_error).is_not(None))
        # `+ 0`: sorted after the unfinished jobs are found (their partial index), not by
        # walking every job, done ones included, down the primary key.
        .order_by((col(Job.id) + 0).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def attempts_of(session: AsyncSession, job_ids: list[int]) -> dict[int, list[JobAttempt]]:
    """Every attempt of these jobs, oldest first, by job."""
    found: dict[int, list[JobAttempt]] = {job_id: [] for job_id in job_ids}
    if not job_ids:
        return found
    query = (
        select(JobAttempt).where(col(JobAttempt.job_id).in_(job_ids)).order_by(col(JobAttempt.id))
    )
    for attempt in (await session.exec(query)).all():
        found[attempt.job_id].append(attempt)
    return found
