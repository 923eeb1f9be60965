"""Repeat look-ups on both databases: what counts as an earlier lead, and that the look-up
reads the contact indexes instead of the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from storage.database import Database
from storage.models import Lead
from storage.queries.repeats import earlier_leads_query, find_repeat
from storage.queries.sites import ensure_sites

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PHONE, EMAIL = "+79991234567", "ivan@example.ru"


def _lead(flexbe_id: int, at: datetime, *, phone: str = "", email: str = "") -> Lead:
    return Lead(
        site_key="okna" if flexbe_id % 2 else "dveri",
        flexbe_id=flexbe_id,
        num=flexbe_id,
        created_at=at,
        client_phone_normalized=phone,
        client_email_normalized=email,
    )


async def _store(database: Database, leads: list[Lead]) -> list[Lead]:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна"), ("dveri", "Двери")])
        session.add_all(leads)
        await session.flush()
    return leads


async def test_earlier_leads_of_any_site_by_phone_or_email_within_the_window(
    database: Database,
) -> None:
    old, by_phone, by_email, other, later, current = await _store(
        database,
        [
            _lead(1, NOW - timedelta(days=130), phone=PHONE),
            _lead(2, NOW - timedelta(days=30), phone=PHONE),
            _lead(3, NOW - timedelta(days=3), email=EMAIL),
            _lead(4, NOW - timedelta(days=1), phone="+79990000000", email="x@example.ru"),
            _lead(5, NOW + timedelta(hours=1), phone=PHONE),
            _lead(6, NOW, phone=PHONE, email=EMAIL),
        ],
    )
    by_email.taken_by, by_email.taken_by_name = 22, "Max"
    async with database.write() as session:
        session.add(by_email)

    async with database.read() as session:
        repeat = await find_repeat(session, lead=current, window=timedelta(days=90))
        first = await find_repeat(session, lead=by_phone, window=timedelta(days=90))
        none = await find_repeat(session, lead=other, window=timedelta(days=90))

    assert repeat is not None and repeat.is_repeat
    assert repeat.request_number == 3, "the 130-day-old and the later lead do not count"
    assert repeat.latest.id == by_email.id and repeat.first_at == by_phone.created_at
    assert (repeat.owner, repeat.owner_name) == (22, "Max")
    assert first is None, "100 days before it is outside the window"
    assert none is None
    assert old.id is not None and later.id is not None


async def test_no_contact_no_look_up(database: Database) -> None:
    [lead] = await _store(database, [_lead(7, NOW)])
    async with database.read() as session:
        assert await find_repeat(session, lead=lead, window=timedelta(days=90)) is None
    assert earlier_leads_query(lead, timedelta(days=90)) is None


async def test_the_look_up_reads_the_contact_indexes(database: Database) -> None:
    noise = [
        _lead(100 + n, NOW - timedelta(hours=n), phone=f"+7999{n:07d}", email=f"c{n}@example.ru")
        for n in range(2000)
    ]
    *_, current = await _store(database, [*noise, _lead(9, NOW, phone=PHONE, email=EMAIL)])
    found = earlier_leads_query(current, timedelta(days=90))
    assert found is not None
    query, params = found
    async with database.write() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("ANALYZE" if database.is_sqlite else "ANALYZE lead")
        compiled = query.params(params).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
        explain = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN "
        rows = (await connection.execute(text(explain + str(compiled)))).all()
    plan = "\n".join(str(row[-1]) for row in rows)

    assert "ix_lead_client_phone_normalized" in plan, plan
    assert "ix_lead_client_email_normalized" in plan, plan
