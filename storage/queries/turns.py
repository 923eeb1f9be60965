"""A site's turn in the weighted round-robin (`bot.distribution`): the site's row locked
while a turn is picked, the managers' credits, and each lead's turns, recorded once."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import LeadTurn, TurnCredit, TurnSite
from storage.tables import table_of

_TURN_SITE: Table = table_of(TurnSite)


async def lock_turn(session: AsyncSession, site_key: str) -> TurnSite:
    """The site's turn row, made if new and locked until the transaction ends (PostgreSQL;
    SQLite has one writer at a time anyway): workers pick a site's turns one at a time."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.exec(
        insert(_TURN_SITE)
        .values(site_key=site_key, picks=0)
        .on_conflict_do_nothing(index_elements=[_TURN_SITE.c.site_key])
    )
    result = await session.exec(
        select(TurnSite)
        .where(col(TurnSite.site_key) == site_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.one()


async def recorded_turn(session: AsyncSession, *, lead_id: int, step: int) -> LeadTurn | None:
    result = await session.exec(
        select(LeadTurn).where(col(LeadTurn.lead_id) == lead_id, col(LeadTurn.step) == step)
    )
    return result.first()


async def credits_of(
    session: AsyncSession, site_key: str, manager_ids: Iterable[int]
) -> dict[int, TurnCredit]:
    """Each manager's credit row at the site, made at 0 for a newcomer."""
    ids = list(manager_ids)
    result = await session.exec(
        select(TurnCredit).where(
            col(TurnCredit.site_key) == site_key, col(TurnCredit.manager_id).in_(ids)
        )
    )
    found = {row.manager_id: row for row in result.all()}
    for manager_id in ids:
        found.setdefault(manager_id, TurnCredit(site_key=site_key, manager_id=manager_id))
    return found


async def record_turn(
    session: AsyncSession,
    turn: TurnSite,
    credits: Iterable[TurnCredit],
    *,
    lead_id: int,
    step: int,
    manager_id: int,
) -> LeadTurn:
    """The turn taken: the credits' change and the lead's turn, in one transaction."""
    turn.picks += 1
    session.add(turn)
    session.add_all(list(credits))
    row = LeadTurn(
        lead_id=lead_id, step=step, site_key=turn.site_key, number=turn.picks, manager_id=manager_id
    )
    session.add(row)
    await session.flush()
    return row


async def turns_of_site(session: AsyncSession, site_key: str) -> list[LeadTurn]:
    """The site's turns in the order they were taken."""
    result = await session.exec(
        select(LeadTurn).where(col(LeadTurn.site_key) == site_key).order_by(col(LeadTurn.number))
    )
    return list(result.all())
