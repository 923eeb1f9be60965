"""The raw inbox of received webhook events."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxEvent


async def record_event(session: AsyncSession, event: InboxEvent) -> InboxEvent:
    session.add(event)
    await session.flush()
    return event
