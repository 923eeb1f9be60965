"""Writing jobs: the outbox half that intake and the bot use inside their own transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import Job


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


async def _by_dedupe_key(session: AsyncSession, dedupe_key: str) -> Job | None:
    result = await session.exec(select(Job).where(Job.dedupe_key == dedupe_key))
    return result.first()
