"""The daily digest on the worker's simulated clock: one message per chat and working day,
about the day before, at the local time across a clock change, never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.config import BotConfig
from bot.digest import schedule_digests
from domain.jobs import DIGEST
from jobs import signals
from storage.clock import utcnow
from storage.database import Database
from storage.models import Job
from tests.e2e.conftest import AheadClock, Stack, buttons, card_of, eventually, open_stack
from tests.e2e.team import GROUP, MANAGER


def digests(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.telegram.chat(GROUP) if m["text"].startswith("<b>Digest of")]


async def digest_timers(database: Database) -> list[Job]:
    async with database.read() as session:
        rows = await session.exec(select(Job).where(Job.kind == DIGEST.name).order_by(col(Job.id)))
        return list(rows.all())


async def start(stack: Stack, clock: AheadClock) -> int:
    """What the worker does at start: set each chat's digest if missing."""
    created = await schedule_digests(
        stack.database, BotConfig.from_settings(stack.settings), now=clock()
    )
    signals.notify_enqueued()
    return created


async def test_one_digest_a_day_about_the_day_before(database: Database) -> None:
    clock = AheadClock()
    today = utcnow().date()
    async with open_stack(database, clock=clock, options={"digest_at": "09:00"}) as stack:
        await stack.new_lead(1414, time=int(utcnow().timestamp()) - 60)
        await stack.new_lead(1415, time=int(utcnow().timestamp()) - 30)
        await eventually(lambda: card_of(stack.telegram, GROUP, 414) is not None)
        await eventually(lambda: card_of(stack.telegram, GROUP, 415) is not None)
        card = card_of(stack.telegram, GROUP, 414)
        assert card is not None
        stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["✋ Take"])
        await eventually(
            lambda: "✋ Take" not in buttons(card_of(stack.telegram, GROUP, 414) or {})
        )

        clock.to(datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
        clock.advance(9 * 3600 + 30)
        assert await start(stack, clock) == 1

        await eventually(lambda: len(digests(stack)) == 1)
        text = digests(stack)[0]["text"]
        assert f"Digest of {today:%d.%m.%Y}" in text
        assert "Leads: 2" in text and "Still untaken: 1" in text
        assert "Max — 1 taken" in text

        # A restart sets nothing new: today's was sent, tomorrow's is set.
        assert await start(stack, clock) == 0
        timers = await digest_timers(database)
        assert [job.payload["day"] for job in timers] == [
            (today + timedelta(days=1)).isoformat(),
            (today + timedelta(days=2)).isoformat(),
        ]

        clock.advance(24 * 3600)
        signals.notify_enqueued()
        await eventually(lambda: len(digests(stack)) == 2)
        assert "Leads: 0" in digests(stack)[1]["text"]


async def test_the_digest_keeps_local_time_across_a_clock_change(database: Database) -> None:
    """28 March 2027: Berlin moves from CET to CEST over the weekend."""
    clock = AheadClock()
    options = {
        "digest_at": "09:00",
        "timezone": "Europe/Berlin",
        "working_hours": "Mon-Fri 09:00-19:00",
    }
    async with open_stack(database, clock=clock, options=options) as stack:
        clock.to(datetime(2027, 3, 26, 7, 0, tzinfo=UTC))  # Friday 08:00 CET
        assert await start(stack, clock) == 1
        (friday,) = await digest_timers(database)
        assert friday.run_at == datetime(2027, 3, 26, 8, 0, tzinfo=UTC)

        clock.to(datetime(2027, 3, 26, 8, 1, tzinfo=UTC))
        signals.notify_enqueued()
        await eventually(lambda: len(digests(stack)) == 1)
        assert "Digest of 25.03.2027" in digests(stack)[0]["text"]

        # No digest at the weekend; Monday's at 09:00 CEST, 07:00 UTC.
        monday = (await digest_timers(database))[-1]
        assert monday.payload["day"] == date(2027, 3, 29).isoformat()
        assert monday.run_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)

        clock.to(datetime(2027, 3, 29, 7, 1, tzinfo=UTC))
        signals.notify_enqueued()
        await eventually(lambda: len(digests(stack)) == 2)
        assert "Digest of 26.03.2027" in digests(stack)[1]["text"]


async def test_after_days_down_one_digest_not_one_per_day(database: Database) -> None:
    clock = AheadClock()
    async with open_stack(database, clock=clock, options={"digest_at": "09:00"}) as stack:
        clock.to(datetime(2027, 5, 3, 8, 0, tzinfo=UTC))
        assert await start(stack, clock) == 1  # Monday's, due at 09:00

        # The service comes back on Friday afternoon: Monday's timer is found late.
        clock.to(datetime(2027, 5, 7, 15, 0, tzinfo=UTC))
        signals.notify_enqueued()
        await eventually(lambda: len(digests(stack)) == 1)
        assert "Digest of 06.05.2027" in digests(stack)[0]["text"]
        assert await start(stack, clock) == 0
