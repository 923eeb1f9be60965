"""Leads shown in a chat only as a line of a summary message (`storage.models.ListedLead`):
where their reminder in that chat goes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import ListedLead
from storage.queries.speed import mark_first_seen


async def record_listed(
    session: AsyncSession, *, chat_id: int, message_id: int, lead_ids: Sequence[int]
) -> None:
    """`lead_ids` are listed in `message_id` of `chat_id`. A lead already listed in the
    chat keeps its first message (a summary sent again after a crash lists it anew)."""
    if not lead_ids:
        return
    known = await session.exec(
        select(ListedLead.lead_id).where(
            col(ListedLead.chat_id) == chat_id, col(ListedLead.lead_id).in_(lead_ids)
        )
    )
    already = set(known.all())
    for lead_id in dict.fromkeys(lead_ids):
        if lead_id not in already:
            session.add(ListedLead(lead_id=lead_id, chat_id=chat_id, message_id=message_id))
    await session.flush()
    await mark_first_seen(session, lead_ids=list(dict.fromkeys(lead_ids)), at=utcnow())


async def listed_in(session: AsyncSession, *, lead_id: int) -> list[ListedLead]:
    """The summary messages that list the lead, one per chat."""
    found = await session.exec(select(ListedLead).where(col(ListedLead.lead_id) == lead_id))
    return list(found.all())


async def listing(session: AsyncSession, *, lead_id: int, chat_id: int) -> ListedLead | None:
    found = await session.exec(
        select(ListedLead).where(
            col(ListedLead.lead_id) == lead_id, col(ListedLead.chat_id) == chat_id
        )
    )
    return found.first()
