"""Worker heartbeats: each worker process keeps a row in `worker` fresh, every few seconds.

A running job whose holder (`job.locked_by`, the worker's name) has not beaten within the
liveness timeout is free to take over (`jobs.store.reap`): a killed worker's jobs move on
in seconds, not after their lease. A worker with no row (one of an older version, or a
test's stand-in) is judged by its jobs' leases alone, which stay as the backstop.

Each function is synchronous and runs inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import JobWorker

WORKER: Table = JobWorker.__table__  # type: ignore[attr-defined]
# How long a worker may go without a heartbeat before its jobs are taken over.
LIVENESS = timedelta(seconds=10)
# A row this stale is a worker long gone: its jobs' leases lapsed long ago.
FORGET_AFTER = timedelta(days=1)

_BEAT = (
    update(WORKER)
    .where(WORKER.c.name == bindparam("b_name"))
    .values(heartbeat_at=bindparam("b_now"))
)
# The names of workers whose heartbeat lapsed, for the reaper's IN.
LAPSED = select(WORKER.c.name).where(WORKER.c.heartbeat_at < bindparam("b_alive_since"))


def beat(connection: Connection, *, name: str, now: datetime) -> bool:
    """Mark the worker alive at `now`, if it is registered; returns whether it is."""
    return connection.execute(_BEAT, {"b_name": name, "b_now": now}).rowcount > 0


def register(connection: Connection, *, name: str, host: str, pid: int, now: datetime) -> None:
    """Add the worker (or refresh it), and forget workers gone for a long time."""
    connection.execute(delete(WORKER).where(WORKER.c.heartbeat_at < now - FORGET_AFTER))
    if not beat(connection, name=name, now=now):
        connection.execute(
            insert(WORKER).values(name=name, host=host, pid=pid, started_at=now, heartbeat_at=now)
        )


def unregister(connection: Connection, *, name: str) -> None:
    """A worker that stopped holding nothing: its row goes, it no longer counts as live."""
    connection.execute(delete(WORKER).where(WORKER.c.name == name))


async def count_live(session: AsyncSession, *, now: datetime, liveness: timedelta) -> int:
    """Workers whose heartbeat is fresh: the processes running jobs now."""
    query = select_model(func.count()).where(col(JobWorker.heartbeat_at) >= now - liveness)
    return int((await session.exec(query)).one())
