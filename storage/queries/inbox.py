"""The raw inbox of received webhook events."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxEvent


async def record_event(session: AsyncSession, event: InboxEvent) -> InboxEvent:
    session.add(event)
    await session.flush()
    return event


async def claim_first_delivery(session: AsyncSession, event: InboxEvent) -> InboxEvent | None:
    """Store `event` as the first accepted copy of its dedupe key.

    Returns the earlier copy instead when this event was already accepted, in which case
    nothing is written; the caller records the repeat as a duplicate.
    """
    assert event.dedupe_key is not None, "only accepted events carry a dedupe key"
    earlier = await _accepted_copy(session, event.dedupe_key)
    if earlier is not None:
        return earlier
    try:
        async with session.begin_nested():
            session.add(event)
    except IntegrityError:
        earlier = await _accepted_copy(session, event.dedupe_key)
        if earlier is None:
            raise
        return earlier
    return None


async def _accepted_copy(session: AsyncSession, dedupe_key: str) -> InboxEvent | None:
    result = await session.exec(select(InboxEvent).where(InboxEvent.dedupe_key == dedupe_key))
    return result.first()
