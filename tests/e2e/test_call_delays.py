"""Comunik8 calls now, in 10 minutes, in an hour, or at the start of the next working
morning (the site's hour, in the team's time zone): sent as `delays` in seconds."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from domain.calls import next_working_morning
from storage.clock import utcnow
from storage.database import Database
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, more_of, open_stack
from tests.e2e.team import GROUP, MANAGER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MOSCOW = ZoneInfo("Europe/Moscow")


def sent_delays(stack: Stack) -> list[int]:
    bodies = [
        c.body if isinstance(c.body, dict) else json.loads(c.body)
        for c in stack.comunik8.calls("lead/add")
    ]
    return [int(body["delays"]) for body in bodies]


async def tap_more(stack: Stack, button: str, user: int = MANAGER) -> None:
    card = await more_of(stack, GROUP, user=user)
    stack.telegram.callback_update(user, GROUP, card["message_id"], buttons(card)[button])


async def test_call_in_an_hour(stack: Stack) -> None:
    await stack.new_lead()
    await eventually(lambda: card_of(stack.telegram, RUSSIAN) is not None)

    await tap_more(stack, "⏰ Call in 1 hour")

    await eventually(lambda: "Call in 1 h: done" in card_text(stack, GROUP))
    [delay] = sent_delays(stack)
    assert 3590 <= delay <= 3600, "an hour from the tap"
    assert stack.telegram.callback_answers[-1]["text"] == "Queuing the call…"
    await eventually(lambda: "Звонок через 1 ч: готово" in card_text(stack, RUSSIAN))


async def test_next_working_morning_at_the_sites_hour_and_one_call_per_double_tap(
    database: Database,
) -> None:
    async with open_stack(database, morning_hour=7, timezone="Europe/Moscow") as stack:
        await stack.new_lead()
        await eventually(lambda: card_of(stack.telegram, RUSSIAN) is not None)
        card = await more_of(stack, GROUP)
        morning = buttons(card)["🌅 Call in the morning, 07:00"]
        tapped_at = utcnow()

        for _ in range(2):
            stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], morning)
        await eventually(lambda: len(stack.telegram.callback_answers) == 3)

        expected = next_working_morning(tapped_at, MOSCOW, 7)
        shown = expected.strftime("%d.%m %H:%M")
        await eventually(lambda: f"Call at {shown}: done" in card_text(stack, GROUP))
        [delay] = sent_delays(stack)
        assert abs(delay - (expected - tapped_at).total_seconds()) <= 10
        assert expected.hour == 7 and expected.weekday() < 5
        answers = sorted(a["text"] for a in stack.telegram.callback_answers[1:])
        assert answers == ["Already done or in progress.", "Queuing the call…"]
        await eventually(lambda: f"Звонок в {shown}: готово" in card_text(stack, RUSSIAN))

        # Cancelled, it may be asked for again: a new call.
        await tap_more(stack, "✖️ Cancel call")
        await eventually(lambda: "Max: cancel call: done" in card_text(stack, GROUP))
        await tap_more(stack, "⏰ Call in 10 min")
        await eventually(lambda: len(stack.comunik8.calls("lead/add")) == 2)
        assert 590 <= sent_delays(stack)[-1] <= 600
