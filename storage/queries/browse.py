"""Read-only listings for the admin API and the bot, paged by id with an opaque cursor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Mapped
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import InboxEvent, Lead, Payment
from storage.queries.fragments import fold, folded_contains

_Ids = TypeVar("_Ids", bound=SelectOfScalar[Any])
_FULL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class LeadSearch:
    """What an admin typed, already read as what it can be: any of these may match."""

    phone: str | None = None  # E.164, as `Lead.client_phone_normalized` holds it
    num: int | None = None  # Flexbe's lead number
    email: str | None = None  # a whole address or a part of one, any case
    name: str | None = None  # part of the client's name, any case

    def condition(self) -> ColumnElement[bool] | None:
        terms: list[ColumnElement[bool]] = []
        if self.phone:
            terms.append(col(Lead.client_phone_normalized) == self.phone)
        if self.num is not None:
            terms.append(col(Lead.num) == self.num)
        if self.email and _FULL_ADDRESS.fullmatch(self.email):
            # A whole address: looked up in the index of addresses as compared (trimmed and
            # case-folded, `integrations.emails`), so any mixture of cases finds it.
            terms.append(col(Lead.client_email_normalized) == fold(self.email.strip()))
        elif self.email:
            terms.append(folded_contains(col(Lead.client_email_normalized), self.email.strip()))
        if self.name:
            terms.append(folded_contains(col(Lead.client_name_folded), self.name))
        return or_(*terms) if terms else None


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
    taken_by: int | None = None,
    search: LeadSearch | None = None,
) -> list[Lead]:
    """Newest first; `since`/`until` bound the lead's creation time in Flexbe."""
    # The page's ids first, then their rows: where an index holds every term (a period:
    # the creation-time index, which carries the id), the thousands of leads that match
    # are sorted as ids, without reading a row; only the fifty shown are read whole.
    ids = select(Lead.id)
    if before_id is not None:
        ids = ids.where(col(Lead.id) < before_id)
    if since is not None:
        ids = ids.where(col(Lead.created_at) >= since)
    if until is not None:
        ids = ids.where(col(Lead.created_at) < until)
    ids = _where_equal(
        ids,
        (col(Lead.status_code), status),
        (col(Lead.site_key), site_key),
        (col(Lead.origin), origin),
        (col(Lead.taken_by), taken_by),
    )
    condition = search.condition() if search is not None else None
    if condition is not None:
        ids = ids.where(condition)
    page = ids.order_by(col(Lead.id).desc()).limit(limit)
    query = select(Lead).where(col(Lead.id).in_(page.scalar_subquery()))
    result = await session.exec(query.order_by(col(Lead.id).desc()))
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
    outcomes: tuple[str, ...] = (),
    site_key: str | None = None,
) -> list[InboxEvent]:
    ids = select(InboxEvent.id)
    order = col(InboxEvent.id).desc()
    if outcomes:
        ids = ids.where(col(InboxEvent.outcome).in_(outcomes))
        # `+ 0`: the few events of these outcomes are found by their index and sorted,
        # rather than every event walked down the primary key until fifty match.
        order = (col(InboxEvent.id) + 0).desc()
    if before_id is not None:
        ids = ids.where(col(InboxEvent.id) < before_id)
    ids = _where_equal(
        ids, (col(InboxEvent.outcome), outcome), (col(InboxEvent.site_key), site_key)
    )
    # The page's ids first (from the index alone), then their rows: the bodies are not
    # carried through the sort.
    page = list((await session.exec(ids.order_by(order).limit(limit))).all())
    if not page:
        return []
    rows = await session.exec(
        select(InboxEvent).where(col(InboxEvent.id).in_(page)).order_by(col(InboxEvent.id).desc())
    )
    return list(rows.all())


async def get_event(session: AsyncSession, event_id: int) -> InboxEvent | None:
    return await session.get(InboxEvent, event_id)


def _where_equal(ids: _Ids, *filters: tuple[Mapped[Any], object]) -> _Ids:
    """`ids` narrowed to `column == value` for each filter given (a value not None)."""
    for column, value in filters:
        if value is not None:
            ids = ids.where(column == value)
    return ids
