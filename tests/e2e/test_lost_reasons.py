"""Cancelled asks why: the card's keyboard becomes the site's reasons, the reason tapped
goes with the status change into the lead's Flexbe note (appended) and onto the card, in
the reader's language; a Cancelled from elsewhere (Flexbe's webhook) records none given."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage.database import Database
from storage.models import Job, Lead
from testkit.factories import lead_event
from tests.e2e.conftest import (
    Stack,
    answer_to,
    buttons,
    card_of,
    card_text,
    eventually,
    open_stack,
    tap,
)
from tests.e2e.team import GROUP, MANAGER, RUSSIAN

DEFAULTS = [
    "No answer",
    "Too expensive",
    "Chose a competitor",
    "Not a real request",
    "Duplicate",
    "Other",
    "« Back",
]


def labels(stack: Stack, chat: int) -> list[str]:
    return list(buttons(card_of(stack.telegram, chat) or {}))


async def ask_why(stack: Stack, cancelled: str, *, user: int, chat: int, back: str) -> None:
    """`user` taps Cancelled (`cancelled`, in the chat's language): the card shows why."""
    answer = await tap(stack, cancelled, user=user, chat=chat)
    assert answer["text"] in ("Why is the lead lost?", "Почему заявка потеряна?"), answer
    await eventually(
        lambda: labels(stack, chat)[-1:] == [back] and cancelled not in labels(stack, chat)
    )


async def lead_row(stack: Stack) -> Lead:
    async with stack.database.read() as session:
        return (await session.exec(select(Lead).where(Lead.flexbe_id == 1414))).one()


async def test_a_reason_goes_into_flexbes_note_and_onto_the_card(stack: Stack) -> None:
    event = lead_event()
    event["data"]["note"] = "Звонить только вечером"
    await stack.post_lead(event)
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)

    await ask_why(stack, "Cancelled", user=MANAGER, chat=GROUP, back="« Back")
    assert labels(stack, GROUP) == DEFAULTS
    assert stack.flexbe.calls("changeLead") == [], "asking why changes nothing yet"

    await tap(stack, "Too expensive", user=MANAGER, chat=GROUP)
    await eventually(lambda: "Max: status → Cancelled — Too expensive: done" in card_text(stack))
    assert stack.flexbe.changes(1414) == [
        {"status": "10", "note": "Звонить только вечером\nCancelled — Too expensive"}
    ]
    assert "Status: Cancelled — Too expensive" in card_text(stack)
    lead = await lead_row(stack)
    assert lead.lost_reason == "Too expensive"
    assert lead.note == "Звонить только вечером\nCancelled — Too expensive"
    assert "Cancelled" not in labels(stack, GROUP) and "Too expensive" not in labels(stack, GROUP)


async def test_in_russian_the_buttons_note_and_card_are_russian(stack: Stack) -> None:
    await stack.new_lead()
    await eventually(lambda: card_of(stack.telegram, RUSSIAN) is not None)

    await ask_why(stack, "Отменён", user=RUSSIAN, chat=RUSSIAN, back="« Назад")
    assert labels(stack, RUSSIAN)[:3] == ["Не отвечает", "Слишком дорого", "Выбрал конкурента"]
    await tap(stack, "Слишком дорого", user=RUSSIAN, chat=RUSSIAN)

    await eventually(lambda: "Статус: Отменён — Слишком дорого" in card_text(stack, RUSSIAN))
    assert stack.flexbe.changes(1414) == [{"status": "10", "note": "Отменён — Слишком дорого"}]
    # Stored as the list has it: the English group's card reads it in English.
    assert (await lead_row(stack)).lost_reason == "Too expensive"
    await eventually(lambda: "Status: Cancelled — Too expensive" in card_text(stack, GROUP))
    assert "Иван: status → Cancelled — Too expensive: done" in card_text(stack, GROUP)


async def test_back_returns_to_the_page_cancelled_was_on(stack: Stack) -> None:
    await stack.new_card()
    await ask_why(stack, "Cancelled", user=MANAGER, chat=GROUP, back="« Back")

    await tap(stack, "« Back", user=MANAGER, chat=GROUP)

    await eventually(lambda: "Cancelled" in labels(stack, GROUP))
    assert stack.flexbe.calls("changeLead") == []


async def test_a_configured_list_is_shown_as_written(database: Database) -> None:
    reasons = ["Дорого", "Не дозвонились", "Купил у нас раньше"]
    async with open_stack(database, options={"lost_reasons": reasons}) as stack:
        await stack.new_lead()
        await eventually(lambda: card_of(stack.telegram, MANAGER) is not None)
        await ask_why(stack, "Cancelled", user=MANAGER, chat=MANAGER, back="« Back")
        assert labels(stack, MANAGER) == [*reasons, "« Back"]

        await tap(stack, "Не дозвонились", user=MANAGER, chat=MANAGER)

        await eventually(lambda: "Status: Cancelled — Не дозвонились" in card_text(stack, GROUP))
        assert stack.flexbe.changes(1414) == [
            {"status": "10", "note": "Cancelled — Не дозвонились"}
        ]
        assert (await lead_row(stack)).lost_reason == "Не дозвонились"


async def test_cancelled_in_flexbe_records_no_reason_and_a_lead_brought_back_none(
    stack: Stack,
) -> None:
    await stack.new_card()

    await stack.post_lead(lead_event(status=(10, "Отменен")))

    await eventually(lambda: "Status: Cancelled — no reason given" in card_text(stack))
    assert (await lead_row(stack)).lost_reason == ""

    await stack.post_lead(lead_event(status=(1, "Обработан")))
    await eventually(lambda: "Status: Processed" in card_text(stack))
    assert (await lead_row(stack)).lost_reason is None


async def test_a_forged_reason_is_refused_in_words(stack: Stack) -> None:
    await stack.new_card()
    await ask_why(stack, "Cancelled", user=MANAGER, chat=GROUP, back="« Back")
    card = card_of(stack.telegram, GROUP)
    assert card is not None
    first = buttons(card)["No answer"]
    lead_id = first.split(":")[1]
    async with stack.database.read() as session:
        jobs_before = len((await session.exec(select(Job))).all())

    answers: list[dict[str, Any]] = []
    for index in (6, -1, 2**31 - 1):
        update = stack.telegram.callback_update(
            MANAGER, GROUP, card["message_id"], f"lr:{lead_id}:{index}"
        )
        answers.append(await answer_to(stack, update))

    assert [a["text"] for a in answers] == [
        "This reason is not in the site's list: tap Cancelled again and pick one."
    ] * 3
    assert all(a["show_alert"] for a in answers)
    async with stack.database.read() as session:
        assert len((await session.exec(select(Job))).all()) == jobs_before
    assert stack.flexbe.calls("changeLead") == []
    assert (await lead_row(stack)).lost_reason is None


async def test_a_rules_cancelled_records_no_reason_and_sends_no_note(database: Database) -> None:
    rules = [{"site": "okna", "name": "Spam", "do": ["status:10"]}]
    async with open_stack(database, options={"rules": rules}) as stack:
        await stack.new_lead()

        await eventually(lambda: "Rule «Spam»: status → Cancelled: done" in card_text(stack))
        await eventually(lambda: "Status: Cancelled — no reason given" in card_text(stack))
        assert stack.flexbe.changes(1414) == [{"status": "10"}]
        assert (await lead_row(stack)).lost_reason == ""
