"""A lead nobody takes: a reminder under its card, then an alert to each admin, on the
worker's simulated clock. Taking the lead, a status tap or a status change Flexbe reports
stops both; outside working hours the wait stands still."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from domain.jobs import SLA_ALERT, SLA_ESCALATE, SLA_REMIND, SLA_REMINDER
from jobs import signals
from storage.clock import utcnow
from storage.database import Database
from storage.models import Card, Job
from tests.e2e.conftest import (
    AheadClock,
    Stack,
    buttons,
    card_of,
    card_text,
    eventually,
    open_stack,
)
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN

SLA = {"sla_remind_after": "15m", "sla_escalate_after": "30m"}
REMINDER = "⏰ Nobody has taken this lead for"


@contextlib.asynccontextmanager
async def sla_stack(database: Database, clock: AheadClock, **options: Any) -> AsyncIterator[Stack]:
    async with open_stack(
        database, admins=(ADMIN, RUSSIAN), clock=clock, options={**SLA, **options}
    ) as stack:
        yield stack


async def lead_with_card(stack: Stack) -> dict[str, Any]:
    await stack.new_lead(time=int(utcnow().timestamp()) - 60)
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
    card = card_of(stack.telegram, GROUP)
    assert card is not None
    # The card is saved, and the timers set, just after Telegram has it.
    await until(lambda: cards_saved(stack.database))
    return card


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not await check():
        assert datetime.now(UTC) < deadline, "the expected state was not reached in time"
        await asyncio.sleep(0.02)


async def cards_saved(database: Database) -> bool:
    async with database.read() as session:
        return (await session.exec(select(Card))).first() is not None


def reminders(stack: Stack, chat: int = GROUP) -> list[dict[str, Any]]:
    return [m for m in stack.telegram.chat(chat) if m["text"].startswith(REMINDER)]


def alerts(stack: Stack, admin: int = ADMIN) -> list[dict[str, Any]]:
    return [m for m in stack.telegram.chat(admin) if m["text"].startswith("🚨")]


async def jobs_of(database: Database, kind: str) -> list[Job]:
    async with database.read() as session:
        rows = await session.exec(select(Job).where(Job.kind == kind).order_by(col(Job.id)))
        return list(rows.all())


async def settle(stack: Stack, *kinds: str) -> None:
    """Until every job of these kinds has run (the worker's clock passed them)."""
    signals.notify_enqueued()

    async def pending() -> bool:
        for kind in kinds:
            if any(job.status != "done" for job in await jobs_of(stack.database, kind)):
                return True
        return False

    async def done() -> bool:
        return not await pending()

    await until(done)


async def still_waiting(database: Database, kind: str) -> bool:
    """The timer is set and not yet run: not due by the worker's clock."""
    timers = await jobs_of(database, kind)
    return len(timers) == 1 and timers[0].status == "pending"


async def test_untaken_lead_gets_one_reminder_then_one_alert_per_admin(
    database: Database,
) -> None:
    clock = AheadClock()
    async with sla_stack(database, clock) as stack:
        card = await lead_with_card(stack)

        clock.advance(14 * 60)
        assert await still_waiting(database, SLA_REMIND.name)
        assert reminders(stack) == []

        clock.advance(2 * 60)
        signals.notify_enqueued()
        await eventually(lambda: len(reminders(stack)) == 1)
        reminder = reminders(stack)[0]
        assert reminder["reply_to"] == card["message_id"], "a reply to the card, not a new card"
        assert "16 min" in reminder["text"]
        assert alerts(stack) == []

        clock.advance(15 * 60)
        signals.notify_enqueued()
        await eventually(lambda: bool(alerts(stack) and alerts(stack, RUSSIAN)))
        alert = alerts(stack)[0]
        assert "Lead #414 of Окна СПб has waited 31 min" in alert["text"]
        assert "✋ Take" in buttons(alert)
        russian = alerts(stack, RUSSIAN)[0]
        assert "Заявка #414" in russian["text"] and "31 мин" in russian["text"]

        # Hours later, restarts of the timers' jobs aside: still one of each.
        clock.advance(3 * 3600)
        await settle(stack, SLA_REMIND.name, SLA_ESCALATE.name, SLA_REMINDER.name, SLA_ALERT.name)
        assert len(reminders(stack)) == 1
        assert len(alerts(stack)) == 1
        # Its other chats (the admins' private cards) got their one reply too.
        assert len(reminders(stack, ADMIN)) == 1

        # The alert's buttons act on the lead: taking it from there shows on the card.
        stack.telegram.callback_update(ADMIN, ADMIN, alert["message_id"], buttons(alert)["✋ Take"])
        await eventually(lambda: "Ada" in card_text(stack))


async def an_hour_passes_quietly(stack: Stack, clock: AheadClock) -> None:
    """An hour later, once the timers have run: no reminder and no alert."""
    clock.advance(3600)
    await settle(stack, SLA_REMIND.name, SLA_ESCALATE.name)

    assert reminders(stack) == []
    assert alerts(stack) == []


async def test_taking_the_lead_stops_both(database: Database) -> None:
    clock = AheadClock()
    async with sla_stack(database, clock) as stack:
        card = await lead_with_card(stack)
        stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["✋ Take"])
        await eventually(lambda: "✋ Take" not in buttons(card_of(stack.telegram, GROUP) or {}))

        await an_hour_passes_quietly(stack, clock)
        assert await jobs_of(database, SLA_REMINDER.name) == []


async def test_a_status_tap_stops_both(database: Database) -> None:
    clock = AheadClock()
    async with sla_stack(database, clock) as stack:
        card = await lead_with_card(stack)
        stack.telegram.callback_update(
            MANAGER, GROUP, card["message_id"], buttons(card)["Processed"]
        )
        await eventually(lambda: bool(stack.flexbe.calls("changeLead")))

        await an_hour_passes_quietly(stack, clock)


async def test_a_status_change_seen_by_reconcile_stops_both(database: Database) -> None:
    from actions.reconcile import ReconcileSettings, schedule_reconciles

    clock = AheadClock()
    async with sla_stack(database, clock) as stack:
        await lead_with_card(stack)
        stack.flexbe.set_status(1414, 1)  # processed in the Flexbe admin, no webhook

        await schedule_reconciles(
            stack.database, list(stack.settings.effective_sites), ReconcileSettings(), now=utcnow()
        )
        signals.notify_enqueued()
        await eventually(lambda: "Status: Processed" in card_text(stack))

        await an_hour_passes_quietly(stack, clock)


async def test_outside_working_hours_the_wait_starts_next_morning(database: Database) -> None:
    today = utcnow()
    tomorrow = (today + timedelta(days=1)).date()
    day_name = tomorrow.strftime("%a")  # only tomorrow is a working day
    clock = AheadClock()
    async with sla_stack(
        database, clock, working_hours=f"{day_name} 09:00-19:00", timezone="UTC"
    ) as stack:
        await lead_with_card(stack)
        opens = datetime.combine(tomorrow, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)

        (timer,) = await jobs_of(database, SLA_REMIND.name)
        assert timer.run_at == opens + timedelta(minutes=15)

        clock.to(opens + timedelta(minutes=14))
        assert await still_waiting(database, SLA_REMIND.name)
        assert reminders(stack) == []

        clock.to(opens + timedelta(minutes=16))
        signals.notify_enqueued()
        await eventually(lambda: len(reminders(stack)) == 1)
        # Waited: the working minutes only, not the night.
        assert "16 min" in reminders(stack)[0]["text"]
