"""Working on a lead from its card, over real HTTP: a note (a reply to the card, or the
Note button's question), the client's details, an invoice and the admins' payment marks.
Each checks what the Flexbe fake received, the edited cards (the group's in English, the
Russian manager's in Russian) and the history line; a repeated reply or a double tap makes
one change; every bad answer is told what to do and sends nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from storage.database import Database
from storage.models import PendingReply
from testkit.factories import lead_event
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, open_stack, tap
from tests.e2e.team import ADMIN, GROUP, MANAGER, OUTSIDER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MOMENT = r"\d\d\.\d\d\.\d{4} \d\d:\d\d"


def text_of(stack: Stack, chat: int) -> str:
    """The card as the chat sees it."""
    return str((card_of(stack.telegram, chat) or {}).get("plain", ""))


async def cards(stack: Stack) -> dict[str, Any]:
    await stack.new_lead()
    await eventually(
        lambda: all(card_of(stack.telegram, chat) for chat in (GROUP, RUSSIAN, MANAGER, ADMIN))
    )
    card = card_of(stack.telegram, GROUP)
    assert card is not None
    return card


def last_message(stack: Stack, chat: int) -> dict[str, Any]:
    return stack.telegram.chat(chat)[-1]


async def said(stack: Stack, chat: int, count: int) -> dict[str, Any]:
    """The bot's next message in the chat, after the `count` it had."""
    await eventually(lambda: len(stack.telegram.chat(chat)) > count)
    return stack.telegram.chat(chat)[count]


async def ask(stack: Stack, user: int, chat: int, *labels: str) -> dict[str, Any]:
    """Tap through to a question (the card's button, then a choice's): the ForceReply."""
    before = len(stack.telegram.chat(chat))
    await tap(stack, labels[0], user=user, chat=chat)
    for label in labels[1:]:
        choice = await said(stack, chat, before)
        before = len(stack.telegram.chat(chat))
        answered = len(stack.telegram.callback_answers)
        stack.telegram.callback_update(user, chat, choice["message_id"], buttons(choice)[label])
        await eventually(lambda: len(stack.telegram.callback_answers) > answered)  # noqa: B023
    question = await said(stack, chat, before)
    assert (question.get("reply_markup") or {}).get("force_reply") is True
    return question


def reply(stack: Stack, user: int, chat: int, to: int, text: str | None, **kw: Any) -> None:
    stack.telegram.message_update(user, text, chat_id=chat, reply_to=to, **kw)


# Notes ------------------------------------------------------------------------------------


async def test_a_reply_to_the_card_appends_a_note_in_both_languages(stack: Stack) -> None:
    card = await cards(stack)

    reply(stack, MANAGER, GROUP, card["message_id"], "Перезвонить после 18:00 <срочно>")
    await eventually(lambda: "Max: note: done" in text_of(stack, GROUP))

    [first] = stack.flexbe.changes(1414)
    assert re.fullmatch(rf"{MOMENT} Max: Перезвонить после 18:00 <срочно>", first["note"])
    group = card_text(stack, GROUP)
    assert "🗒 <b>Note</b>" in group and "Перезвонить после 18:00 &lt;срочно&gt;" in group
    await eventually(lambda: "Max: заметка: готово" in text_of(stack, RUSSIAN))
    assert "🗒 <b>Заметка</b>" in card_text(stack, RUSSIAN)

    # The Russian manager adds one from his own chat: appended, both kept, in order.
    private = card_of(stack.telegram, RUSSIAN)
    assert private is not None
    reply(stack, RUSSIAN, RUSSIAN, private["message_id"], "Клиент просит счёт")
    await eventually(lambda: "Иван: заметка: готово" in text_of(stack, RUSSIAN))
    answer = last_message(stack, RUSSIAN)
    assert answer["text"] == "📝 Заявка №414: заметка отправляется во Flexbe…"
    second = stack.flexbe.changes(1414)[1]["note"]
    assert re.fullmatch(
        rf"{MOMENT} Max: Перезвонить после 18:00 <срочно>\n{MOMENT} Иван: Клиент просит счёт",
        second,
    )
    assert stack.flexbe.leads[1414]["note"] == second
    await eventually(lambda: "Иван: note: done" in text_of(stack, GROUP))


async def test_flexbes_own_note_is_on_the_card(stack: Stack) -> None:
    event = lead_event()
    event["data"]["note"] = "Звонить только вечером"
    await stack.post_lead(event)

    await eventually(lambda: "Звонить только вечером" in text_of(stack, GROUP))
    assert "🗒 <b>Note</b>" in card_text(stack, GROUP)


async def test_the_note_button_asks_once_and_the_answer_survives_a_restart(
    database: Database,
) -> None:
    async with open_stack(database) as stack:
        await cards(stack)
        question = await ask(stack, MANAGER, GROUP, "📝 Note")
        assert "Lead #414: reply with the note to add." in question["text"]
        assert 'href="tg://user?id=22"' in question["text"], "the ForceReply is for Max"
        again = await tap(stack, "📝 Note")
        assert again["text"] == "Reply to my question above."
        assert len(stack.telegram.chat(GROUP)) == 2, "the card and one question"
        fakes = (stack.telegram, stack.flexbe)

    # The service restarts; the question is in the database, the answer comes now.
    async with open_stack(database, fakes=fakes) as stack:
        reply(stack, MANAGER, GROUP, question["message_id"], "Замер в субботу")
        await eventually(lambda: "Max: note: done" in text_of(stack, GROUP))
        [change] = stack.flexbe.changes(1414)
        assert re.fullmatch(rf"{MOMENT} Max: Замер в субботу", change["note"])
        async with stack.database.read() as session:
            assert await session.get(PendingReply, (GROUP, MANAGER)) is None, "answered"


async def test_a_reply_delivered_twice_makes_one_note(stack: Stack) -> None:
    card = await cards(stack)
    update = stack.telegram.build_message_update(
        MANAGER, "Один раз", chat_id=GROUP, reply_to=card["message_id"]
    )
    stack.telegram.push_update(update)
    await eventually(lambda: "Max: note: done" in text_of(stack, GROUP))
    # The same message again, as Telegram redelivers an update it was not sure of.
    answered = len(stack.telegram.chat(GROUP))
    stack.telegram.push_update({"message": update["message"]})
    stack.telegram.message_update(ADMIN, "/help")  # a marker: handled after the repeat
    await eventually(lambda: len(stack.telegram.chat(ADMIN)) > 1)

    assert len(stack.flexbe.changes(1414)) == 1
    assert len(stack.telegram.chat(GROUP)) == answered, "nothing said twice either"
    assert text_of(stack, GROUP).count("Max: note") == 1


# Client details ---------------------------------------------------------------------------


async def test_the_client_button_corrects_phone_name_and_email(stack: Stack) -> None:
    await cards(stack)

    question = await ask(stack, MANAGER, GROUP, "✏️ Client", "📞 Phone")
    assert "reply with the client's phone number" in question["text"]
    reply(stack, MANAGER, GROUP, question["message_id"], "8 (912) 345-67-89")
    await eventually(lambda: "Max: client's phone corrected: done" in text_of(stack, GROUP))
    assert stack.flexbe.changes(1414) == [{"client": {"phone": "+79123456789"}}]
    assert 'href="tel:+79123456789">+79123456789</a>' in card_text(stack, GROUP)
    await eventually(lambda: "Max: телефон клиента исправлен: готово" in text_of(stack, RUSSIAN))

    # The Russian manager, in his own chat, in Russian.
    question = await ask(stack, RUSSIAN, RUSSIAN, "✏️ Клиент", "👤 Имя")
    assert "Заявка №414: ответьте именем клиента." in question["text"]
    reply(stack, RUSSIAN, RUSSIAN, question["message_id"], "Пётр <Иванов>")
    await eventually(lambda: "Иван: имя клиента исправлено: готово" in text_of(stack, RUSSIAN))
    assert stack.flexbe.changes(1414)[1] == {"client": {"name": "Пётр <Иванов>"}}
    assert "👤 Пётр &lt;Иванов&gt;" in card_text(stack, GROUP)

    question = await ask(stack, RUSSIAN, RUSSIAN, "✏️ Клиент", "✉️ E-mail")
    # In a private chat the answer needs no reply: the question awaits it.
    stack.telegram.message_update(RUSSIAN, "petr@example.com")
    await eventually(lambda: "Иван: e-mail клиента исправлен: готово" in text_of(stack, RUSSIAN))
    assert stack.flexbe.changes(1414)[2] == {"client": {"email": "petr@example.com"}}
    assert "✉️ petr@example.com" in text_of(stack, GROUP)
    assert stack.flexbe.leads[1414]["client"] == {
        "name": "Пётр <Иванов>",
        "phone": "+79123456789",
        "email": "petr@example.com",
    }


# Invoices and payment marks ---------------------------------------------------------------


async def test_an_invoice_then_an_admin_marks_it_paid_once(stack: Stack) -> None:
    await cards(stack)

    question = await ask(stack, MANAGER, GROUP, "💳 Invoice")
    reply(stack, MANAGER, GROUP, question["message_id"], "15 000,50 Предоплата за окна")
    await eventually(lambda: "Max: invoice: done" in text_of(stack, GROUP))
    assert stack.flexbe.changes(1414) == [
        {"pay": {"summ": "15000.50", "status": "0", "desc": "Предоплата за окна"}}
    ]
    assert "💳 15000.50 — awaiting payment" in text_of(stack, GROUP)
    await eventually(lambda: "Max: счёт: готово" in text_of(stack, RUSSIAN))
    assert "💳 15000.50 — ожидает оплаты" in text_of(stack, RUSSIAN)

    refused = await tap(stack, "✅ Mark paid")
    assert refused["text"] == "Only an admin can mark a payment." and refused["show_alert"]

    card = card_of(stack.telegram, GROUP)
    assert card is not None
    paid = buttons(card)["✅ Mark paid"]
    answered = len(stack.telegram.callback_answers)
    for _ in range(3):  # a triple tap
        stack.telegram.callback_update(ADMIN, GROUP, card["message_id"], paid)
    await eventually(lambda: len(stack.telegram.callback_answers) == answered + 3)
    await eventually(lambda: "Ada: marked paid: done" in text_of(stack, GROUP))
    assert stack.flexbe.changes(1414)[1:] == [{"pay": {"status": "2"}}]
    assert "💳 15000.50 — paid" in text_of(stack, GROUP)
    assert "✅ Mark paid" not in buttons(card_of(stack.telegram, GROUP) or {})
    await eventually(lambda: "Ada: оплата отмечена: готово" in text_of(stack, RUSSIAN))

    # Flexbe's own pay webhook later updates the card as it always did.
    event = lead_event(pay={"id": "77", "summ": "15000.50", "status": {"code": "3"}})
    event["event"] = "pay"
    assert (await stack.webhook(event)).status_code == 200
    await eventually(lambda: "💳 15000.50 — payment error" in text_of(stack, GROUP))


async def test_an_invoice_from_the_russian_manager(stack: Stack) -> None:
    await cards(stack)
    question = await ask(stack, RUSSIAN, RUSSIAN, "💳 Счёт")
    assert "Заявка №414: ответьте суммой" in question["text"]
    reply(stack, RUSSIAN, RUSSIAN, question["message_id"], "4990\nДоставка и монтаж")

    await eventually(lambda: "Иван: счёт: готово" in text_of(stack, RUSSIAN))
    assert stack.flexbe.changes(1414) == [
        {"pay": {"summ": "4990", "status": "0", "desc": "Доставка и монтаж"}}
    ]
    await eventually(lambda: "Иван: invoice: done" in text_of(stack, GROUP))


# Bad input --------------------------------------------------------------------------------


async def test_bad_answers_are_told_what_to_do_and_send_nothing(stack: Stack) -> None:
    card = await cards(stack)

    async def answer_to(user: int, chat: int, to: int, text: str | None, **kw: Any) -> str:
        before = len(stack.telegram.chat(chat))
        reply(stack, user, chat, to, text, **kw)
        return str((await said(stack, chat, before))["text"])

    sticker = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    }
    assert "A note is text" in await answer_to(
        MANAGER, GROUP, card["message_id"], None, extra=sticker
    )
    long = await answer_to(MANAGER, GROUP, card["message_id"], "а" * 4000)
    assert long == (
        "A note is at most 1000 characters; this one has 4000. Shorten it and reply again."
    )

    # A reply to the bot's message that is no card (the client's choice of detail).
    before = len(stack.telegram.chat(GROUP))
    await tap(stack, "✏️ Client")
    choice = await said(stack, GROUP, before)
    assert "That message is not a lead card" in await answer_to(
        MANAGER, GROUP, choice["message_id"], "Заметка не туда"
    )

    question = await ask(stack, MANAGER, GROUP, "✏️ Client", "📞 Phone")
    assert "not a phone number that can be dialled" in await answer_to(
        MANAGER, GROUP, question["message_id"], "12345"
    )
    question = await ask(stack, MANAGER, GROUP, "✏️ Client", "✉️ E-mail")
    assert "not an e-mail address" in await answer_to(
        MANAGER, GROUP, question["message_id"], "petr at example"
    )
    question = await ask(stack, MANAGER, GROUP, "💳 Invoice")
    for amount in ("пять тысяч", "1e9", "NaN", "0", "9" * 40):
        assert "The amount must be a number above zero" in await answer_to(
            MANAGER, GROUP, question["message_id"], amount
        )
    # In Russian too.
    question = await ask(stack, RUSSIAN, RUSSIAN, "💳 Счёт")
    assert "Сумма должна быть числом больше нуля" in await answer_to(
        RUSSIAN, RUSSIAN, question["message_id"], "много"
    )

    # Taps by someone who may not act.
    outsider = await tap(stack, "📝 Note", user=OUTSIDER)
    assert outsider["text"] == "Only the sales team can use these buttons."
    answered = len(stack.telegram.callback_answers)
    stack.telegram.callback_update(MANAGER, -1009999, 1, buttons(card)["📝 Note"])
    await eventually(lambda: len(stack.telegram.callback_answers) > answered)
    assert stack.telegram.callback_answers[-1]["text"] == "This lead is not yours to act on."

    # Someone not on the team replies to the card in the group: the group is not answered.
    before = len(stack.telegram.chat(GROUP))
    reply(stack, OUTSIDER, GROUP, card["message_id"], "Я тоже хочу заметку")
    stack.telegram.message_update(ADMIN, "/help")  # a marker: handled after the reply
    await eventually(lambda: len(stack.telegram.chat(ADMIN)) > 1)
    assert len(stack.telegram.chat(GROUP)) == before

    assert stack.flexbe.calls("changeLead") == [], "nothing reached Flexbe"
    assert "History" not in text_of(stack, GROUP), "nothing half-done on the card"


async def test_a_refused_answer_leaves_the_question_open(stack: Stack) -> None:
    await cards(stack)
    question = await ask(stack, MANAGER, GROUP, "✏️ Client", "📞 Phone")
    before = len(stack.telegram.chat(GROUP))
    reply(stack, MANAGER, GROUP, question["message_id"], "не знаю")
    await said(stack, GROUP, before)

    reply(stack, MANAGER, GROUP, question["message_id"], "+7 912 345 67 89")
    await eventually(lambda: "Max: client's phone corrected: done" in text_of(stack, GROUP))
    assert stack.flexbe.changes(1414) == [{"client": {"phone": "+79123456789"}}]


async def test_a_refused_edit_is_told_on_the_card_and_retried_from_there(stack: Stack) -> None:
    card = await cards(stack)
    stack.flexbe.fail_next({"error": {"code": 0, "msg": "Invalid api_key"}})

    reply(stack, MANAGER, GROUP, card["message_id"], "Перезвонить")
    await eventually(lambda: "Max: note: failed" in text_of(stack, GROUP))
    assert "🗒" not in text_of(stack, GROUP), "the card shows only what Flexbe took"
    assert "🔁 Retry" in buttons(card_of(stack.telegram, GROUP) or {})

    await tap(stack, "🔁 Retry")
    await eventually(lambda: "Max: note: done" in text_of(stack, GROUP))
    assert "Перезвонить" in text_of(stack, GROUP)
    assert re.fullmatch(rf"{MOMENT} Max: Перезвонить", stack.flexbe.leads[1414]["note"])
