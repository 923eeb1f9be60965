"""Leads are shown only where they belong: in the chats of their site or in a manager's own
private chat. A manager in an unrelated group gets a refusal and no client's data."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.callbacks import LeadsPage, OpenLead
from storage.models import Invite, Job, Lead
from tests.e2e.conftest import Stack, buttons, card_of, eventually
from tests.e2e.team import ADMIN, GROUP, MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

UNRELATED = -1009999  # a group the bot is in that gets no site's leads
NOT_HERE = "This chat gets no leads of your sites"


def texts(stack: Stack, chat: int) -> list[str]:
    return [m["text"] for m in stack.telegram.chat(chat)]


async def jobs_for_chat(stack: Stack, chat: int) -> list[Job]:
    async with stack.database.read() as session:
        return list((await session.exec(select(Job).where(Job.queue == f"tg:{chat}"))).all())


async def test_commands_in_an_unrelated_group_show_no_lead(stack: Stack) -> None:
    await stack.new_lead(1414, name="Клиент Тайный")
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)

    for command in ("/leads new", "/lead 414", "/stats week"):
        expected = len(texts(stack, UNRELATED)) + 1
        stack.telegram.message_update(MANAGER, command, chat_id=UNRELATED)
        await eventually(lambda: len(texts(stack, UNRELATED)) == expected)  # noqa: B023
        assert NOT_HERE in texts(stack, UNRELATED)[-1]

    assert not any("Тайный" in text or "414" in text for text in texts(stack, UNRELATED))
    assert await jobs_for_chat(stack, UNRELATED) == [], "no card is queued for that chat"


async def test_the_same_commands_work_in_the_sites_chat_and_in_private(stack: Stack) -> None:
    await stack.new_lead(1414, name="Клиент Тайный")
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
    cards_in_group = len([t for t in texts(stack, GROUP) if "#414" in t])

    stack.telegram.message_update(MANAGER, "/leads new", chat_id=GROUP)
    stack.telegram.message_update(MANAGER, "/lead 414", chat_id=GROUP)
    stack.telegram.message_update(MANAGER, "/leads new")

    await eventually(lambda: any("Тайный" in t and "Leads" in t for t in texts(stack, GROUP)))
    await eventually(lambda: len([t for t in texts(stack, GROUP) if "#414" in t]) > cards_in_group)
    await eventually(lambda: any("Тайный" in t and "Leads" in t for t in texts(stack, MANAGER)))


async def test_card_buttons_tapped_in_an_unrelated_chat_do_nothing(stack: Stack) -> None:
    await stack.new_lead(1414, name="Клиент Тайный")
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
    card = card_of(stack.telegram, GROUP)
    assert card is not None
    async with stack.database.read() as session:
        lead = (await session.exec(select(Lead).where(col(Lead.flexbe_id) == 1414))).one()
    assert lead.id is not None
    taps = {
        "take": buttons(card)["✋ Take"],
        "open": OpenLead(lead_id=lead.id).pack(),
        "page": LeadsPage(period="new", before_id=lead.id + 1).pack(),
    }

    for data in taps.values():
        # The card's buttons under a message in the unrelated group (forwarded or crafted).
        stack.telegram.callback_update(MANAGER, UNRELATED, 1, data)
    await eventually(lambda: len(stack.telegram.callback_answers) == len(taps))

    answers = [answer["text"] for answer in stack.telegram.callback_answers]
    assert answers[0] == "This lead is not yours to act on."
    assert answers[1] == "No such lead."
    assert answers[2].startswith(NOT_HERE)
    async with stack.database.read() as session:
        assert (await session.get(Lead, lead.id)).taken_by is None  # type: ignore[union-attr]
    assert texts(stack, UNRELATED) == []
    assert await jobs_for_chat(stack, UNRELATED) == []

    # The same tap on the card in the site's chat works.
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], taps["take"])
    await eventually(lambda: stack.telegram.callback_answers[-1]["text"] == "The lead is yours.")


async def test_invite_refuses_unknown_site_keys_and_lists_the_known(stack: Stack) -> None:
    stack.telegram.message_update(ADMIN, "/invite okna nosuch")
    await eventually(lambda: bool(texts(stack, ADMIN)))

    answer = texts(stack, ADMIN)[-1]
    assert answer == "Unknown site: nosuch. Known sites: okna."
    async with stack.database.read() as session:
        assert (await session.exec(select(Invite))).all() == []

    stack.telegram.message_update(ADMIN, "/invite okna")
    await eventually(lambda: "t.me/" in texts(stack, ADMIN)[-1])
