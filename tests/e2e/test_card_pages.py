"""The card stays readable on a phone: a new lead's few actions in view, the rest behind
"More…", which edits the keyboard in place, and "Back"; the phone has a copy button."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, more_of
from tests.e2e.team import GROUP, MANAGER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def keyboard(message: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    return list(((message or {}).get("reply_markup") or {}).get("inline_keyboard", []))


def rows(message: dict[str, Any] | None) -> list[list[str]]:
    return [[button["text"] for button in row] for row in keyboard(message)]


async def test_more_and_back_edit_the_keyboard_in_place(stack: Stack) -> None:
    await stack.new_card()
    # A copy: the fake edits its message in place.
    first = copy.deepcopy(card_of(stack.telegram, GROUP))
    assert first is not None

    # A new lead: take, the next status, call, copy the phone; the rest is one tap away.
    assert rows(first) == [
        ["✋ Take", "Processed"],
        ["📞 Call now", "📋 Copy phone"],
        ["More…"],
    ]
    [copying] = [b for row in keyboard(first) for b in row if "copy_text" in b]
    assert copying["copy_text"] == {"text": "+79991234567"}
    assert '<a href="tel:+79991234567">' in first["text"], "the tel: link stays"

    opened = copy.deepcopy(await more_of(stack, GROUP))

    assert opened["message_id"] == first["message_id"] and opened["text"] == first["text"]
    assert rows(opened) == [
        ["Fulfilled", "Cancelled"],
        ["⏰ Call in 10 min", "⏰ Call in 1 hour"],
        ["🌅 Call in the morning, 09:00", "✖️ Cancel call"],
        ["📝 Note", "✏️ Client", "💳 Invoice"],
        ["📇 5CRM deal"],
        ["👥 Assign…"],
        ["« Back"],
    ]
    [edit] = stack.telegram.calls_of("editMessageReplyMarkup")
    assert int(edit.params["message_id"]) == first["message_id"]
    assert len([m for m in stack.telegram.sent if m["chat"]["id"] == GROUP]) == 1, "no new message"

    stack.telegram.callback_update(MANAGER, GROUP, first["message_id"], buttons(opened)["« Back"])
    await eventually(lambda: "More…" in buttons(card_of(stack.telegram, GROUP) or {}))
    assert rows(card_of(stack.telegram, GROUP)) == rows(first)
    assert len(stack.telegram.calls_of("editMessageReplyMarkup")) == 2

    # A second tap on a page already shown changes nothing and still gets an answer.
    answered = len(stack.telegram.callback_answers)
    stack.telegram.callback_update(MANAGER, GROUP, first["message_id"], buttons(opened)["« Back"])
    await eventually(lambda: len(stack.telegram.callback_answers) > answered)
    assert stack.telegram.callback_answers[-1]["text"] is None


async def test_the_pages_speak_the_chats_language(stack: Stack) -> None:
    await stack.new_lead()
    await eventually(lambda: card_of(stack.telegram, RUSSIAN) is not None)
    first = card_of(stack.telegram, RUSSIAN)
    assert first is not None
    assert rows(first) == [
        ["✋ Взять", "Обработан"],
        ["📞 Позвонить сейчас", "📋 Скопировать номер"],
        ["Ещё…"],
    ]

    opened = await more_of(stack, RUSSIAN, user=RUSSIAN, showing="« Назад")

    assert rows(opened) == [
        ["Выполнен", "Отменён"],
        ["⏰ Позвонить через 10 мин", "⏰ Позвонить через 1 час"],
        ["🌅 Позвонить утром, 09:00", "✖️ Отменить звонок"],
        ["📝 Заметка", "✏️ Клиент", "💳 Счёт"],
        ["📇 Сделка в 5CRM"],
        ["« Назад"],
    ], "Иван is no admin: in his own chat, no Assign"
    # In a group, the card reads the same for everyone: its language, not the tapper's.
    group = await more_of(stack, GROUP, user=RUSSIAN)
    assert "« Back" in buttons(group)


async def test_a_taken_lead_shows_the_next_status_and_offers_release(stack: Stack) -> None:
    card = await stack.new_card()
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["Processed"])
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["✋ Take"])
    await eventually(
        lambda: "Status: Processed" in card_text(stack) and "Taken by Max" in card_text(stack)
    )

    assert rows(card_of(stack.telegram, GROUP))[0] == ["Fulfilled"], "the next status now"
    opened = await more_of(stack, GROUP)
    assert rows(opened)[0] == ["Cancelled"], "neither the status it has nor the one in view"
    assert ["👥 Assign…", "↩️ Release"] in rows(opened)
