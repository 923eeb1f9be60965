"""Lists and numbers for the bot's `/leads`, `/lead` and `/stats`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from domain.statuses import PayStatus
from storage.models import Lead

MAX_STATS_LEADS = 50_000


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Which leads a list shows; `sites` empty means every site."""

    sites: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    status: int | None = None
    unpaid: bool = False
    origin: str | None = None
    taken_by: int | None = None

    def apply(self, query: SelectOfScalar[Any]) -> SelectOfScalar[Any]:
        if self.sites:
            query = query.where(col(Lead.site_key).in_(self.sites))
        if self.since is not None:
            query = query.where(col(Lead.created_at) >= self.since)
        if self.until is not None:
            query = query.where(col(Lead.created_at) < self.until)
        if self.status is not None:
            query = query.where(Lead.status_code == self.status)
        if self.unpaid:
            query = query.where(
                col(Lead.pay_summ).is_not(None), col(Lead.pay_status_code) != PayStatus.PAID
            )
        if self.origin is not None:
            query = query.where(Lead.origin == self.origin)
        if self.taken_by is not None:
            query = query.where(col(Lead.taken_by) == self.taken_by)
        return query


async def leads_page(
    session: AsyncSession,
    *,
    where: LeadFilter,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 10,
) -> list[Lead]:
    """Newest first: the `limit` leads just older than `before_id`, or (with `after_id`)
    just newer than `after_id`, or the newest."""
    query = where.apply(select(Lead))
    if after_id is not None:
        newer = await session.exec(
            query.where(col(Lead.id) > after_id).order_by(col(Lead.id)).limit(limit)
        )
        return list(reversed(newer.all()))
    if before_id is not None:
        query = query.where(col(Lead.id) < before_id)
    result = await session.exec(query.order_by(col(Lead.id).desc()).limit(limit))
    return list(result.all())


async def count_leads(
    session: AsyncSession, *, where: LeadFilter, newer_than: int | None = None
) -> int:
    """How many leads the filter holds (only those newer than `newer_than`, if given)."""
    query = where.apply(select(func.count()).select_from(Lead))
    if newer_than is not None:
        query = query.where(col(Lead.id) > newer_than)
    return int((await session.exec(query)).one())


async def lead_by_number(session: AsyncSession, *, num: int, sites: Sequence[str]) -> Lead | None:
    query = select(Lead).where(Lead.num == num)
    if sites:
        query = query.where(col(Lead.site_key).in_(sites))
    result = await session.exec(query.order_by(col(Lead.id).desc()))
    return result.first()


async def leads_between(
    session: AsyncSession, *, since: datetime, until: datetime, sites: Sequence[str]
) -> list[Lead]:
    """Leads created in [since, until)."""
    query = select(Lead).where(col(Lead.created_at) >= since, col(Lead.created_at) < until)
    if sites:
        query = query.where(col(Lead.site_key).in_(sites))
    result = await session.exec(query.limit(MAX_STATS_LEADS))
    return list(result.all())


def paid_moment() -> Any:
    """When a lead was paid: Flexbe's time of the payment, else when it was created."""
    return func.coalesce(col(Lead.pay_time_done), col(Lead.pay_time_create))


async def paid_between(
    session: AsyncSession, *, since: datetime, until: datetime, sites: Sequence[str]
) -> list[Lead]:
    """Paid leads whose payment fell in [since, until), whenever the lead was created."""
    moment = paid_moment()
    query = select(Lead).where(
        col(Lead.pay_status_code) == PayStatus.PAID, moment >= since, moment < until
    )
    if sites:
        query = query.where(col(Lead.site_key).in_(sites))
    result = await session.exec(query.limit(MAX_STATS_LEADS))
    return list(result.all())
