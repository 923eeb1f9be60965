"""The job table's state changes, each a synchronous function run as one transaction
(`Database.run_in_transaction`: on SQLite in the one writer thread, next to intake).

A job is claimable when it is pending, due, of a kind this worker handles, and no earlier
job (lower id) of its queue is unfinished. On PostgreSQL candidates are locked with
`FOR UPDATE SKIP LOCKED`, so workers in several processes never take the same job; on
SQLite the claim holds the database's write lock. A claim holds the job under a lease;
every later change checks that the worker still owns it (status, `locked_by`, attempt),
so a worker that lost its lease cannot overwrite the job's newer state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Table,
    and_,
    bindparam,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)

from jobs import buckets, heartbeats
from jobs.policy import Decision, Verdict
from jobs.ratelimit import RateLimits, admit
from storage.models import UNFINISHED_SQL, UNQUEUED_PENDING_SQL, Job, JobAttempt, JobStatus
from storage.tables import table_of

JOB: Table = table_of(Job)
ATTEMPT: Table = table_of(JobAttempt)
UNFINISHED = (JobStatus.PENDING.value, JobStatus.RUNNING.value)

LimitKeys = Callable[[str, dict[str, Any]], list[str]]


class AttemptOutcome:
    """What became of one attempt, as written in `job_attempt.outcome`."""

    DONE = "done"
    FAILED = "failed"  # retried later
    POSTPONED = "postponed"
    DEAD = "dead"
    LOST = "lost"  # the worker stopped renewing its lease (it died or hung)
    RELEASED = "released"  # handed back unstarted or unfinished: a shutdown or a stall


ATTEMPT_OUTCOMES = {
    Verdict.DONE: AttemptOutcome.DONE,
    Verdict.RETRY: AttemptOutcome.FAILED,
    Verdict.POSTPONE: AttemptOutcome.POSTPONED,
    Verdict.DEAD: AttemptOutcome.DEAD,
}


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    queue: str | None
    dedupe_key: str
    attempt: int  # this attempt's number, from 1
    max_attempts: int
    postponements: int
    created_at: datetime
    started_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimResult:
    jobs: list[ClaimedJob]
    deferred: int  # candidates that must wait for a rate limit
    # The earliest future run_at of a claimable kind, when this claim left room for more.
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class Finished:
    job: ClaimedJob
    decision: Decision
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class Abandoned:
    """A running job taken back from its worker: lease expired, or released at shutdown."""

    id: int
    kind: str
    attempt: int
    worker: str
    dead: bool


# The statements, built once: building them per call (aliases, clauses) cost more CPU
# than running them. Values come as bound parameters, named b_* where a column's own name
# is taken by the SET clause.
_COLUMNS = (
    JOB.c.id,
    JOB.c.kind,
    JOB.c.payload,
    JOB.c.queue,
    JOB.c.dedupe_key,
    JOB.c.attempts,
    JOB.c.max_attempts,
    JOB.c.postponements,
    JOB.c.created_at,
    JOB.c.run_at,
)
# Each queue's first unfinished job: only it may run (a card is sent before it is edited).
# The walk skips from queue to queue through ix_job_queue_unfinished, one index seek per
# queue with work, however long the queues are. Literals, so the partial index applies;
# SQLite is told to use it, as without statistics it would rather scan ix_job_due.
_QUEUE_HEADS_SQL = f"""
WITH RECURSIVE head(queue, id) AS (
    SELECT queue, id FROM (
        SELECT queue, id FROM job {{indexed}}
        WHERE {UNFINISHED_SQL} AND queue IS NOT NULL
        ORDER BY queue, id LIMIT 1
    ) AS first_head
    UNION ALL
    SELECT
        (SELECT n.queue FROM job AS n {{indexed}} WHERE n.{UNFINISHED_SQL}
            AND n.queue > head.queue ORDER BY n.queue, n.id LIMIT 1),
        (SELECT n.id FROM job AS n {{indexed}} WHERE n.{UNFINISHED_SQL}
            AND n.queue > head.queue ORDER BY n.queue, n.id LIMIT 1)
    FROM head WHERE head.queue IS NOT NULL
)
SELECT id FROM head WHERE id IS NOT NULL
"""
_QUEUE_HEADS = text(_QUEUE_HEADS_SQL.format(indexed=""))
_QUEUE_HEADS_SQLITE = text(_QUEUE_HEADS_SQL.format(indexed="INDEXED BY ix_job_queue_unfinished"))
_DUE = (
    JOB.c.status == literal_column("'pending'"),
    JOB.c.run_at <= bindparam("b_now"),
    JOB.c.kind.in_(bindparam("b_kinds", expanding=True)),
)
_HEADS_DUE = (
    select(*_COLUMNS)
    .where(JOB.c.id.in_(bindparam("b_heads", expanding=True)), *_DUE)
    .order_by(JOB.c.run_at)
    .limit(bindparam("b_limit", type_=Integer))
)
# Served by ix_job_unqueued_due, whose WHERE this one repeats.
_UNQUEUED_DUE = (
    select(*_COLUMNS)
    .where(JOB.c.queue.is_(None), *_DUE)
    .order_by(JOB.c.run_at)
    .limit(bindparam("b_limit", type_=Integer))
)
# SQLite, without statistics, would walk ix_job_due instead, through every pending job of
# every queue (a backlog of cards) before the first of no queue; SQLAlchemy renders no
# index hint for it, so the statement is written out.
_UNQUEUED_DUE_SQLITE = (
    text(
        f"SELECT {', '.join(column.name for column in _COLUMNS)} "
        f"FROM job INDEXED BY ix_job_unqueued_due WHERE {UNQUEUED_PENDING_SQL} "
        "AND run_at <= :b_now AND kind IN :b_kinds ORDER BY run_at LIMIT :b_limit"
    )
    .bindparams(
        bindparam("b_now", type_=JOB.c.run_at.type),
        bindparam("b_kinds", expanding=True, type_=JOB.c.kind.type),
        bindparam("b_limit", type_=Integer),
    )
    .columns(*_COLUMNS)
)
_HEADS_DUE_SKIP_LOCKED = _HEADS_DUE.with_for_update(skip_locked=True)
_UNQUEUED_DUE_SKIP_LOCKED = _UNQUEUED_DUE.with_for_update(skip_locked=True)
_DEFER = update(JOB).where(JOB.c.id == bindparam("b_id")).values(run_at=bindparam("b_run_at"))
_MARK_RUNNING = (
    update(JOB)
    .where(JOB.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(
        status=JobStatus.RUNNING.value,
        attempts=JOB.c.attempts + 1,
        lease_until=bindparam("b_lease_until"),
        locked_by=bindparam("b_worker"),
        updated_at=bindparam("b_now"),
    )
)
# The first pending job's due time, of any kind: every condition is a seek on ix_job_due
# (status, run_at) in its own order, so one index entry answers it, and no estimate can
# make another plan look cheaper. With the kinds as a filter, PostgreSQL, its statistics
# stale after 10,000 timers came in at once, aggregated every pending job instead (4–12 ms
# each claim, idle or not). A worker that does not run the kind due first wakes for
# nothing once, at its due time.
_NEXT_DUE = (
    select(JOB.c.run_at)
    .where(JOB.c.status == JobStatus.PENDING.value, JOB.c.run_at > bindparam("b_now"))
    .order_by(JOB.c.run_at)
    .limit(1)
)
_MINE = and_(
    JOB.c.id.in_(bindparam("b_ids", expanding=True)),
    JOB.c.status == JobStatus.RUNNING.value,
    JOB.c.locked_by == bindparam("b_worker"),
)
# What every outcome writes: no worker holds the job any more.
_UNLOCKED: dict[str, Any] = {
    "updated_at": bindparam("b_now"),
    "lease_until": None,
    "locked_by": None,
}
# The common case in one statement: status and locked_by fence off a late worker.
_MARK_DONE = (
    update(JOB)
    .where(_MINE)
    .values(
        status=JobStatus.DONE.value,
        finished_at=bindparam("b_now"),
        last_error=None,
        **_UNLOCKED,
    )
    .returning(JOB.c.id)
)
_MARK_OTHERWISE = (
    update(JOB)
    .where(JOB.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        run_at=bindparam("b_run_at"),
        attempts=bindparam("b_attempts"),
        postponements=bindparam("b_postponements"),
        last_error=bindparam("b_error"),
        finished_at=bindparam("b_finished_at"),
        **_UNLOCKED,
    )
)
_OWNED = select(JOB.c.id, JOB.c.attempts).where(_MINE)
_OWNED_LOCKED = _OWNED.with_for_update()
_RENEW = update(JOB).where(_MINE).values(lease_until=bindparam("b_until")).returning(JOB.c.id)
# Running jobs whose lease expired, or whose worker's heartbeat lapsed (it died or hangs).
_EXPIRED = select(
    JOB.c.id, JOB.c.kind, JOB.c.attempts, JOB.c.max_attempts, JOB.c.locked_by, JOB.c.updated_at
).where(
    JOB.c.status == JobStatus.RUNNING.value,
    or_(
        JOB.c.lease_until < bindparam("b_now"),
        JOB.c.locked_by.in_(heartbeats.LAPSED.scalar_subquery()),
    ),
    JOB.c.id.not_in(bindparam("b_running_here", expanding=True)),
)
_EXPIRED_SKIP_LOCKED = _EXPIRED.with_for_update(skip_locked=True)
_TAKE_BACK = (
    update(JOB)
    .where(JOB.c.id == bindparam("b_id"), JOB.c.status == JobStatus.RUNNING.value)
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        finished_at=bindparam("b_finished_at"),
        last_error=bindparam("b_error"),
        **_UNLOCKED,
    )
)
_RECORD_ATTEMPTS = insert(ATTEMPT)


def _postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def claim(
    connection: Connection,
    *,
    now: datetime,
    worker: str,
    limit: int,
    lease: timedelta,
    kinds: Collection[str],
    limit_keys: LimitKeys,
    limits: RateLimits,
) -> ClaimResult:
    if limit <= 0 or not kinds:
        return ClaimResult([], 0, None)
    rows = _candidates(connection, now=now, kinds=kinds, limit=limit)
    requests = [(row.id, limit_keys(row.kind, row.payload)) for row in rows]
    tats = buckets.load(connection, {key for _, keys in requests for key in keys})
    admission = admit(requests, tats, limits, now.timestamp())
    buckets.save(connection, admission.tats)
    if admission.deferred:
        connection.execute(
            _DEFER,
            [
                {"b_id": job_id, "b_run_at": datetime.fromtimestamp(at, UTC)}
                for job_id, at in admission.deferred.items()
            ],
        )
    allowed = set(admission.allowed)
    jobs = [_claimed(row, now) for row in rows if row.id in allowed]
    if jobs:
        connection.execute(
            _MARK_RUNNING,
            {
                "b_ids": [job.id for job in jobs],
                "b_lease_until": now + lease,
                "b_worker": worker,
                "b_now": now,
            },
        )
    next_due = None
    if len(rows) < limit or admission.deferred:
        next_due = next_due_at(connection, now=now)
    return ClaimResult(jobs, len(admission.deferred), next_due)


def next_due_at(connection: Connection, *, now: datetime) -> datetime | None:
    """When the first pending job after `now` is due, if any: the loop sleeps until then."""
    return connection.execute(_NEXT_DUE, {"b_now": now}).scalar_one_or_none()


def _candidates(
    connection: Connection, *, now: datetime, kinds: Collection[str], limit: int
) -> list[Any]:
    """Due pending jobs that may run now, earliest first: heads of their queues, and jobs
    of no queue. On PostgreSQL locked, skipping those another worker is claiming."""
    postgres = _postgres(connection)
    params = {"b_now": now, "b_kinds": list(kinds), "b_limit": limit}
    heads = list(connection.execute(_QUEUE_HEADS if postgres else _QUEUE_HEADS_SQLITE).scalars())
    rows = list(
        connection.execute(_UNQUEUED_DUE_SKIP_LOCKED if postgres else _UNQUEUED_DUE_SQLITE, params)
    )
    if heads:
        query = _HEADS_DUE_SKIP_LOCKED if postgres else _HEADS_DUE
        rows.extend(connection.execute(query, {**params, "b_heads": heads}))
    rows.sort(key=lambda row: row.run_at)
    return rows[:limit]


def _claimed(row: Any, now: datetime) -> ClaimedJob:
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        payload=row.payload,
        queue=row.queue,
        dedupe_key=row.dedupe_key,
        attempt=row.attempts + 1,
        max_attempts=row.max_attempts,
        postponements=row.postponements,
        created_at=row.created_at,
        started_at=now,
    )


def finish(
    connection: Connection, finished: Sequence[Finished], *, worker: str, now: datetime
) -> list[Finished]:
    """Record outcomes of jobs this worker still owns; returns those it recorded."""
    succeeded = [item for item in finished if item.decision.verdict is Verdict.DONE]
    applied: list[Finished] = []
    if succeeded:
        result = connection.execute(
            _MARK_DONE,
            {"b_ids": [item.job.id for item in succeeded], "b_worker": worker, "b_now": now},
        )
        kept = set(result.scalars())
        applied.extend(item for item in succeeded if item.job.id in kept)
    failed = [item for item in finished if item.decision.verdict is not Verdict.DONE]
    owned = _owned(connection, [item.job.id for item in failed], worker)
    failed = [item for item in failed if owned.get(item.job.id) == item.job.attempt]
    if failed:
        connection.execute(_MARK_OTHERWISE, [_state_after(item, now) for item in failed])
        applied.extend(failed)
    if applied:
        connection.execute(
            _RECORD_ATTEMPTS,
            [
                {
                    "job_id": item.job.id,
                    "attempt": item.job.attempt,
                    "worker": worker,
                    "started_at": item.job.started_at,
                    "finished_at": item.finished_at,
                    "outcome": ATTEMPT_OUTCOMES[item.decision.verdict],
                    "error": item.decision.error,
                }
                for item in applied
            ],
        )
    return applied


def _state_after(item: Finished, now: datetime) -> dict[str, Any]:
    decision, job = item.decision, item.job
    postponed = decision.verdict is Verdict.POSTPONE
    dead = decision.verdict is Verdict.DEAD
    return {
        "b_id": job.id,
        "b_status": (JobStatus.DEAD if dead else JobStatus.PENDING).value,
        "b_run_at": decision.run_at or now,
        # A postponement gives its attempt back.
        "b_attempts": job.attempt - 1 if postponed else job.attempt,
        "b_postponements": job.postponements + 1 if postponed else job.postponements,
        "b_error": decision.error,
        "b_finished_at": now if dead else None,
        "b_now": now,
    }


def _owned(connection: Connection, ids: list[int], worker: str) -> dict[int, int]:
    """Attempt numbers of those `ids` still running under this worker's lease."""
    if not ids:
        return {}
    query = _OWNED_LOCKED if _postgres(connection) else _OWNED
    rows = connection.execute(query, {"b_ids": ids, "b_worker": worker})
    return {row.id: row.attempts for row in rows}


def renew(
    connection: Connection, ids: Collection[int], *, worker: str, until: datetime
) -> set[int]:
    """Extend the leases of jobs this worker still runs; returns the ids it still holds."""
    if not ids:
        return set()
    result = connection.execute(_RENEW, {"b_ids": list(ids), "b_worker": worker, "b_until": until})
    return set(result.scalars())


def reap(
    connection: Connection,
    *,
    now: datetime,
    max_attempts: Mapping[str, int],
    running_here: Collection[int] = (),
    liveness: timedelta = heartbeats.LIVENESS,
) -> list[Abandoned]:
    """Take back running jobs whose worker died or hangs: it has not heartbeaten for
    `liveness`, or the job's lease expired (the backstop, and the only sign for a worker
    that keeps no heartbeat).

    The lost attempt counts (a job that kills its worker must not loop forever): such a
    job is due again at once, keeping its place in line, or is dead if that was its last
    attempt. `max_attempts` holds per-kind overrides of the job's own limit. A worker
    passes the jobs it is running itself as `running_here`: it knows it is alive, even if
    a stall let their leases lapse.
    """
    query = _EXPIRED_SKIP_LOCKED if _postgres(connection) else _EXPIRED
    params = {"b_now": now, "b_alive_since": now - liveness, "b_running_here": list(running_here)}
    rows = connection.execute(query, params).all()
    abandoned = [
        Abandoned(
            id=row.id,
            kind=row.kind,
            attempt=row.attempts,
            worker=row.locked_by or "",
            dead=row.attempts >= max_attempts.get(row.kind, row.max_attempts),
        )
        for row in rows
    ]
    started = {row.id: row.updated_at for row in rows}
    _take_back(
        connection,
        abandoned,
        now=now,
        started=started,
        outcome=AttemptOutcome.LOST,
        error="the worker stopped heartbeating or renewing its lease (died or hung)",
    )
    return abandoned


SHUT_DOWN = "the worker shut down before the job finished"
STALLED = "the worker stalled after claiming the job; handed back unstarted"


def release(
    connection: Connection,
    jobs: Sequence[ClaimedJob],
    *,
    worker: str,
    now: datetime,
    reason: str = SHUT_DOWN,
) -> list[Abandoned]:
    """Hand back jobs this worker is shutting down on, or stalled after claiming: pending
    again, due at once (its old run_at, so it keeps its place in line). Not the job's
    fault: its attempt is given back."""
    owned = _owned(connection, [job.id for job in jobs], worker)
    released = [job for job in jobs if owned.get(job.id) == job.attempt]
    abandoned = [Abandoned(job.id, job.kind, job.attempt, worker, False) for job in released]
    _take_back(
        connection,
        abandoned,
        now=now,
        started={job.id: job.started_at for job in released},
        outcome=AttemptOutcome.RELEASED,
        error=reason,
        give_back=True,
    )
    return abandoned


def _take_back(
    connection: Connection,
    abandoned: list[Abandoned],
    *,
    now: datetime,
    started: Mapping[int, datetime],
    outcome: str,
    error: str,
    give_back: bool = False,
) -> None:
    if not abandoned:
        return
    connection.execute(
        _TAKE_BACK,
        [
            {
                "b_id": item.id,
                "b_status": (JobStatus.DEAD if item.dead else JobStatus.PENDING).value,
                "b_attempts": item.attempt - 1 if give_back else item.attempt,
                "b_finished_at": now if item.dead else None,
                "b_error": error,
                "b_now": now,
            }
            for item in abandoned
        ],
    )
    connection.execute(
        _RECORD_ATTEMPTS,
        [
            {
                "job_id": item.id,
                "attempt": item.attempt,
                "worker": item.worker,
                "started_at": started[item.id],
                "finished_at": now,
                "outcome": AttemptOutcome.DEAD if item.dead else outcome,
                "error": error,
            }
            for item in abandoned
        ],
    )
