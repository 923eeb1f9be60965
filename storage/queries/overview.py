"""The numbers of the console's overview: leads and payments in a period, the untaken
leads, and when each site last sent a webhook. Each reads an index, so the page stays
quick with a large history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.statuses import LeadStatus
from storage.models import InboxEvent, Lead


@dataclass(frozen=True, slots=True)
class LeadCount:
    site_key: str
    status_code: int
    count: int


@dataclass(frozen=True, slots=True)
class PaymentCount:
    site_key: str
    pay_status_code: int | None
    count: int


async def leads_by_site_and_status(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[LeadCount]:
    """Leads created in [since, until), by site and status."""
    query = (
        select(Lead.site_key, Lead.status_code, func.count())
        .where(col(Lead.created_at) >= since, col(Lead.created_at) < until)
        .group_by(col(Lead.site_key), col(Lead.status_code))
        .order_by(col(Lead.site_key), col(Lead.status_code))
    )
    rows = (await session.exec(query)).all()
    return [LeadCount(site, status, count) for site, status, count in rows]


async def payments_by_site(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[PaymentCount]:
    """Leads created in [since, until) that carry a payment, by site and payment status."""
    query = (
        select(Lead.site_key, Lead.pay_status_code, func.count())
        .where(
            col(Lead.created_at) >= since,
            col(Lead.created_at) < until,
            col(Lead.pay_summ).is_not(None),
        )
        .group_by(col(Lead.site_key), col(Lead.pay_status_code))
        .order_by(col(Lead.site_key), col(Lead.pay_status_code))
    )
    rows = (await session.exec(query)).all()
    return [PaymentCount(site, status, count) for site, status, count in rows]


async def untaken_new_leads(session: AsyncSession, *, since: datetime) -> int:
    """New leads created since `since` that nobody has taken."""
    query = (
        select(func.count())
        .select_from(Lead)
        .where(
            col(Lead.created_at) >= since,
            col(Lead.taken_by).is_(None),
            # `+ 0`: not a term the status index can serve, so the planner walks the
            # period on the creation-time index instead of every new lead ever.
            col(Lead.status_code) + 0 == LeadStatus.NEW,
        )
    )
    return int((await session.exec(query)).one())


async def leads_per_day(session: AsyncSession, *, days: Sequence[datetime]) -> list[int]:
    """Leads created on each day: `days` are the days' starts in order, plus the end.

    A count per day, each a range of the creation-time index read alone (covering): exact
    in any time zone. One statement with a CASE over the days measured slower on SQLite
    (every lead of the month compared with every boundary)."""
    counts = []
    for start, end in zip(days, days[1:], strict=False):
        query = (
            select(func.count())
            .select_from(Lead)
            .where(col(Lead.created_at) >= start, col(Lead.created_at) < end)
        )
        counts.append(int((await session.exec(query)).one()))
    return counts


async def last_webhook_at(session: AsyncSession, *, site_key: str) -> datetime | None:
    """When the site's last webhook came in (the newest inbox event, whatever its outcome)."""
    query = (
        select(InboxEvent.received_at)
        .where(InboxEvent.site_key == site_key)
        .order_by(col(InboxEvent.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()
