"""A chat the bot could not write to, back: it is unblocked, and the leads it missed while
blocked are found (those of its sites received since, with no card or summary line there).

Received, not created: Flexbe's time of a lead is the client's, and a lead reconcile finds
late was missed as well."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlmodel import col, exists, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import Card, ChatState, Lead, ListedLead

# A lead that came in just before the block may have had its card held back by it: looked
# for this far before. One that got a card, or a summary line, is not missed.
BLOCK_SLACK = timedelta(minutes=5)


async def blocked_at(session: AsyncSession, *, chat_id: int) -> datetime | None:
    """When the chat's block began, None while the bot may write there."""
    state = await session.get(ChatState, chat_id)
    return state.updated_at if state is not None and state.blocked else None


async def unblock_chat(session: AsyncSession, *, chat_id: int) -> datetime | None:
    """The bot may write to the chat again: when it had been blocked, None if it was not
    (so that a repeated update finds nothing to do)."""
    state = await session.get(ChatState, chat_id)
    if state is None or not state.blocked:
        return None
    since = state.updated_at
    state.blocked, state.reason, state.updated_at = False, "", utcnow()
    session.add(state)
    await session.flush()
    return since


async def missed_leads(
    session: AsyncSession,
    *,
    chat_id: int,
    site_keys: Collection[str],
    since: datetime,
    limit: int,
) -> list[int]:
    """The ids of up to `limit` leads of `site_keys` received since `since` (less the slack)
    that have neither a card nor a summary line in `chat_id`, oldest first."""
    if not site_keys:
        return []
    has_card = exists().where(col(Card.lead_id) == col(Lead.id), col(Card.chat_id) == chat_id)
    listed = exists().where(
        col(ListedLead.lead_id) == col(Lead.id), col(ListedLead.chat_id) == chat_id
    )
    found = await session.exec(
        select(Lead.id)
        .where(
            col(Lead.site_key).in_(sorted(site_keys)),
            col(Lead.received_at) >= since - BLOCK_SLACK,
            ~has_card,
            ~listed,
        )
        .order_by(col(Lead.id))
        .limit(limit)
    )
    return [lead_id for lead_id in found.all() if lead_id is not None]
