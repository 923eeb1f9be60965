"""The turn picker on both databases: the weighted round-robin's exact sequence, those away
or skipped left out with their credit kept, and one turn per lead and step, however often it
is asked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.distribution import next_in_turn
from config.working_time import WorkingHours
from storage.database import Database
from storage.models import Lead, Manager
from storage.queries.sites import ensure_sites
from storage.queries.team import set_weight
from storage.queries.turns import turns_of_site

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOURS = WorkingHours.parse(None, zone="UTC")
ANNA, BORIS, VERA = 101, 102, 103


async def _team(database: Database, *weights: tuple[int, int]) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
        for telegram_id, weight in weights:
            session.add(Manager(telegram_id=telegram_id, name=str(telegram_id), weight=weight))


async def _hand_out(
    database: Database, count: int, *, first: int = 1, step: int = 0, skip: tuple[int, ...] = ()
) -> list[int | None]:
    """`count` new leads, each given its turn in its own transaction, as a rule's job does."""
    owners: list[int | None] = []
    for number in range(first, first + count):
        async with database.write() as session:
            lead = Lead(site_key="okna", flexbe_id=number, num=number)
            session.add(lead)
            await session.flush()
            chosen = await next_in_turn(session, lead, step=step, hours=HOURS, now=NOW, skip=skip)
            owners.append(None if chosen is None else chosen.telegram_id)
    return owners


async def test_a_weight_of_two_gets_two_turns_for_every_one_spread_out(database: Database) -> None:
    await _team(database, (ANNA, 1), (BORIS, 2), (VERA, 1))
    owners = await _hand_out(database, 8)
    assert owners == [BORIS, ANNA, VERA, BORIS] * 2
    async with database.read() as session:
        turns = await turns_of_site(session, "okna")
    assert [turn.manager_id for turn in turns] == owners
    assert [turn.number for turn in turns] == list(range(1, 9))


async def test_a_manager_away_is_left_out_and_keeps_their_credit(database: Database) -> None:
    await _team(database, (ANNA, 1), (BORIS, 2), (VERA, 1))
    async with database.write() as session:
        vera = await session.get(Manager, VERA)
        assert vera is not None
        vera.away_from = NOW - timedelta(hours=1)
    assert await _hand_out(database, 6) == [BORIS, ANNA, BORIS] * 2
    async with database.write() as session:
        vera = await session.get(Manager, VERA)
        assert vera is not None
        vera.away_from = None
    # Back at 0 credit, beside two at 0 again after whole rounds: as from the start.
    assert await _hand_out(database, 4, first=7) == [BORIS, ANNA, VERA, BORIS]


async def test_the_skipped_are_passed_over_and_nobody_left_is_none(database: Database) -> None:
    await _team(database, (ANNA, 1), (BORIS, 1))
    assert await _hand_out(database, 2, skip=(ANNA,)) == [BORIS, BORIS]
    assert await _hand_out(database, 1, first=3, skip=(ANNA, BORIS)) == [None]
    async with database.read() as session:
        assert len(await turns_of_site(session, "okna")) == 2, "no turn without a manager"


async def test_a_rerun_gets_the_recorded_turn_and_takes_no_second(database: Database) -> None:
    await _team(database, (ANNA, 1), (BORIS, 1))
    async with database.write() as session:
        lead = Lead(site_key="okna", flexbe_id=1, num=1)
        session.add(lead)
        await session.flush()
        first = await next_in_turn(session, lead, step=0, hours=HOURS, now=NOW)
        again = await next_in_turn(session, lead, step=0, hours=HOURS, now=NOW)
        # An offer's next step is a new turn.
        second = await next_in_turn(session, lead, step=1, hours=HOURS, now=NOW)
    assert first is not None and again is not None and second is not None
    assert (first.telegram_id, again.telegram_id, second.telegram_id) == (ANNA, ANNA, BORIS)
    assert await _hand_out(database, 2, first=2) == [ANNA, BORIS]


async def test_a_turn_rolled_back_is_taken_again_the_same(database: Database) -> None:
    """A crash before the commit leaves neither the credits' change nor the turn."""
    await _team(database, (ANNA, 1), (BORIS, 1))
    with pytest.raises(RuntimeError):
        async with database.write() as session:
            lead = Lead(site_key="okna", flexbe_id=1, num=1)
            session.add(lead)
            await session.flush()
            await next_in_turn(session, lead, step=0, hours=HOURS, now=NOW)
            raise RuntimeError("killed")
    assert await _hand_out(database, 2) == [ANNA, BORIS]


@pytest.mark.parametrize("weight", [0, -1, 11, True])
async def test_a_weight_out_of_range_is_refused(database: Database, weight: int) -> None:
    await _team(database, (ANNA, 1))
    async with database.write() as session:
        with pytest.raises(ValueError, match="from 1 to 10"):
            await set_weight(session, ANNA, weight)
        assert await set_weight(session, 999, 2) is None
        manager = await set_weight(session, ANNA, 10)
        assert manager is not None and manager.weight == 10


async def test_concurrent_picks_take_the_turns_one_at_a_time(database: Database) -> None:
    """Picks at once, each in its own transaction (and on PostgreSQL its own connection),
    two of them for each lead: one turn per lead, and the turns in order are the
    round-robin's sequence."""
    await _team(database, (ANNA, 1), (BORIS, 2), (VERA, 1))
    async with database.write() as session:
        leads = [Lead(site_key="okna", flexbe_id=n, num=n) for n in range(1, 13)]
        session.add_all(leads)
    ids = [lead.id for lead in leads if lead.id is not None]

    async def pick(lead_id: int) -> int:
        async with database.write() as session:
            lead = await session.get(Lead, lead_id)
            assert lead is not None
            chosen = await next_in_turn(session, lead, step=0, hours=HOURS, now=NOW)
            assert chosen is not None
            return chosen.telegram_id

    picked = await asyncio.gather(*(pick(lead_id) for lead_id in ids + ids))
    async with database.read() as session:
        turns = await turns_of_site(session, "okna")
    assert [turn.manager_id for turn in turns] == [BORIS, ANNA, VERA, BORIS] * 3
    by_lead = {turn.lead_id: turn.manager_id for turn in turns}
    assert len(turns) == 12 and picked == [by_lead[lead_id] for lead_id in ids + ids]
