"""Telegram updates received by webhook: stored once by `update_id`, then handled by a job."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import TelegramUpdate
from storage.queries.jobs import enqueue

UPDATE_JOB = "telegram.update"


async def store_update(session: AsyncSession, *, update_id: int, payload: dict[str, Any]) -> bool:
    """Store the update and the job that handles it; False when it was stored before."""
    if await session.get(TelegramUpdate, update_id) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(TelegramUpdate(update_id=update_id, payload=payload))
    except IntegrityError:
        return False
    await enqueue(
        session,
        kind=UPDATE_JOB,
        payload={"update_id": update_id},
        dedupe_key=f"tg.update:{update_id}",
        max_attempts=3,
    )
    return True


async def mark_handled(session: AsyncSession, update_id: int) -> None:
    update = await session.get(TelegramUpdate, update_id)
    if update is not None:
        update.handled_at = utcnow()
        session.add(update)
