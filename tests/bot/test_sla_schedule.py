"""Where a lead's SLA timers land: counted from its arrival in working time, across a
clock change, set once whatever the number of chats; none for a lead already handled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.sla import schedule_lead_timers
from config.sites import SiteTimers
from config.working_time import WorkingHours
from domain.jobs import SLA_ESCALATE, SLA_REMIND, SLA_REMINDER
from domain.statuses import LeadStatus
from storage.database import Database
from storage.models import Job, Lead
from storage.queries.sites import ensure_sites

BERLIN_OFFICE = SiteTimers(
    hours=WorkingHours.parse("Mon-Fri 09:00-19:00", zone="Europe/Berlin"),
    remind_after=timedelta(minutes=15),
    escalate_after=timedelta(hours=1),
    digest_at=None,
)
BEFORE = datetime(2027, 3, 26, 18, 0, tzinfo=UTC)


async def stored_lead(database: Database, *, received_at: datetime, **fields: Any) -> Lead:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Okna")])
        lead = Lead(site_key="okna", flexbe_id=1, received_at=received_at, **fields)
        session.add(lead)
        await session.flush()
        await session.refresh(lead)
        return lead


async def timers(database: Database) -> dict[str, datetime]:
    async with database.read() as session:
        rows = await session.exec(select(Job).order_by(col(Job.id)))
        return {job.kind: job.run_at for job in rows.all()}


async def test_a_friday_evening_lead_waits_for_monday_across_the_clock_change(
    database: Database,
) -> None:
    # Friday 26 March 2027, 18:50 CET; Berlin moves to CEST on Sunday.
    lead = await stored_lead(database, received_at=datetime(2027, 3, 26, 17, 50, tzinfo=UTC))

    for _ in range(2):  # the first card in two chats: one timer each
        async with database.write() as session:
            await schedule_lead_timers(
                session, lead=lead, chat_id=-100, timers=BERLIN_OFFICE, now=BEFORE
            )

    # Ten minutes on Friday; Monday 09:05 CEST and 09:50 CEST, two hours ahead of UTC.
    assert await timers(database) == {
        SLA_REMIND.name: datetime(2027, 3, 29, 7, 5, tzinfo=UTC),
        SLA_ESCALATE.name: datetime(2027, 3, 29, 7, 50, tzinfo=UTC),
    }


async def test_no_timers_for_a_lead_already_taken_or_moved_on(database: Database) -> None:
    taken = await stored_lead(
        database, received_at=datetime(2027, 3, 26, 10, tzinfo=UTC), taken_by=5
    )
    async with database.write() as session:
        await schedule_lead_timers(
            session, lead=taken, chat_id=-100, timers=BERLIN_OFFICE, now=BEFORE
        )
    assert await timers(database) == {}

    async with database.write() as session:
        taken.taken_by, taken.status_code = None, LeadStatus.PROCESSED
        await schedule_lead_timers(
            session, lead=taken, chat_id=-100, timers=BERLIN_OFFICE, now=BEFORE
        )
    assert await timers(database) == {}


async def test_no_timers_when_the_sla_is_off(database: Database) -> None:
    lead = await stored_lead(database, received_at=datetime(2027, 3, 26, 10, tzinfo=UTC))
    off = SiteTimers(BERLIN_OFFICE.hours, remind_after=None, escalate_after=None, digest_at=None)

    async with database.write() as session:
        await schedule_lead_timers(session, lead=lead, chat_id=-100, timers=off, now=BEFORE)

    assert await timers(database) == {}


async def test_a_card_posted_after_the_reminder_was_due_gets_its_reply_at_once(
    database: Database,
) -> None:
    lead = await stored_lead(database, received_at=datetime(2027, 3, 26, 10, tzinfo=UTC))
    late = datetime(2027, 3, 26, 10, 20, tzinfo=UTC)  # 15 minutes have passed

    for chat in (-100, -100, -200):
        async with database.write() as session:
            await schedule_lead_timers(
                session, lead=lead, chat_id=chat, timers=BERLIN_OFFICE, now=late
            )

    async with database.read() as session:
        rows = await session.exec(select(Job).where(Job.kind == SLA_REMINDER.name))
        assert sorted(job.payload["chat_id"] for job in rows.all()) == [-200, -100]
