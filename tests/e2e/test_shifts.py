"""Who is on shift: a manager who says `/away` (or is outside their own working hours) gets
no new lead's card in private and no lead assigned, by an admin or a rule; the group still
gets every card, their own leads' cards still follow changes, and `/back` ends it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import col, select

from bot.callbacks import AssignTo
from domain.jobs import NOTIFY, RULES_APPLY
from storage.clock import utcnow
from storage.database import Database
from storage.models import Job, Lead, Manager
from testkit.factories import lead_event
from tests.e2e.conftest import Stack, card_of, card_text, eventually, open_stack
from tests.e2e.team import ADMIN, GROUP, MANAGER, RUSSIAN
from tests.e2e.test_admins import says
from tests.e2e.test_owners import labels, open_assign_list
from tests.e2e.test_owners import tap as tap_by

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


async def cards_sent(stack: Stack, lead_num: int) -> set[int]:
    """Once every card job and rule of the leads so far has run: the chats that hold the
    card of lead `lead_num`."""
    kinds = (NOTIFY.name, RULES_APPLY.name)

    async def all_run() -> bool:
        async with stack.database.read() as session:
            jobs = (await session.exec(select(Job).where(col(Job.kind).in_(kinds)))).all()
        return bool(jobs) and all(job.status == "done" for job in jobs)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not await all_run():
        assert loop.time() < deadline, "the card jobs did not all run"
        await asyncio.sleep(0.02)
    return {
        chat
        for chat in (GROUP, ADMIN, MANAGER, RUSSIAN)
        if card_of(stack.telegram, chat, lead_num) is not None
    }


async def test_away_then_back(stack: Stack) -> None:
    answer = await says(stack, MANAGER, "/away")
    assert "away until you send /back" in answer

    await stack.new_lead(1501, num=501)
    assert await cards_sent(stack, 501) == {GROUP, ADMIN, RUSSIAN}

    assert "Welcome back" in await says(stack, MANAGER, "/back")
    await stack.new_lead(1502, num=502)
    assert MANAGER in await cards_sent(stack, 502)
    assert "not away" in await says(stack, MANAGER, "/back")


async def test_an_away_managers_own_lead_still_follows(stack: Stack) -> None:
    event = lead_event(1503, num=503)
    await stack.post_lead(event)
    await eventually(lambda: card_of(stack.telegram, MANAGER, 503) is not None)
    answer = await says(stack, MANAGER, "/away 3d")
    moment = (utcnow() + timedelta(days=3)).strftime("%d.%m.%Y")
    assert f"away until {moment}" in answer

    before = card_text(stack, MANAGER, 503)
    await stack.post_lead(lead_event(1503, num=503, name="Иван Петров-Водкин"))
    # The card in their chat is edited as any other: the lead is theirs to follow.
    await eventually(lambda: "Петров-Водкин" in card_text(stack, MANAGER, 503))
    assert card_text(stack, MANAGER, 503) != before


async def test_away_says_what_to_write(stack: Stack) -> None:
    past = await says(stack, MANAGER, "/away until 01.01.2020")
    assert "That day has passed" in past
    unreadable = await says(stack, MANAGER, "/away someday")
    assert "/away until 14.12" in unreadable
    too_far = await says(stack, MANAGER, "/away 900d")
    assert "At most a year" in too_far
    async with stack.database.read() as session:
        max_ = await session.get(Manager, MANAGER)
    assert max_ is not None and max_.away_from is None, "nothing saved"


async def test_no_lead_is_assigned_to_a_manager_away(stack: Stack) -> None:
    await says(stack, MANAGER, "/away 4h")
    await stack.new_lead()
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)

    listed = await open_assign_list(stack)
    assert "Max" not in labels(listed)
    assert "Иван" in labels(listed)

    # A tap on an older list (or forged) is refused in words.
    card = card_of(stack.telegram, GROUP)
    assert card is not None
    async with stack.database.read() as session:
        lead = (await session.exec(select(Lead))).one()
    assert lead.id is not None
    data = AssignTo(lead_id=lead.id, manager_id=MANAGER).pack()
    answered = len(stack.telegram.callback_answers)
    stack.telegram.callback_update(ADMIN, GROUP, card["message_id"], data)
    await eventually(lambda: len(stack.telegram.callback_answers) > answered)
    assert "away or off shift" in stack.telegram.callback_answers[answered]["text"]
    async with stack.database.read() as session:
        assert (await session.get(Lead, lead.id)).taken_by is None  # type: ignore[union-attr]

    team = await says(stack, ADMIN, "/managers")
    assert "Max — manager, away until " in team
    assert "Иван — manager, on shift" in team
    assert (await tap_by(stack, ADMIN, GROUP, "Иван"))["text"] == "Assigned to Иван."


async def test_outside_their_own_hours_a_manager_gets_no_new_card(database: Database) -> None:
    # Max works only on days other than today; the site itself works all week.
    today = WEEKDAYS[utcnow().weekday()]
    other = WEEKDAYS[(utcnow().weekday() + 1) % 7]
    assert today != other
    async with open_stack(database) as stack:
        async with stack.database.write() as session:
            max_ = await session.get(Manager, MANAGER)
            assert max_ is not None
            max_.working_hours = f"{other} 00:00-24:00"
            session.add(max_)
        await stack.new_lead(1504, num=504)
        assert await cards_sent(stack, 504) == {GROUP, ADMIN, RUSSIAN}
        assert "Max — manager, off shift" in await says(stack, ADMIN, "/managers")


async def test_a_rule_assigns_no_lead_to_a_manager_away(database: Database) -> None:
    rules = [{"site": "okna", "name": "To Max", "do": [f"assign:{MANAGER}"]}]
    async with open_stack(database, options={"rules": rules}) as stack:
        await says(stack, MANAGER, "/away")
        await stack.new_lead(1505, num=505)
        await cards_sent(stack, 505)
        async with stack.database.read() as session:
            lead = (await session.exec(select(Lead))).one()
        assert lead.taken_by is None
        assert "Rule «To Max»" not in card_text(stack, GROUP, 505)
