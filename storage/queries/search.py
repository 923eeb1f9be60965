"""`/find`: leads by number, normalized phone, e-mail or a part of the client's name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Lead
from storage.queries.fragments import fold, folded_contains


@dataclass(frozen=True, slots=True)
class LeadQuery:
    """What to look for; a lead matching any one of the given parts is found."""

    num: int | None = None
    phones: tuple[str, ...] = ()  # E.164, as `Lead.client_phone_normalized` holds them
    email: str | None = None
    name: str | None = None

    @property
    def empty(self) -> bool:
        return self.num is None and not self.phones and not self.email and not self.name


async def find_leads(
    session: AsyncSession, *, query: LeadQuery, sites: Sequence[str], limit: int
) -> list[Lead]:
    """Newest first, at most `limit`; `sites` empty means every site."""
    if query.empty:
        return []
    matches: list[ColumnElement[bool]] = []
    if query.num is not None:
        matches.append(col(Lead.num) == query.num)
    if query.phones:
        matches.append(col(Lead.client_phone_normalized).in_(query.phones))
    if query.email:
        # The address as compared (`integrations.emails`): one seek of its index.
        matches.append(col(Lead.client_email_normalized) == fold(query.email.strip()))
    if query.name:
        matches.append(folded_contains(col(Lead.client_name_folded), query.name))
    statement = select(Lead).where(or_(*matches))
    if sites:
        statement = statement.where(col(Lead.site_key).in_(sites))
    result = await session.exec(statement.order_by(col(Lead.id).desc()).limit(limit))
    return list(result.all())
