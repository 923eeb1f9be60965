"""`/find`'s and `/stats`' queries, on SQLite and PostgreSQL: a name in any case (Cyrillic
too) with wildcards taken literally, a phone by its normalized form, paging both ways,
payments by their date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integrations.emails import normalize_email
from storage.database import Database
from storage.queries.leads import LeadSnapshot
from storage.queries.reports import LeadFilter, count_leads, leads_page, paid_between
from storage.queries.search import LeadQuery, find_leads
from storage.queries.sites import ensure_sites
from tests.storage.test_leads import put

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


async def seed(database: Database) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
    for n, (name, phone, email) in enumerate(
        [
            ("Анна Иванова", "+79123456789", "anna@example.ru"),
            ("100% Окна_СПб", "+79990001122", "b@example.ru"),
            ("Bob Stone", "", "BOB@Example.com"),
        ],
        start=1,
    ):
        await put(
            database,
            LeadSnapshot(
                flexbe_id=n,
                num=n,
                client_name=name,
                client_phone_normalized=phone,
                client_email=email,
                client_email_normalized=normalize_email(email),
                created_at=NOW - timedelta(days=n),
            ),
        )


async def nums(database: Database, query: LeadQuery) -> list[int | None]:
    async with database.read() as session:
        found = await find_leads(session, query=query, sites=[], limit=10)
    return [lead.num for lead in found]


async def test_find_by_each_part(database: Database) -> None:
    await seed(database)
    assert await nums(database, LeadQuery(name="анна")) == [1]
    assert await nums(database, LeadQuery(name="ИВАНОВА")) == [1]
    assert await nums(database, LeadQuery(name="иванова")) == [1]
    assert await nums(database, LeadQuery(name="stone")) == [3]
    assert await nums(database, LeadQuery(name="100%")) == [2]
    assert await nums(database, LeadQuery(name="%")) == [2], "% is a character, not any"
    assert await nums(database, LeadQuery(name="ок_а")) == [], "_ is a character, not any"
    assert await nums(database, LeadQuery(phones=("+79123456789",))) == [1]
    assert await nums(database, LeadQuery(email="bob@example.COM")) == [3]
    assert await nums(database, LeadQuery(num=2, name="stone")) == [3, 2]
    assert await nums(database, LeadQuery()) == []


async def test_pages_both_ways_and_counts(database: Database) -> None:
    await seed(database)
    where = LeadFilter(sites=["okna"])
    async with database.read() as session:
        newest = await leads_page(session, where=where, limit=2)
        older = await leads_page(session, where=where, before_id=newest[-1].id, limit=2)
        back = await leads_page(session, where=where, after_id=older[0].id, limit=2)
        total = await count_leads(session, where=where)
        above = await count_leads(session, where=where, newer_than=older[0].id)
    assert [lead.num for lead in newest] == [3, 2]
    assert [lead.num for lead in older] == [1]
    assert [lead.num for lead in back] == [3, 2]
    assert (total, above) == (3, 2)


async def test_payments_count_by_their_date(database: Database) -> None:
    await seed(database)
    await put(
        database,
        LeadSnapshot(
            flexbe_id=9,
            num=9,
            created_at=NOW - timedelta(days=40),
            pay_summ="100",
            pay_status_code=2,
            pay_time_done=NOW - timedelta(hours=1),
        ),
    )
    async with database.read() as session:
        today = await paid_between(
            session, since=NOW - timedelta(hours=12), until=NOW, sites=["okna"]
        )
        earlier = await paid_between(
            session, since=NOW - timedelta(days=50), until=NOW - timedelta(hours=12), sites=[]
        )
    assert [lead.num for lead in today] == [9]
    assert earlier == []
