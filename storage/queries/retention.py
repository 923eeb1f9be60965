"""Removing history past its retention, in small batches.

Each batch is one short transaction (on SQLite the single writer is free again between
batches, so webhooks and the worker never wait long behind it) and starts where its
index starts: the oldest rows of one job kind or one inbox outcome. Which kinds and
outcomes may go is decided by the caller (`actions.retention` says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Table,
    and_,
    delete,
    func,
    select,
    text,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DONE_SQL, InboxEvent, Job, JobAttempt, TelegramUpdate
from storage.tables import table_of

_JOB: Table = table_of(Job)
_ATTEMPT: Table = table_of(JobAttempt)
_INBOX: Table = table_of(InboxEvent)
_UPDATE: Table = table_of(TelegramUpdate)


async def _run(session: AsyncSession, statement: Executable) -> CursorResult[Any]:
    connection = await session.connection()
    return await connection.execute(statement)


@dataclass(frozen=True, slots=True)
class Removed:
    rows: int
    attempts: int = 0


def _old_done_jobs(kind: str, before: datetime) -> ColumnElement[bool]:
    # The literal status filter is the partial index's own, so the planner uses it.
    return and_(_JOB.c.kind == kind, text(DONE_SQL), _JOB.c.finished_at < before)


async def prune_done_jobs(
    session: AsyncSession, *, kind: str, before: datetime, limit: int
) -> Removed:
    """Delete up to `limit` jobs of `kind` done before `before`, with their attempts."""
    ids = list(
        (
            await _run(
                session,
                select(_JOB.c.id)
                .where(_old_done_jobs(kind, before))
                .order_by(_JOB.c.finished_at)
                .limit(limit),
            )
        ).scalars()
    )
    if not ids:
        return Removed(0)
    attempts = await _run(session, delete(_ATTEMPT).where(_ATTEMPT.c.job_id.in_(ids)))
    jobs = await _run(session, delete(_JOB).where(_JOB.c.id.in_(ids)))
    return Removed(jobs.rowcount, attempts.rowcount)


async def count_done_jobs(session: AsyncSession, *, kind: str, before: datetime) -> int:
    query = select(func.count()).select_from(_JOB).where(_old_done_jobs(kind, before))
    return int((await _run(session, query)).scalar_one())


async def prune_inbox(
    session: AsyncSession, *, outcome: str, before: datetime, limit: int
) -> Removed:
    """Delete up to `limit` inbox events of `outcome` received before `before`."""
    ids = list(
        (
            await _run(
                session,
                select(_INBOX.c.id)
                .where(_INBOX.c.outcome == outcome, _INBOX.c.received_at < before)
                .order_by(_INBOX.c.received_at)
                .limit(limit),
            )
        ).scalars()
    )
    if not ids:
        return Removed(0)
    result = await _run(session, delete(_INBOX).where(_INBOX.c.id.in_(ids)))
    return Removed(result.rowcount)


async def count_inbox(session: AsyncSession, *, outcome: str, before: datetime) -> int:
    query = (
        select(func.count())
        .select_from(_INBOX)
        .where(_INBOX.c.outcome == outcome, _INBOX.c.received_at < before)
    )
    return int((await _run(session, query)).scalar_one())


async def prune_telegram_updates(session: AsyncSession, *, before: datetime, limit: int) -> Removed:
    """Delete up to `limit` Telegram updates handled before `before` (unhandled ones stay)."""
    ids = list(
        (
            await _run(
                session,
                select(_UPDATE.c.update_id)
                .where(_UPDATE.c.handled_at < before)
                .order_by(_UPDATE.c.handled_at)
                .limit(limit),
            )
        ).scalars()
    )
    if not ids:
        return Removed(0)
    result = await _run(session, delete(_UPDATE).where(_UPDATE.c.update_id.in_(ids)))
    return Removed(result.rowcount)


async def count_telegram_updates(session: AsyncSession, *, before: datetime) -> int:
    query = select(func.count()).select_from(_UPDATE).where(_UPDATE.c.handled_at < before)
    return int((await _run(session, query)).scalar_one())
