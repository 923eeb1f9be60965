"""What the take-back timer asks when it runs: did anything happen to the lead since it
was taken."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.offers import OFFER_ACTIONS
from domain.owners import ASSIGN, RELEASE, TAKE, TAKE_BACK
from storage.models import Action


async def untouched_since(
    session: AsyncSession, *, lead_id: int, owner_id: int, taking: int
) -> bool:
    """Whether, since action `taking` gave the lead to `owner_id`, the owner did nothing on
    it (no status, call, note, invoice, deal, edit: no action of theirs) and nobody changed
    its owner (taken again, assigned, released, taken back, offered: a newer wait, or
    none)."""
    later = await session.exec(
        select(func.count())
        .select_from(Action)
        .where(
            col(Action.lead_id) == lead_id,
            col(Action.id) > taking,
            or_(
                col(Action.actor_id) == owner_id,
                col(Action.kind).in_((TAKE, RELEASE, TAKE_BACK, *OFFER_ACTIONS)),
                col(Action.kind).startswith(f"{ASSIGN}:"),
            ),
        )
    )
    return int(later.one()) == 0
