"""Telegram updates received by webhook: stored once by `update_id`, then handled by a job."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import TELEGRAM_UPDATE, UpdatePayload, update_key
from storage.clock import utcnow
from storage.models import TelegramUpdate
from storage.queries.jobs import enqueue_job


async def store_update(session: AsyncSession, *, update_id: int, payload: dict[str, Any]) -> bool:
    """Store the update and the job that handles it; False when it was stored before."""
    if await session.get(TelegramUpdate, update_id) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(TelegramUpdate(update_id=update_id, payload=payload))
    except IntegrityError:
        return False
    await enqueue_job(
        session,
        TELEGRAM_UPDATE,
        UpdatePayload(update_id),
        dedupe_key=update_key(update_id),
        max_attempts=3,
    )
    return True


async def mark_handled(session: AsyncSession, update_id: int) -> None:
    update = await session.get(TelegramUpdate, update_id)
    if update is not None:
        update.handled_at = utcnow()
        session.add(update)
