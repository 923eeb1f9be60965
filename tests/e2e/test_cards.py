"""Webhook in, live card out; buttons act through Flexbe; only the team can touch them."""

from __future__ import annotations

import html

import pytest
from sqlmodel import select

from storage.models import Job
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, more_of, tap_at_once
from tests.e2e.team import ADMIN, GROUP, MANAGER, OUTSIDER, RUSSIAN

HOSTILE = '<b>Tom & "Jerry"</b> <script>'


async def test_webhook_in_card_out_in_every_chat_and_language(stack: Stack) -> None:
    await stack.new_lead()

    await eventually(
        lambda: all(card_of(stack.telegram, chat) for chat in (GROUP, ADMIN, MANAGER, RUSSIAN))
    )
    group = card_of(stack.telegram, GROUP)
    russian = card_of(stack.telegram, RUSSIAN)
    assert group is not None and russian is not None
    assert "Lead #414" in group["text"] and "Status: New" in group["text"]
    assert '<a href="tel:+79991234567">' in group["text"]
    assert "Заявка №414" in russian["text"] and "Статус: Новый" in russian["text"]
    assert "✋ Take" in buttons(group) and "✋ Взять" in buttons(russian)
    assert [m for m in stack.telegram.sent if m["chat"]["id"] == GROUP][0]["parse_mode"] == "HTML"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_status_button_changes_flexbe_and_edits_the_card(stack: Stack) -> None:
    card = await stack.new_card()

    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["Processed"])

    await eventually(lambda: bool(stack.flexbe.calls("changeLead")))
    await eventually(lambda: "Status: Processed" in card_text(stack))
    [call] = stack.flexbe.calls("changeLead")
    assert (call.fields["id"], call.fields["status"]) == ("1414", "1")
    assert stack.telegram.callback_answers[0]["text"] == "Sending to Flexbe…"
    edited = card_of(stack.telegram, GROUP)
    assert edited is not None and "Max: status → Processed: done" in edited["text"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_double_tap_and_two_managers_make_one_call(stack: Stack) -> None:
    await stack.new_card()

    await tap_at_once(stack, "Fulfilled", MANAGER, MANAGER, ADMIN)

    await eventually(lambda: len(stack.telegram.callback_answers) == 4)
    await eventually(lambda: "Status: Fulfilled" in card_text(stack))
    assert len(stack.flexbe.calls("changeLead")) == 1
    # The first answer is the "More…" tap's.
    answers = [answer["text"] for answer in stack.telegram.callback_answers[1:]]
    assert answers.count("Sending to Flexbe…") == 1
    # In progress, or done already when the tap comes late: either way no second call.
    assert all(
        a in ("Already done or in progress.", "Already so in Flexbe.") for a in answers[1:]
    ), answers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_take_first_tap_wins(stack: Stack) -> None:
    card = await stack.new_card()
    data = buttons(card)["✋ Take"]

    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], data)
    stack.telegram.callback_update(ADMIN, GROUP, card["message_id"], data)

    await eventually(lambda: len(stack.telegram.callback_answers) == 2)
    answers = sorted(answer["text"] for answer in stack.telegram.callback_answers)
    assert answers == ["Already taken by Max.", "The lead is yours."]
    await eventually(lambda: "Taken by Max" in card_text(stack))
    refreshed = card_of(stack.telegram, GROUP)
    assert refreshed is not None and "✋ Take" not in buttons(refreshed)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_outsider_tap_does_nothing(stack: Stack) -> None:
    await stack.new_card()
    card = await more_of(stack, GROUP)
    async with stack.database.read() as session:
        jobs_before = len((await session.exec(select(Job))).all())
    stack.telegram.callback_answers.clear()

    stack.telegram.callback_update(OUTSIDER, GROUP, card["message_id"], buttons(card)["Cancelled"])
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], "la:st10:999999")
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], "garbage")

    await eventually(lambda: len(stack.telegram.callback_answers) == 3)
    answers = [answer["text"] for answer in stack.telegram.callback_answers]
    assert answers[0] == "Only the sales team can use these buttons."
    assert stack.telegram.callback_answers[0]["show_alert"]
    assert answers[1] == "This lead is not yours to act on."
    assert answers[2] == "This button is out of date."
    assert stack.flexbe.calls("changeLead") == []
    async with stack.database.read() as session:
        assert len((await session.exec(select(Job))).all()) == jobs_before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_hostile_client_name_is_rendered_escaped(stack: Stack) -> None:
    await stack.new_lead(name=HOSTILE, email=HOSTILE)

    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
    card = card_of(stack.telegram, GROUP)
    assert card is not None
    assert html.escape(HOSTILE) in card["text"]
    assert "<script>" not in card["text"]
    assert stack.telegram.rejected == [], "Telegram accepted the card's HTML"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_flexbe_failure_shows_on_the_card_and_retry_works(stack: Stack) -> None:
    card = await stack.new_card()
    stack.flexbe.scripted.append({"error": {"code": 0, "msg": "Invalid api_key"}})

    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["Processed"])

    def shows_failure() -> bool:
        current = card_of(stack.telegram, GROUP) or {}
        return "Flexbe refused the API key" in current.get("text", "") and "🔁 Retry" in buttons(
            current
        )

    await eventually(shows_failure)
    failed = card_of(stack.telegram, GROUP)
    assert failed is not None
    stack.telegram.callback_update(
        MANAGER, GROUP, failed["message_id"], buttons(failed)["🔁 Retry"]
    )

    await eventually(lambda: "Status: Processed" in card_text(stack))
    assert len(stack.flexbe.calls("changeLead")) == 2
    final = card_of(stack.telegram, GROUP)
    assert final is not None and "🔁 Retry" not in buttons(final)
