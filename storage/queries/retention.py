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
    Column,
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


def _old_inbox(outcome: str, before: datetime) -> ColumnElement[bool]:
    return and_(_INBOX.c.outcome == outcome, _INBOX.c.received_at < before)


async def _oldest(
    session: AsyncSession,
    key: ColumnElement[Any],
    old: ColumnElement[bool],
    age: ColumnElement[Any],
    limit: int,
) -> list[Any]:
    """One batch: the keys of the `limit` oldest rows (by `age`) that are `old`."""
    query = select(key).where(old).order_by(age).limit(limit)
    return list((await _run(session, query)).scalars())


async def _delete(session: AsyncSession, table: Table, key: Column[Any], ids: list[Any]) -> Removed:
    if not ids:
        return Removed(0)
    result = await _run(session, delete(table).where(key.in_(ids)))
    return Removed(result.rowcount)


async def _count(session: AsyncSession, table: Table, old: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(table).where(old)
    return int((await _run(session, query)).scalar_one())


async def prune_done_jobs(
    session: AsyncSession, *, kind: str, before: datetime, limit: int
) -> Removed:
    """Delete up to `limit` jobs of `kind` done before `before`, with their attempts."""
    old = _old_done_jobs(kind, before)
    ids = await _oldest(session, _JOB.c.id, old, _JOB.c.finished_at, limit)
    if not ids:
        return Removed(0)
    attempts = await _run(session, delete(_ATTEMPT).where(_ATTEMPT.c.job_id.in_(ids)))
    jobs = await _run(session, delete(_JOB).where(_JOB.c.id.in_(ids)))
    return Removed(jobs.rowcount, attempts.rowcount)


async def count_done_jobs(session: AsyncSession, *, kind: str, before: datetime) -> int:
    return await _count(session, _JOB, _old_done_jobs(kind, before))


async def prune_inbox(
    session: AsyncSession, *, outcome: str, before: datetime, limit: int
) -> Removed:
    """Delete up to `limit` inbox events of `outcome` received before `before`."""
    old = _old_inbox(outcome, before)
    ids = await _oldest(session, _INBOX.c.id, old, _INBOX.c.received_at, limit)
    return await _delete(session, _INBOX, _INBOX.c.id, ids)


async def count_inbox(session: AsyncSession, *, outcome: str, before: datetime) -> int:
    return await _count(session, _INBOX, _old_inbox(outcome, before))


async def prune_telegram_updates(session: AsyncSession, *, before: datetime, limit: int) -> Removed:
    """Delete up to `limit` Telegram updates handled before `before` (unhandled ones stay)."""
    old = _UPDATE.c.handled_at < before
    ids = await _oldest(session, _UPDATE.c.update_id, old, _UPDATE.c.handled_at, limit)
    return await _delete(session, _UPDATE, _UPDATE.c.update_id, ids)


async def count_telegram_updates(session: AsyncSession, *, before: datetime) -> int:
    return await _count(session, _UPDATE, _UPDATE.c.handled_at < before)
