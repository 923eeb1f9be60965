"""Lists and numbers for the bot's `/leads`, `/lead` and `/stats`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.statuses import PayStatus
from storage.models import Lead

MAX_STATS_LEADS = 50_000


async def leads_page(
    session: AsyncSession,
    *,
    sites: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    status: int | None = None,
    unpaid: bool = False,
    origin: str | None = None,
    before_id: int | None = None,
    limit: int = 10,
) -> list[Lead]:
    """Newest first; `sites` empty means every site."""
    query = select(Lead)
    if sites:
        query = query.where(col(Lead.site_key).in_(sites))
    if since is not None:
        query = query.where(col(Lead.created_at) >= since)
    if until is not None:
        query = query.where(col(Lead.created_at) < until)
    if status is not None:
        query = query.where(Lead.status_code == status)
    if unpaid:
        query = query.where(
            col(Lead.pay_summ).is_not(None), col(Lead.pay_status_code) != PayStatus.PAID
        )
    if origin is not None:
        query = query.where(Lead.origin == origin)
    if before_id is not None:
        query = query.where(col(Lead.id) < before_id)
    result = await session.exec(query.order_by(col(Lead.id).desc()).limit(limit))
    return list(result.all())


async def lead_by_number(session: AsyncSession, *, num: int, sites: Sequence[str]) -> Lead | None:
    query = select(Lead).where(Lead.num == num)
    if sites:
        query = query.where(col(Lead.site_key).in_(sites))
    result = await session.exec(query.order_by(col(Lead.id).desc()))
    return result.first()


async def leads_between(
    session: AsyncSession, *, since: datetime, until: datetime, sites: Sequence[str]
) -> list[Lead]:
    query = select(Lead).where(col(Lead.created_at) >= since, col(Lead.created_at) < until)
    if sites:
        query = query.where(col(Lead.site_key).in_(sites))
    result = await session.exec(query.limit(MAX_STATS_LEADS))
    return list(result.all())
