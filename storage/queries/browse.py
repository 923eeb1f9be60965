"""Read-only listings for the admin API and the bot, paged by id with an opaque cursor."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxEvent, Lead, Payment


async def list_leads(
    session: AsyncSession,
    *,
    limit: int,
    before_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: int | None = None,
    site_key: str | None = None,
    origin: str | None = None,
) -> list[Lead]:
    """Newest first; `since`/`until` bound the lead's creation time in Flexbe."""
    query = select(Lead)
    if before_id is not None:
        query = query.where(col(Lead.id) < before_id)
    if since is not None:
        query = query.where(col(Lead.created_at) >= since)
    if until is not None:
        query = query.where(col(Lead.created_at) < until)
    if status is not None:
        query = query.where(Lead.status_code == status)
    if site_key is not None:
        query = query.where(Lead.site_key == site_key)
    if origin is not None:
        query = query.where(Lead.origin == origin)
    result = await session.exec(query.order_by(col(Lead.id).desc()).limit(limit))
    return list(result.all())


async def get_lead_by_id(session: AsyncSession, lead_id: int) -> Lead | None:
    return await session.get(Lead, lead_id)


async def payments_of(session: AsyncSession, lead_id: int) -> list[Payment]:
    result = await session.exec(
        select(Payment).where(Payment.lead_id == lead_id).order_by(col(Payment.id))
    )
    return list(result.all())


async def inbox_of(session: AsyncSession, lead_id: int) -> list[InboxEvent]:
    result = await session.exec(
        select(InboxEvent).where(InboxEvent.lead_id == lead_id).order_by(col(InboxEvent.id))
    )
    return list(result.all())


async def list_inbox(
    session: AsyncSession,
    *,
    limit: int,
    before_id: int | None = None,
    outcome: str | None = None,
    site_key: str | None = None,
) -> list[InboxEvent]:
    query = select(InboxEvent)
    if before_id is not None:
        query = query.where(col(InboxEvent.id) < before_id)
    if outcome is not None:
        query = query.where(InboxEvent.outcome == outcome)
    if site_key is not None:
        query = query.where(InboxEvent.site_key == site_key)
    result = await session.exec(query.order_by(col(InboxEvent.id).desc()).limit(limit))
    return list(result.all())
