"""A lead's open offer (`bot.offers`): opened, closed, accepted, each one conditional
update of the lead, so that a late or second answer changes nothing; and how each offer
of its turns ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import OFFER_ENDED, OfferMessagePayload, offer_ended_key
from domain.offers import OfferEnd
from storage.clock import utcnow
from storage.models import Lead, LeadTurn
from storage.queries.jobs import enqueue_job

_CLOSED = {
    "offer_to": None,
    "offer_to_name": None,
    "offer_step": None,
    "offer_from": None,
    "offer_until": None,
    "offer_window": None,
}


async def open_offer(
    session: AsyncSession,
    lead: Lead,
    *,
    manager_id: int,
    name: str,
    step: int,
    first_step: int,
    until: datetime,
    window: int,
) -> bool:
    """Offer the free lead to `manager_id` (its `step`-th hand-out) until `until`."""
    assert lead.id is not None
    result = await session.exec(
        update(Lead)
        .where(col(Lead.id) == lead.id, col(Lead.taken_by).is_(None))
        .values(
            offer_to=manager_id,
            offer_to_name=name,
            offer_step=step,
            offer_from=first_step,
            offer_until=until,
            offer_window=window,
            updated_at=utcnow(),
        )
    )
    await session.refresh(lead)
    return result.rowcount == 1


async def close_offer(session: AsyncSession, lead: Lead, *, step: int, end: OfferEnd) -> bool:
    """End the `step`-th offer if it is still the open one; False when it ended already
    (answered, run out, withdrawn): a second ending changes nothing."""
    assert lead.id is not None
    result = await session.exec(
        update(Lead)
        .where(col(Lead.id) == lead.id, col(Lead.offer_step) == step)
        .values(**_CLOSED, updated_at=utcnow())
    )
    if result.rowcount != 1:
        return False
    await _ended(session, lead.id, step, end)
    await session.refresh(lead)
    return True


async def accept_offer(session: AsyncSession, lead: Lead, *, manager_id: int, step: int) -> bool:
    """The lead becomes `manager_id`'s, if it is offered to them in that `step` and nobody
    has it: one update, so two taps (or a tap and the window's end) make one owner."""
    assert lead.id is not None
    now = utcnow()
    result = await session.exec(
        update(Lead)
        .where(
            col(Lead.id) == lead.id,
            col(Lead.offer_to) == manager_id,
            col(Lead.offer_step) == step,
            col(Lead.taken_by).is_(None),
        )
        .values(
            taken_by=manager_id,
            taken_by_name=col(Lead.offer_to_name),
            taken_at=now,
            updated_at=now,
            first_owned_at=func.coalesce(col(Lead.first_owned_at), now),
            **_CLOSED,
        )
    )
    if result.rowcount != 1:
        return False
    await _ended(session, lead.id, step, OfferEnd.ACCEPTED)
    await session.refresh(lead)
    return True


async def withdraw_offer(session: AsyncSession, lead: Lead) -> None:
    """The lead is given or taken otherwise: its open offer, if any, ends (the manager's
    message says so)."""
    if lead.offer_step is not None and lead.offer_to is not None:
        manager_id, step = lead.offer_to, lead.offer_step
        if await close_offer(session, lead, step=step, end=OfferEnd.WITHDRAWN):
            await offer_ended(session, lead_id=lead.id, manager_id=manager_id, step=step)


async def offer_ended(
    session: AsyncSession, *, lead_id: int | None, manager_id: int, step: int
) -> None:
    """The offer's message is edited to say how it ended, once."""
    assert lead_id is not None
    await enqueue_job(
        session,
        OFFER_ENDED,
        OfferMessagePayload(chat_id=manager_id, lead_id=lead_id, step=step),
        dedupe_key=offer_ended_key(lead_id, step),
    )


async def _ended(session: AsyncSession, lead_id: int, step: int, end: OfferEnd) -> None:
    await session.exec(
        update(LeadTurn)
        .where(
            col(LeadTurn.lead_id) == lead_id,
            col(LeadTurn.step) == step,
            col(LeadTurn.outcome).is_(None),
        )
        .values(outcome=end.value)
    )


async def next_step(session: AsyncSession, lead_id: int) -> int:
    """The number of the lead's next hand-out in turn."""
    result = await session.exec(
        select(func.max(LeadTurn.step)).where(col(LeadTurn.lead_id) == lead_id)
    )
    last = result.one()
    return 0 if last is None else int(last) + 1


async def offered_since(session: AsyncSession, lead_id: int, first_step: int) -> set[int]:
    """Who had the lead's offers in this round (hand-outs from `first_step` on)."""
    result = await session.exec(
        select(LeadTurn.manager_id).where(
            col(LeadTurn.lead_id) == lead_id, col(LeadTurn.step) >= first_step
        )
    )
    return set(result.all())


async def save_offer_message(
    session: AsyncSession, *, lead_id: int, step: int, message_id: int
) -> None:
    await session.exec(
        update(LeadTurn)
        .where(col(LeadTurn.lead_id) == lead_id, col(LeadTurn.step) == step)
        .values(message_id=message_id)
    )
