"""Who has a lead: an admin assigns it from the card's list of the site's managers, the
manager gets the card in their private chat, the owner or an admin releases it; the card
and its history say who and when, in each reader's language. A second tap changes
nothing more; a tap by someone who may not act changes nothing at all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from bot.callbacks import AssignTo
from storage.models import Action, Job, Lead, Manager
from tests.e2e.conftest import Stack, answer_to, buttons, card_of, card_text, eventually, more_of
from tests.e2e.team import ADMIN, GROUP, MANAGER, OUTSIDER, RUSSIAN

OTHER_SITE, RETIRED = 44, 55


def cards_in(stack: Stack, chat: int) -> list[dict[str, Any]]:
    """The messages of lead #414's card in a chat, oldest first."""
    return [
        m for m in stack.telegram.chat(chat) if "#414</b>" in m["text"] or "№414</b>" in m["text"]
    ]


def labels(message: dict[str, Any] | None) -> list[str]:
    return list(buttons(message or {}))


async def tap(stack: Stack, user: int, chat: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """`user` taps the button `text` on the card in `chat`; returns the answer to the tap."""
    card = card_of(stack.telegram, chat)
    assert card is not None
    return await tap_data(stack, user, chat, buttons(card)[text], **kwargs)


async def tap_data(stack: Stack, user: int, chat: int, data: str, **kwargs: Any) -> dict[str, Any]:
    card = card_of(stack.telegram, chat)
    assert card is not None
    update = stack.telegram.callback_update(user, chat, card["message_id"], data, **kwargs)
    return await answer_to(stack, update)


async def the_lead(stack: Stack) -> Lead:
    async with stack.database.read() as session:
        return (await session.exec(select(Lead).where(col(Lead.flexbe_id) == 1414))).one()


async def ownership_actions(stack: Stack) -> list[str]:
    async with stack.database.read() as session:
        rows = (await session.exec(select(Action).order_by(col(Action.id)))).all()
    return [a.kind for a in rows if a.kind.split(":")[0] in ("take", "assign", "release")]


async def job_count(stack: Stack) -> int:
    async with stack.database.read() as session:
        return len((await session.exec(select(Job))).all())


async def new_lead_everywhere(stack: Stack) -> None:
    await stack.new_lead()
    await eventually(
        lambda: all(card_of(stack.telegram, chat) for chat in (GROUP, ADMIN, MANAGER, RUSSIAN))
    )


async def add_the_left_out(stack: Stack) -> None:
    """Two managers the site's list leaves out: Dora works on another site, Rex has left."""
    async with stack.database.write() as session:
        session.add(Manager(telegram_id=OTHER_SITE, name="Dora", sites=["dveri"]))
        session.add(Manager(telegram_id=RETIRED, name="Rex", active=False))


async def open_assign_list(stack: Stack, chat: int = GROUP) -> dict[str, Any]:
    await more_of(stack, chat, user=ADMIN)
    answer = await tap(stack, ADMIN, chat, "👥 Assign…")
    assert answer["text"] is None, answer
    await eventually(lambda: "Ada" in labels(card_of(stack.telegram, chat)))
    listed = card_of(stack.telegram, chat)
    assert listed is not None
    return listed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_admin_assigns_and_the_manager_gets_the_card_in_private(stack: Stack) -> None:
    await new_lead_everywhere(stack)
    await add_the_left_out(stack)

    listed = await open_assign_list(stack)

    # The site's active managers, by name; the card's text is left as it was.
    assert labels(listed) == ["Ada", "Max", "Иван", "« Back"]
    assert "Taken by" not in listed["text"] and "Lead #414" in listed["text"]
    assert stack.telegram.calls_of("editMessageReplyMarkup"), "the keyboard is edited in place"

    answer = await tap(stack, ADMIN, GROUP, "Max")

    assert answer["text"] == "Assigned to Max."
    await eventually(lambda: "Ada assigned the lead to Max" in card_text(stack, GROUP))
    group = card_text(stack, GROUP)
    assert "👤 Assigned to Max by Ada at " in group
    assert "✋ Take" not in labels(card_of(stack.telegram, GROUP))
    assert "More…" in labels(card_of(stack.telegram, GROUP)), "back to the first page"
    # Max gets the card as a new message in private, which says it is his.
    await eventually(lambda: len(cards_in(stack, MANAGER)) == 2)
    mine = cards_in(stack, MANAGER)[-1]
    assert "👤 Assigned to Max by Ada at " in mine["text"]
    assert "Ada assigned the lead to Max" in mine["text"]
    # Everyone else's card is edited in place, in their language.
    await eventually(lambda: "Ada назначил(а) заявку на Max" in card_text(stack, RUSSIAN))
    assert "Назначена на Max (Ada) в " in card_text(stack, RUSSIAN)
    assert len(cards_in(stack, RUSSIAN)) == 1

    # Given to Иван instead: his card comes in Russian, Max's says whose it is now.
    await open_assign_list(stack)
    assert labels(card_of(stack.telegram, GROUP))[1] == "✓ Max", "the owner is ticked"
    answer = await tap(stack, ADMIN, GROUP, "Иван")

    assert answer["text"] == "Assigned to Иван."
    await eventually(lambda: len(cards_in(stack, RUSSIAN)) == 2)
    assert "Назначена на Иван (Ada) в " in cards_in(stack, RUSSIAN)[-1]["text"]
    assert "Ada назначил(а) заявку на Иван" in cards_in(stack, RUSSIAN)[-1]["text"]
    await eventually(lambda: "Assigned to Иван by Ada" in cards_in(stack, MANAGER)[-1]["text"])
    lead = await the_lead(stack)
    assert (lead.taken_by, lead.taken_by_name) == (RUSSIAN, "Иван")
    assert await ownership_actions(stack) == [f"assign:{MANAGER}", f"assign:{RUSSIAN}"]


async def test_a_double_tap_assigns_once_and_sends_one_card(stack: Stack) -> None:
    await new_lead_everywhere(stack)
    listed = await open_assign_list(stack)
    data = buttons(listed)["Max"]

    for _ in range(3):
        stack.telegram.callback_update(ADMIN, GROUP, listed["message_id"], data)
    await eventually(
        lambda: sum(a["text"] is not None for a in stack.telegram.callback_answers) == 3
    )
    await eventually(lambda: "Ada assigned the lead to Max" in card_text(stack, GROUP))

    answers = sorted(a["text"] for a in stack.telegram.callback_answers if a["text"] is not None)
    assert answers == ["Already assigned to Max.", "Already assigned to Max.", "Assigned to Max."]
    assert await ownership_actions(stack) == [f"assign:{MANAGER}"]
    async with stack.database.read() as session:
        sent = (await session.exec(select(Job).where(col(Job.dedupe_key).contains(":as")))).all()
    assert [job.payload["chat_id"] for job in sent] == [MANAGER]
    await eventually(lambda: len(cards_in(stack, MANAGER)) == 2)
    assert card_text(stack, GROUP).count("assigned the lead") == 1


async def test_owner_or_admin_releases_others_may_not_and_twice_is_once(stack: Stack) -> None:
    await new_lead_everywhere(stack)
    assert (await tap(stack, MANAGER, GROUP, "✋ Take"))["text"] == "The lead is yours."
    await eventually(lambda: "Taken by Max" in card_text(stack, GROUP))

    # Иван neither has it nor is an admin: told so in Russian, and nothing changes.
    jobs_before = await job_count(stack)
    await more_of(stack, GROUP, user=RUSSIAN)
    refused = await tap(stack, RUSSIAN, GROUP, "↩️ Release", language_code="ru")
    assert refused["text"] == "Освободить заявку может только Max или администратор."
    assert refused["show_alert"]
    assert (await the_lead(stack)).taken_by == MANAGER
    assert await job_count(stack) == jobs_before

    # Max releases it, with a double tap: one release.
    release = buttons(card_of(stack.telegram, GROUP) or {})["↩️ Release"]
    message_id = (card_of(stack.telegram, GROUP) or {})["message_id"]
    stack.telegram.callback_update(MANAGER, GROUP, message_id, release)
    stack.telegram.callback_update(MANAGER, GROUP, message_id, release)
    await eventually(lambda: len(stack.telegram.callback_answers) == 5)
    answers = sorted(a["text"] for a in stack.telegram.callback_answers[-2:])
    assert answers == ["Nobody has this lead.", "Released: anyone can take it."]
    await eventually(lambda: "Max released the lead" in card_text(stack, GROUP))
    assert "Taken by" not in card_text(stack, GROUP)
    assert "✋ Take" in labels(card_of(stack.telegram, GROUP)), "free to take again"
    assert (await the_lead(stack)).taken_by is None
    await eventually(lambda: "Max освободил(а) заявку" in card_text(stack, RUSSIAN))

    # Иван takes it in his private chat; an admin releases it for him.
    assert (await tap(stack, RUSSIAN, RUSSIAN, "✋ Взять", language_code="ru"))["text"]
    await eventually(lambda: "Взял(а) Иван" in card_text(stack, RUSSIAN))
    await more_of(stack, GROUP, user=ADMIN)
    assert (await tap(stack, ADMIN, GROUP, "↩️ Release"))["text"] == (
        "Released: anyone can take it."
    )
    await eventually(lambda: "Ada released the lead of Иван" in card_text(stack, GROUP))
    await eventually(lambda: "Ada снял(а) заявку с Иван" in card_text(stack, RUSSIAN))
    assert await ownership_actions(stack) == ["take", "release", "take", "release"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_who_may_not_assign_or_whom_changes_nothing(stack: Stack) -> None:
    await new_lead_everywhere(stack)
    await add_the_left_out(stack)
    lead = await the_lead(stack)
    assert lead.id is not None
    await more_of(stack, GROUP, user=MANAGER)
    jobs_before = await job_count(stack)

    def assign(manager_id: int) -> str:
        return AssignTo(lead_id=lead.id or 0, manager_id=manager_id).pack()

    # A manager who is not an admin: neither the list nor a crafted assignment.
    page = await tap(stack, MANAGER, GROUP, "👥 Assign…")
    assert (page["text"], page["show_alert"]) == ("Only an admin can assign a lead.", True)
    assert "👥 Assign…" in labels(card_of(stack.telegram, GROUP)), "the page did not change"
    crafted = await tap_data(stack, MANAGER, GROUP, assign(MANAGER))
    assert crafted["text"] == "Only an admin can assign a lead."
    russian = await tap_data(stack, RUSSIAN, GROUP, assign(RUSSIAN), language_code="ru")
    assert russian["text"] == "Назначать заявки может только администратор."
    # An admin, to someone who does not receive this site: an outsider, a manager of
    # another site only, a disabled manager.
    for someone in (OUTSIDER, OTHER_SITE, RETIRED):
        answer = await tap_data(stack, ADMIN, GROUP, assign(someone))
        assert answer["text"] == "That manager does not receive this site's leads.", someone
        assert answer["show_alert"]
    # Forged: an id past 64 bits, a page that does not exist.
    for forged in (f"as:{lead.id}:{2**64}", f"cp:nope:{lead.id}", f"as:{lead.id + 1}:{MANAGER}"):
        answer = await tap_data(stack, ADMIN, GROUP, forged)
        assert answer["text"] in (
            "This button is out of date.",
            "This lead is not yours to act on.",
        ), forged

    assert (await the_lead(stack)).taken_by is None
    assert await ownership_actions(stack) == []
    assert await job_count(stack) == jobs_before
    assert len(cards_in(stack, MANAGER)) == 1
