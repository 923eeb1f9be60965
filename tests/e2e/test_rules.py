"""Speed-to-lead rules: the first matching rule of a site acts on a new lead through the
buttons' own jobs, says so on the card, and a manager's tap afterwards asks for nothing
twice; Cancel call undoes its call. Over HTTP, against the loopback fakes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from config.settings import Settings
from leadrelay.runtime import StartupError, prepare_database
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
    more_of,
    open_stack,
    tap,
)
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN, TOKEN

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@asynccontextmanager
async def ruled(
    database: Database, *rules: Mapping[str, Any], **options: Any
) -> AsyncIterator[Stack]:
    """A stack whose site `okna` has these rules (top-level `[[rules]]` naming it)."""
    settings = {"rules": [{"site": "okna", **rule} for rule in rules], **options}
    clock = settings.pop("clock", None)
    extra = {"clock": clock} if clock is not None else {}
    async with open_stack(database, options=settings, **extra) as stack:
        yield stack


async def send(
    stack: Stack,
    lead_id: int,
    *,
    form: str | None = None,
    page: str | None = None,
    utm_source: str | None = None,
    **fields: Any,
) -> None:
    event = lead_event(lead_id, num=lead_id, **fields)
    if form is not None:
        event["data"]["form_name"] = form
    if page is not None:
        event["data"]["page"]["url"] = page
    if utm_source is not None:
        event["data"]["utm"]["utm_source"] = utm_source
    await stack.post_lead(event)


def call_delays(stack: Stack) -> list[int | None]:
    bodies = [
        c.body if isinstance(c.body, dict) else json.loads(c.body)
        for c in stack.comunik8.calls("lead/add")
    ]
    return [None if "delays" not in body else int(body["delays"]) for body in bodies]


async def test_an_auto_call_rings_once_shows_the_rule_and_can_be_cancelled(
    database: Database,
) -> None:
    async with ruled(database, {"name": "Speed", "do": ["call"]}) as stack:
        await send(stack, 501)

        await eventually(lambda: "Rule «Speed»: Call now: done" in card_text(stack, GROUP, 501))
        assert call_delays(stack) == [None], "at once: the site's own delays"
        await eventually(
            lambda: "Правило «Speed»: Позвонить сейчас: готово" in card_text(stack, RUSSIAN, 501)
        )

        # The manager's tap finds the rule's call: no second one.
        assert (await tap(stack, "📞 Call now", num=501))["text"] == "Already done or in progress."
        # Undone from the card, as a tap's call is.
        assert (await tap(stack, "✖️ Cancel call", num=501))["text"] == "Cancelling the call…"
        await eventually(lambda: "Max: cancel call: done" in card_text(stack, GROUP, 501))
        assert len(stack.comunik8.calls("lead/add")) == 1
        assert len(stack.comunik8.calls("lead/cancel")) == 1


async def test_a_delayed_call_and_a_status_and_the_tap_after_them(database: Database) -> None:
    async with ruled(database, {"name": "Later", "do": ["call:10m", "status:1"]}) as stack:
        await send(stack, 502)

        await eventually(
            lambda: "Rule «Later»: Call in 10 min: done" in card_text(stack, GROUP, 502)
        )
        await eventually(
            lambda: "Rule «Later»: status → Processed: done" in card_text(stack, GROUP, 502)
        )
        [delay] = call_delays(stack)
        assert delay is not None and 590 <= delay <= 600
        assert [change.get("status") for change in stack.flexbe.changes(502)] == ["1"]
        # Processed already: the card offers the next status, not this one again.
        assert "Fulfilled" in buttons(card_of(stack.telegram, GROUP, 502) or {})
        assert "Processed" not in buttons(await more_of(stack, GROUP, num=502))
        answer = await tap(stack, "⏰ Call in 10 min", num=502)
        assert answer["text"] == "Already done or in progress."
        assert len(stack.flexbe.changes(502)) == 1 and len(call_delays(stack)) == 1


async def test_a_deal_once_whoever_asks(database: Database) -> None:
    async with ruled(database, {"name": "CRM", "do": ["deal"]}) as stack:
        await send(stack, 503)

        await eventually(lambda: "Rule «CRM»: 5CRM deal: done" in card_text(stack, GROUP, 503))
        assert (await tap(stack, "📇 5CRM deal", num=503))["text"] == "Already done or in progress."
        assert len(stack.crm5.deals) == 1


async def test_assigned_to_a_manager_who_gets_the_card_in_private(database: Database) -> None:
    async with ruled(database, {"name": "To Max", "do": [f"assign:{MANAGER}"]}) as stack:
        await send(stack, 504)

        await eventually(
            lambda: "Rule «To Max» assigned the lead to Max" in card_text(stack, GROUP, 504)
        )
        # On PostgreSQL a first card read while the rule committed may show the history line
        # first; the card stamp refreshes it (storage.queries.cards.record_first_card).
        await eventually(
            lambda: "👤 Assigned to Max by Rule «To Max» at " in card_text(stack, GROUP, 504)
        )
        # Max's private chat: the card, then the one that says it is his.
        await eventually(
            lambda: (
                sum(
                    "№504" in m["text"] or "#504" in m["text"] for m in stack.telegram.chat(MANAGER)
                )
                == 2
            )
        )
        await eventually(
            lambda: "Правило «To Max» назначило заявку на Max" in card_text(stack, RUSSIAN, 504)
        )
        card = card_of(stack.telegram, GROUP, 504)
        assert card is not None and "✋ Take" not in buttons(card)


async def test_a_repeat_goes_to_the_earlier_leads_owner(database: Database) -> None:
    rules = ({"name": "Returning", "when": {"repeat": True}, "do": ["assign:owner"]},)
    async with ruled(database, *rules) as stack:
        now = int(utcnow().timestamp())
        await send(stack, 505, time=now - 3600)
        await eventually(lambda: card_of(stack.telegram, GROUP, 505) is not None)
        assert (await tap(stack, "✋ Take", num=505))["text"] == "The lead is yours."

        await send(stack, 506, time=now)

        await eventually(
            lambda: "Rule «Returning» assigned the lead to Max" in card_text(stack, GROUP, 506)
        )
        assert "Rule" not in card_text(stack, GROUP, 505), "the first request matched no rule"


async def test_each_kind_of_condition_and_the_first_match_wins(database: Database) -> None:
    rules = (
        {"name": "Quiz", "when": {"form": ["Квиз", "Quiz"]}, "do": ["status:1"]},
        {"name": "Promo", "when": {"page": "/promo"}, "do": ["status:2"]},
        {"name": "Google", "when": {"utm": {"utm_source": "google"}}, "do": ["status:10"]},
        {"name": "Catch-all", "do": ["deal"]},
    )
    async with ruled(database, *rules) as stack:
        await send(stack, 601, form="quiz", phone="+7 999 000-00-01", email="a@example.ru")
        # Both the page and the source match: the rule written first acts, alone.
        await send(
            stack,
            602,
            page="https://okna-spb.ru/promo?x=1",
            utm_source="google",
            phone="+7 999 000-00-02",
            email="b@example.ru",
        )
        await send(stack, 603, utm_source="Google", phone="+7 999 000-00-03", email="c@x.ru")
        await send(stack, 604, phone="+7 999 000-00-04", email="d@example.ru")

        expected = {
            601: "Rule «Quiz»: status → Processed: done",
            602: "Rule «Promo»: status → Fulfilled: done",
            603: "Rule «Google»: status → Cancelled: done",
            604: "Rule «Catch-all»: 5CRM deal: done",
        }
        await eventually(
            lambda: all(line in card_text(stack, GROUP, num) for num, line in expected.items())
        )
        assert [c.get("status") for c in stack.flexbe.changes(602)] == ["2"]
        assert len(stack.crm5.deals) == 1, "only the lead no other rule took"


async def test_outside_working_hours_the_call_waits_for_the_next_working_minute(
    database: Database,
) -> None:
    # Working time is one hour, two days from now: now is outside it, and so is tomorrow.
    now = utcnow()
    opening_day = (now + timedelta(days=2)).date()
    opens = datetime.combine(opening_day, time(9), tzinfo=UTC)
    clock = AheadClock()
    rules = (
        {"name": "Day", "when": {"working_hours": True}, "do": ["status:1"]},
        {"name": "Night", "when": {"working_hours": False}, "do": ["call"]},
    )
    hours = f"{DAY_NAMES[opening_day.weekday()]} 09:00-10:00"
    async with ruled(database, *rules, working_hours=hours, clock=clock) as stack:
        # The worker's clock is a day ahead: still outside, the call waits for 09:00.
        clock.to(now + timedelta(days=1))
        await send(stack, 701)

        shown = opens.strftime("%d.%m %H:%M")
        await eventually(
            lambda: f"Rule «Night»: Call at {shown}: done" in card_text(stack, GROUP, 701)
        )
        [delay] = call_delays(stack)
        assert delay is not None
        assert abs(delay - (opens - utcnow()).total_seconds()) <= 10, "rings at 09:00"
        assert not stack.flexbe.changes(701), "the working-hours rule did not match"

        # Once the worker's clock is inside working time, a call goes at once.
        clock.to(opens + timedelta(minutes=5))
        await send(stack, 702, phone="+7 999 000-00-09", email="z@example.ru")
        await eventually(lambda: "Rule «Night»: Call now: done" in card_text(stack, GROUP, 702))
        assert call_delays(stack)[-1] is None


async def test_a_duplicate_webhook_applies_no_rule_again(database: Database) -> None:
    async with ruled(database, {"name": "Speed", "do": ["call", "deal"]}) as stack:
        event = lead_event(801, num=801)
        stack.flexbe.leads[801] = event["data"]
        for _ in range(3):
            assert (await stack.webhook(event)).status_code == 200

        await eventually(lambda: "Rule «Speed»: 5CRM deal: done" in card_text(stack, GROUP, 801))
        await eventually(lambda: "Rule «Speed»: Call now: done" in card_text(stack, GROUP, 801))
        assert len(stack.comunik8.calls("lead/add")) == 1 and len(stack.crm5.deals) == 1
        assert card_text(stack, GROUP, 801).count("Rule «Speed»") == 2


async def test_a_rule_naming_someone_who_is_no_manager_is_refused_at_start(
    database: Database, database_url: str
) -> None:
    async with open_stack(database):
        pass  # the managers of the stack (Ada, Max, Иван) are in the database now

    with pytest.raises(StartupError) as refused:
        await prepare_database(_settings(database_url, "Ghost", "assign:424242"))
    assert "rule 'Ghost'" in str(refused.value) and "assign:424242" in str(refused.value)

    started = await prepare_database(_settings(database_url, "To Max", f"assign:{MANAGER}"))
    await started.dispose()


def _settings(database_url: str, name: str, action: str) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "telegram_admins": [ADMIN],
        "sites": [{"key": "okna", "webhook_token": TOKEN}],
        "rules": [{"site": "okna", "name": name, "do": [action]}],
    }
    return Settings(_env_file=None, **values)
