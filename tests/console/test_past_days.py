"""The overview's chart keeps finished days' counts a few minutes, and today's never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.past_days import KEEP_SECONDS, PastDays
from storage.database import Database
from storage.models import Lead
from storage.queries.sites import ensure_sites

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = [DAY0 + timedelta(days=n) for n in range(4)]  # three days: two past, today
NOW = DAYS[2] + timedelta(hours=12)


async def add_lead(database: Database, flexbe_id: int, created_at: datetime) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
        session.add(Lead(site_key="okna", flexbe_id=flexbe_id, created_at=created_at))


async def test_past_days_are_kept_and_today_is_read(database: Database) -> None:
    seconds = [0.0]
    chart = PastDays(clock=lambda: seconds[0])
    await add_lead(database, 1, DAY0 + timedelta(hours=3))
    async with database.read() as session:
        assert await chart.counts(session, days=DAYS, now=NOW) == [1, 0, 0]

    await add_lead(database, 2, DAY0 + timedelta(hours=5))  # a sync adds to a past day
    await add_lead(database, 3, NOW)
    async with database.read() as session:
        assert await chart.counts(session, days=DAYS, now=NOW) == [1, 0, 1]
    seconds[0] = KEEP_SECONDS + 1
    async with database.read() as session:
        assert await chart.counts(session, days=DAYS, now=NOW) == [2, 0, 1]
