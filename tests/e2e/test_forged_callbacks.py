"""A tap whose callback data carries an id past its column (a forged button): the bot says
the button is out of date, nothing else happens, and the real buttons go on working.
On PostgreSQL a lead or job id is 32 bits, so 2**31 is already past it."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Job
from storage.ranges import INT32_MAX
from tests.e2e.conftest import Stack, buttons, card_text, eventually
from tests.e2e.team import ADMIN, GROUP, MANAGER

FORGED = [
    (MANAGER, f"la:take:{INT32_MAX + 1}"),
    (MANAGER, f"la:st10:{2**63}"),
    (MANAGER, f"la:deal:{-(2**31) - 1}"),
    (MANAGER, "la:call:" + "9" * 40),
    (MANAGER, f"ol:{2**63}"),
    (MANAGER, f"lp:today:{INT32_MAX + 1}"),
    (ADMIN, f"dj:retry:{2**63}"),
    (ADMIN, f"dj:discard:{INT32_MAX + 1}"),
]


async def test_forged_ids_in_callback_data_are_out_of_date_buttons(stack: Stack) -> None:
    card = await stack.new_card()
    async with stack.database.read() as session:
        jobs_before = len((await session.exec(select(Job))).all())

    for user, data in FORGED:
        stack.telegram.callback_update(user, GROUP, card["message_id"], data)
    await eventually(lambda: len(stack.telegram.callback_answers) == len(FORGED))

    answers = [answer["text"] for answer in stack.telegram.callback_answers]
    assert answers == ["This button is out of date."] * len(FORGED)
    async with stack.database.read() as session:
        assert len((await session.exec(select(Job))).all()) == jobs_before

    # The same chat's real button still works afterwards.
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["✋ Take"])
    await eventually(lambda: "Taken by Max" in card_text(stack))


async def test_lead_command_with_no_plain_number_gets_the_usage(stack: Stack) -> None:
    for argument in ("²", "99999999999999999999", "-1", "4 14"):
        stack.telegram.message_update(MANAGER, f"/lead {argument}")
    usage = "Use /lead and the lead number, e.g. /lead 414."

    await eventually(lambda: [m["text"] for m in stack.telegram.chat(MANAGER)].count(usage) == 4)
