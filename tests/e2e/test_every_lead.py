"""Every live lead gets its SLA timers and its rule, however it arrived: shown in a burst
summary instead of a card, recovered by reconcile (as a card, or in its summary of many).
A lead of a `sync` backfill gets neither. On the worker's simulated clock, over HTTP
against the loopback fakes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from actions.clients import flexbe_client_for
from actions.reconcile import ReconcileSettings, schedule_reconciles
from actions.sync import sync_site
from domain.jobs import RULES_APPLY, SLA_ALERT, SLA_ESCALATE, SLA_REMIND, SLA_REMINDER
from jobs import signals
from storage.clock import utcnow
from storage.database import Database
from testkit.factories import lead_event
from tests.e2e.conftest import (
    AheadClock,
    Stack,
    buttons,
    card_of,
    card_text,
    eventually,
    open_stack,
)
from tests.e2e.team import ADMIN, GROUP, RUSSIAN
from tests.e2e.test_sla import SLA, alerts, jobs_of, reminders, settle

# A group that takes 5 messages a minute: a burst of 10 leads is mostly a summary.
SLOW_GROUP = {
    "telegram_chat_per_second": 1,
    "telegram_group_per_minute": 5,
    "telegram_per_second": 25,
}
BURST = range(300, 310)
SPEED = {"rules": [{"site": "okna", "name": "Speed", "do": ["call"]}]}
TIMERS = (SLA_REMIND.name, SLA_ESCALATE.name, SLA_REMINDER.name, SLA_ALERT.name)


def summaries(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.telegram.chat(GROUP) if m["text"].startswith("<b>New leads:")]


def listed_reminders(stack: Stack, num: int, chat: int = GROUP) -> list[dict[str, Any]]:
    """Reminders of a lead shown without a card: replies to the summary, naming it."""
    return [
        m
        for m in stack.telegram.chat(chat)
        if m["text"].startswith(f"⏰ Nobody has taken lead #{num} for")
    ]


def alerts_of(stack: Stack, num: int, admin: int = ADMIN) -> list[dict[str, Any]]:
    """The admin's alerts about lead `num`, in English or Russian."""
    named = (f"Lead #{num} ", f"Заявка #{num} ")
    return [m for m in alerts(stack, admin) if any(name in m["text"] for name in named)]


async def advance_until(
    clock: AheadClock, check: Any, *, step: float = 60, steps: int = 10
) -> None:
    """Move the clock on a step at a time (the chats' rate limits run on it too) until
    `check()` holds."""
    for _ in range(steps):
        signals.notify_enqueued()
        try:
            await eventually(check, timeout=2)
        except AssertionError:
            clock.advance(step)
        else:
            return
    await eventually(check)


async def run_out_timers(stack: Stack, clock: AheadClock, *, step: float = 60) -> None:
    """Until every timer and its messages have run, moving the clock on a minute at a time
    while they wait: the group's rate limit (5 messages a minute here) runs on it too, so a
    fixed clock would let a few reminders out and hold the rest."""

    async def all_done() -> bool:
        for kind in TIMERS:
            if any(job.status != "done" for job in await jobs_of(stack.database, kind)):
                return False
        return True

    loop = asyncio.get_running_loop()
    for _ in range(30):
        signals.notify_enqueued()
        deadline = loop.time() + 2
        while loop.time() < deadline:
            if await all_done():
                return
            await asyncio.sleep(0.05)
        clock.advance(step)
    raise AssertionError("the timers and their messages did not all run")


async def test_a_summarised_lead_nobody_takes_gets_one_reminder_and_one_escalation(
    database: Database,
) -> None:
    clock = AheadClock()
    async with open_stack(
        database,
        admins=(ADMIN, RUSSIAN),
        clock=clock,
        options=SLA,
        overrides=SLOW_GROUP,
    ) as stack:
        time = int(utcnow().timestamp()) - 60
        await asyncio.gather(*(stack.new_lead(9000 + num, num=num, time=time) for num in BURST))
        await eventually(lambda: bool(summaries(stack)), timeout=30)
        [summary] = summaries(stack)
        listed = sorted(int(label.lstrip("#")) for label in buttons(summary))
        assert listed, "the burst was summarised"
        num = listed[-1]
        assert card_of(stack.telegram, GROUP, num) is None, "shown in the summary only"
        # Each lead of the burst has its timers, one of each, summarised or not.
        await settle_timers_set(stack, len(BURST))

        clock.advance(16 * 60)
        await advance_until(clock, lambda: bool(listed_reminders(stack, num)))
        [reminder] = listed_reminders(stack, num)
        assert reminder["reply_to"] == summary["message_id"], "a reply to its summary"
        assert list(buttons(reminder)) == [f"#{num}"], "its button opens the card"

        clock.to(utcnow() + timedelta(minutes=31))
        await advance_until(
            clock, lambda: bool(alerts_of(stack, num) and alerts_of(stack, num, RUSSIAN))
        )

        # Hours later: still one reminder in the group and one alert per admin.
        clock.advance(3 * 3600)
        await run_out_timers(stack, clock)
        assert len(listed_reminders(stack, num)) == 1
        assert len(alerts_of(stack, num)) == 1
        assert len(alerts_of(stack, num, RUSSIAN)) == 1
        # And every lead of the burst got its one reminder in the group, card or summary.
        group_reminders = [m for m in stack.telegram.chat(GROUP) if m["text"].startswith("⏰")]
        assert len(group_reminders) == len(BURST)

        # Opening the card from the reminder: the card is posted, no second reminder.
        stack.telegram.callback_update(
            ADMIN, GROUP, reminder["message_id"], buttons(reminder)[f"#{num}"]
        )
        # The group's 5 messages a minute are spent: the card waits for the clock to move.
        await advance_until(clock, lambda: card_of(stack.telegram, GROUP, num) is not None)
        clock.advance(3600)
        await run_out_timers(stack, clock)
        assert len(listed_reminders(stack, num)) == 1
        assert not [m for m in reminders(stack) if m.get("reply_to") == card_msg(stack, num)]


def card_msg(stack: Stack, num: int) -> int | None:
    card = card_of(stack.telegram, GROUP, num)
    return None if card is None else int(card["message_id"])


async def settle_timers_set(stack: Stack, leads: int) -> None:
    async def each_has_one() -> bool:
        for kind in (SLA_REMIND.name, SLA_ESCALATE.name):
            timers = await jobs_of(stack.database, kind)
            if len({job.payload["lead_id"] for job in timers}) != leads or len(timers) != leads:
                return False
        return True

    deadline = asyncio.get_running_loop().time() + 30
    while not await each_has_one():
        assert asyncio.get_running_loop().time() < deadline, "timers not set for each lead"
        await asyncio.sleep(0.05)


async def reconcile(stack: Stack, *, minutes_on: int = 0) -> None:
    """A reconcile run of the site now (or in a later interval)."""
    await schedule_reconciles(
        stack.database,
        list(stack.settings.effective_sites),
        ReconcileSettings(),
        now=utcnow() + timedelta(minutes=minutes_on),
    )
    signals.notify_enqueued()


def missed_lead(stack: Stack, lead_id: int, num: int) -> None:
    """A lead Flexbe has whose webhook never came."""
    event = lead_event(lead_id, num=num, time=int(utcnow().timestamp()) - 120)
    stack.flexbe.leads[lead_id] = event["data"]


async def test_a_recovered_lead_gets_its_rule_and_its_reminder_once(database: Database) -> None:
    clock = AheadClock()
    async with open_stack(
        database, admins=(ADMIN,), clock=clock, options={**SLA, **SPEED}
    ) as stack:
        missed_lead(stack, 4141, 441)
        await reconcile(stack)

        await eventually(lambda: "Rule «Speed»: Call now: done" in card_text(stack, GROUP, 441))
        assert len(stack.comunik8.calls("lead/add")) == 1
        card = card_of(stack.telegram, GROUP, 441)
        assert card is not None

        # The rule's call counts as acting on the lead: no reminder follows it. A lead the
        # rule leaves alone is reminded (the next test); this one was rung once, and the
        # next reconcile, which sees it again, rings nobody.
        await reconcile(stack, minutes_on=10)
        clock.advance(3600)
        await settle(stack, RULES_APPLY.name, *TIMERS)
        assert len(stack.comunik8.calls("lead/add")) == 1
        assert len(await jobs_of(stack.database, RULES_APPLY.name)) == 1


async def test_a_recovered_lead_nobody_takes_gets_one_reminder(database: Database) -> None:
    clock = AheadClock()
    # A rule that matches nothing: the lead is the rule's to judge, then the timers'.
    unmatched = {
        "rules": [
            {"site": "okna", "name": "Ads", "when": {"utm": {"utm_source": "ads"}}, "do": ["call"]}
        ]
    }
    async with open_stack(
        database, admins=(ADMIN,), clock=clock, options={**SLA, **unmatched}
    ) as stack:
        missed_lead(stack, 4142, 442)
        await reconcile(stack)
        await eventually(lambda: card_of(stack.telegram, GROUP, 442) is not None)
        card = card_of(stack.telegram, GROUP, 442)
        assert card is not None
        await settle_timers_set(stack, 1)
        assert len(await jobs_of(stack.database, RULES_APPLY.name)) == 1

        clock.advance(16 * 60)
        signals.notify_enqueued()
        await eventually(lambda: len(reminders(stack)) == 1)
        assert reminders(stack)[0]["reply_to"] == card["message_id"]
        clock.advance(15 * 60)
        signals.notify_enqueued()
        await eventually(lambda: len(alerts(stack)) == 1)

        await reconcile(stack, minutes_on=10)
        clock.advance(3 * 3600)
        await settle(stack, RULES_APPLY.name, *TIMERS)
        assert len(reminders(stack)) == 1
        assert len(alerts(stack)) == 1
        assert stack.comunik8.calls("lead/add") == []


async def test_leads_recovered_in_a_summary_get_their_reminders_under_it(
    database: Database,
) -> None:
    clock = AheadClock()
    async with open_stack(
        database,
        admins=(ADMIN,),
        clock=clock,
        options=SLA,
        overrides={"reconcile_flood_threshold": 1},
    ) as stack:
        missed_lead(stack, 4143, 443)
        missed_lead(stack, 4144, 444)
        await reconcile(stack)
        await eventually(
            lambda: any("recovered now" in m["text"] for m in stack.telegram.chat(GROUP))
        )
        recovered = next(m for m in stack.telegram.chat(GROUP) if "recovered now" in m["text"])
        assert card_of(stack.telegram, GROUP, 443) is None
        await settle_timers_set(stack, 2)

        clock.advance(16 * 60)
        await advance_until(
            clock, lambda: bool(listed_reminders(stack, 443) and listed_reminders(stack, 444))
        )
        clock.advance(3 * 3600)
        await run_out_timers(stack, clock)
        for num in (443, 444):
            [reminder] = listed_reminders(stack, num)
            assert reminder["reply_to"] == recovered["message_id"]
            assert len(alerts_of(stack, num)) == 1


async def test_a_sync_backfill_rings_no_one_and_reminds_no_one(database: Database) -> None:
    clock = AheadClock()
    async with open_stack(
        database, admins=(ADMIN,), clock=clock, options={**SLA, **SPEED}
    ) as stack:
        # An old lead and one of the last hour (whose card `sync` still posts).
        old = lead_event(5001, num=501, time=int((utcnow() - timedelta(days=20)).timestamp()))
        fresh = lead_event(5002, num=502, time=int(utcnow().timestamp()) - 600)
        stack.flexbe.leads[5001] = old["data"]
        stack.flexbe.leads[5002] = fresh["data"]
        site = stack.settings.effective_sites[0]
        # What `leadrelay sync --since 30d` runs.
        async with flexbe_client_for(site) as client:
            summary = await sync_site(
                database=stack.database,
                client=client,
                site_key=site.key,
                chats=site.chats,
                since=utcnow() - timedelta(days=30),
                region=site.region,
            )
        assert summary.new == 2
        signals.notify_enqueued()
        await eventually(lambda: card_of(stack.telegram, GROUP, 502) is not None)

        clock.advance(3 * 3600)
        await run_out_timers(stack, clock)
        await asyncio.sleep(0.2)
        assert await jobs_of(stack.database, SLA_REMIND.name) == []
        assert await jobs_of(stack.database, SLA_ESCALATE.name) == []
        assert await jobs_of(stack.database, RULES_APPLY.name) == []
        assert stack.comunik8.calls("lead/add") == []
        assert reminders(stack) == []
        assert alerts(stack) == []
