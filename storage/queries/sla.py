"""What the SLA timers ask when they run: is the lead still waiting for someone."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.statuses import LeadStatus
from storage.models import Action, Lead


async def waiting_lead(session: AsyncSession, *, lead_id: int) -> Lead | None:
    """The lead if nobody has touched it yet: untaken, still new (neither a button nor
    Flexbe, through a webhook or reconcile, changed its status), and no action asked for
    on its card. None otherwise: its timers no longer apply."""
    lead = await session.get(Lead, lead_id)
    if lead is None or lead.taken_by is not None or lead.status_code != LeadStatus.NEW:
        return None
    acted = await session.exec(
        select(func.count()).select_from(Action).where(Action.lead_id == lead_id)
    )
    return lead if int(acted.one()) == 0 else None
