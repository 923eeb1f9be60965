"""Leads handed out in turn (`assign:next`): the managers on shift in a weighted
round-robin, exactly in the expected order; a repeat whose earlier owner is away goes to
the next in turn; with nobody on shift the lead stays in the group and each admin is told
once. Over HTTP, against the loopback fakes, on a controlled clock."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

from jobs import signals
from storage.clock import utcnow
from storage.database import Database
from storage.queries.team import set_weight
from testkit.factories import lead_event
from tests.e2e.conftest import (
    AheadClock,
    Stack,
    buttons,
    card_of,
    card_text,
    eventually,
    open_stack,
    tap,
)
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN
from tests.e2e.test_admins import says
from tests.e2e.test_rules import DAY_NAMES, ruled, send

IN_TURN = {"name": "In turn", "do": ["assign:next"]}


def has_text(stack: Stack, chat: int, words: str) -> bool:
    return any(words in m["text"] for m in stack.telegram.chat(chat))


async def owner_on_card(stack: Stack, num: int, rule: str = "In turn") -> str:
    """The group's card of lead `num` once the rule assigned it: to whom."""
    said = f"Rule «{rule}» assigned the lead to "
    await eventually(lambda: said in card_text(stack, GROUP, num))
    found = re.search(re.escape(said) + r"(\S+)", card_text(stack, GROUP, num))
    assert found is not None
    return found[1]


async def hand_out(stack: Stack, *nums: int) -> list[str]:
    """Each lead sent once the one before it was assigned: who got each."""
    owners = []
    for num in nums:
        await send(stack, num, phone=f"+7 999 100-{num % 10000:04d}", email=f"{num}@example.ru")
        owners.append(await owner_on_card(stack, num))
    return owners


async def test_in_turn_by_weight_skipping_the_manager_away(database: Database) -> None:
    clock = AheadClock()
    async with ruled(database, IN_TURN, clock=clock) as stack:
        async with stack.database.write() as session:
            await set_weight(session, MANAGER, 2)
        assert "/back" in await says(stack, RUSSIAN, "/away")

        # Ada (1) and Max (2); Иван away: Max twice for each of Ada's, spread out.
        assert await hand_out(stack, 901, 902, 903, 904, 905, 906) == ["Max", "Ada", "Max"] * 2

        await says(stack, RUSSIAN, "/back")
        clock.advance(60)
        # Иван back, everyone at a whole round: Max, Ada, Иван, Max.
        assert await hand_out(stack, 907, 908, 909, 910) == ["Max", "Ada", "Иван", "Max"]
        card = card_of(stack.telegram, GROUP, 910)
        assert card is not None and "✋ Take" not in buttons(card)


async def test_a_repeat_whose_owner_is_away_goes_to_the_next_in_turn(database: Database) -> None:
    rules = (
        {"name": "Returning", "when": {"repeat": True}, "do": ["assign:owner"]},
        {"name": "In turn", "do": ["assign:next"]},
    )
    async with ruled(database, *rules, clock=AheadClock()) as stack:
        now = int(utcnow().timestamp())
        await send(stack, 921, time=now - 3600)
        assert await owner_on_card(stack, 921) == "Ada"
        # The repeat of a lead Max took, while Max is at work: his.
        await send(stack, 922, time=now - 1800, phone="+7 999 222-22-22", email="m@example.ru")
        assert await owner_on_card(stack, 922) == "Max"
        await send(stack, 923, time=now - 900, phone="+7 999 222-22-22", email="m@example.ru")
        assert await owner_on_card(stack, 923, "Returning") == "Max"

        await says(stack, MANAGER, "/away")
        await send(stack, 924, time=now, phone="+7 999 222-22-22", email="m@example.ru")
        # Max away: the next in turn (Ada and Max had one turn each; Иван none yet).
        assert await owner_on_card(stack, 924, "Returning") == "Иван"


async def test_nobody_on_shift_leaves_the_lead_to_the_group_and_tells_each_admin_once(
    database: Database,
) -> None:
    # Working time is one hour, two days from now: nobody is on shift now.
    opening_day = (utcnow() + timedelta(days=2)).date()
    hours = f"{DAY_NAMES[opening_day.weekday()]} 09:00-10:00"
    options = {"rules": [{"site": "okna", **IN_TURN}], "working_hours": hours}
    admins = (ADMIN, RUSSIAN)
    async with open_stack(database, admins=admins, options=options, clock=AheadClock()) as stack:
        await stack.post_lead(lead_event(931, num=931))
        told = {
            ADMIN: "Nobody is on shift to be given lead #931 of Окна СПб",
            RUSSIAN: "Некому на смене передать заявку #931 сайта Окна СПб",
        }
        for admin, words in told.items():
            await eventually(partial(has_text, stack, admin, words))
        card = card_of(stack.telegram, GROUP, 931)
        assert card is not None and "✋ Take" in buttons(card)
        assert "assigned the lead" not in card_text(stack, GROUP, 931)

        # The same lead again (a duplicate webhook, an edit) tells nobody twice.
        await stack.post_lead(lead_event(931, num=931, name="Пётр"))
        await eventually(lambda: "Пётр" in card_text(stack, GROUP, 931))
        for admin, words in told.items():
            assert sum(words in m["text"] for m in stack.telegram.chat(admin)) == 1
        assert not any("#931" in m["text"] for m in stack.telegram.chat(MANAGER)), "admins only"
        # An admin can still take it from the group's card.
        assert (await tap(stack, "✋ Take", num=931))["text"] == "The lead is yours."


async def test_a_lead_taken_back_goes_to_the_next_in_turn_not_its_former_owner(
    database: Database,
) -> None:
    clock = AheadClock()
    async with ruled(database, IN_TURN, clock=clock, sla_take_back_after="30m") as stack:
        assert await hand_out(stack, 951) == ["Ada"]

        clock.advance(31 * 60)
        # (Max's new wait is pending: nothing to settle, only to wake the worker.)
        signals.notify_enqueued()
        # Back from Ada, on to the next in turn: Max (Ada is left out of this hand-out).
        await eventually(
            lambda: "Rule «In turn» assigned the lead to Max" in card_text(stack, GROUP, 951)
        )
        assert "Taken back from Ada after 30 min without action" in card_text(stack, GROUP, 951)
        await eventually(lambda: card_of(stack.telegram, MANAGER, 951) is not None)
