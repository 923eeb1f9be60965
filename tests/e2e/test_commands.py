"""Commands: /start with an invite, /leads, /lead, /stats, /lang, outsiders."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from storage.models import Manager
from tests.e2e.conftest import Stack, card_of, card_text, eventually, invite_code, last_text
from tests.e2e.team import ADMIN, GROUP, MANAGER, OUTSIDER, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_leads_today_and_stats(stack: Stack) -> None:
    from datetime import timedelta

    from storage.clock import utcnow

    now = int(utcnow().timestamp())
    await stack.new_lead(2001, name="Анна", time=now - 60)
    await stack.new_lead(2002, name="Борис", time=now - 120)
    await stack.new_lead(2003, name="Старый", time=int((utcnow() - timedelta(days=3)).timestamp()))
    await eventually(lambda: card_of(stack.telegram, MANAGER, 3) is not None)

    stack.telegram.message_update(MANAGER, "/leads today")
    await eventually(lambda: "Leads: today" in last_text(stack, MANAGER))
    listing = last_text(stack, MANAGER)
    assert "Анна" in listing and "Борис" in listing and "Старый" not in listing

    stack.telegram.message_update(RUSSIAN, "/stats week", language_code="ru")
    await eventually(lambda: "Статистика: week" in last_text(stack, RUSSIAN))
    stats = last_text(stack, RUSSIAN)
    assert "Заявок: 3" in stats and "Новый: 3" in stats


async def test_lead_command_posts_the_card_again(stack: Stack) -> None:
    await stack.new_lead(1414)
    await eventually(lambda: card_of(stack.telegram, MANAGER) is not None)
    before = len([m for m in stack.telegram.chat(MANAGER) if "#414" in m["text"]])

    stack.telegram.message_update(MANAGER, "/lead 414")

    await eventually(
        lambda: len([m for m in stack.telegram.chat(MANAGER) if "#414" in m["text"]]) == before + 1
    )


async def test_invite_makes_a_manager_once(stack: Stack) -> None:
    code = await invite_code(stack)

    stack.telegram.message_update(555, f"/start {code}", language_code="ru-RU", first_name="Ольга")
    await eventually(lambda: "Добро пожаловать" in last_text(stack, 555))
    stack.telegram.message_update(556, f"/start {code}", first_name="Eve")
    await eventually(lambda: "used or expired" in last_text(stack, 556))

    async with stack.database.read() as session:
        olga = await session.get(Manager, 555)
        eve = await session.get(Manager, 556)
    assert olga is not None and olga.language == "ru" and olga.active
    assert eve is None


async def test_outsider_gets_a_refusal_and_nothing_else(stack: Stack) -> None:
    stack.telegram.message_update(OUTSIDER, "/leads today")
    await eventually(lambda: bool(stack.telegram.chat(OUTSIDER)))
    assert "Ask an admin for an invite" in last_text(stack, OUTSIDER)
    stack.telegram.message_update(OUTSIDER, "/invite")
    await eventually(lambda: len(stack.telegram.chat(OUTSIDER)) == 2)
    assert "t.me" not in last_text(stack, OUTSIDER)
    async with stack.database.read() as session:
        assert (
            await session.exec(select(Manager).where(Manager.telegram_id == OUTSIDER))
        ).first() is None


async def test_lang_switches_the_managers_cards(stack: Stack) -> None:
    stack.telegram.message_update(MANAGER, "/lang")
    await eventually(lambda: "Choose your language" in last_text(stack, MANAGER))
    menu = stack.telegram.chat(MANAGER)[-1]
    russian = [
        b for row in menu["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Русский"
    ][0]

    stack.telegram.callback_update(MANAGER, MANAGER, menu["message_id"], russian["callback_data"])
    await eventually(
        lambda: any(a["text"] == "Язык: русский" for a in stack.telegram.callback_answers)
    )
    await stack.new_lead(1414)

    await eventually(lambda: card_of(stack.telegram, MANAGER) is not None)
    card = card_of(stack.telegram, MANAGER)
    assert card is not None and "Заявка №414" in card["text"]
    group = card_of(stack.telegram, GROUP)
    assert group is None or "Lead #414" in group["text"]


async def test_failed_lists_dead_jobs_and_retry_runs_them_again(stack: Stack) -> None:
    await stack.new_lead(1414)
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
    card = card_of(stack.telegram, GROUP)
    assert card is not None
    stack.flexbe.scripted.append({"error": {"code": 0, "msg": "Invalid api_key"}})
    data = [
        b
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "Processed"
    ]
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], data[0]["callback_data"])
    await eventually(lambda: "Flexbe refused" in card_text(stack))

    def failed_listing() -> dict[str, Any] | None:
        # Found by its title: the admin's chat also gets the failure's alert, in any order.
        messages = stack.telegram.chat(ADMIN)
        return next((m for m in reversed(messages) if "Failed jobs" in m["text"]), None)

    stack.telegram.message_update(ADMIN, "/failed")
    await eventually(lambda: failed_listing() is not None)
    listing = failed_listing()
    assert listing is not None
    assert "flexbe.status" in listing["text"] and "InvalidApiKey" in listing["text"]
    retry = [
        b
        for row in listing["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"].startswith("Retry")
    ]

    stack.telegram.callback_update(ADMIN, ADMIN, listing["message_id"], retry[0]["callback_data"])

    await eventually(
        lambda: any(a["text"] == "Queued again." for a in stack.telegram.callback_answers)
    )
    await eventually(lambda: "Status: Processed" in card_text(stack))
    assert len(stack.flexbe.calls("changeLead")) == 2


async def test_failed_is_for_admins_only(stack: Stack) -> None:
    stack.telegram.message_update(MANAGER, "/failed")
    await eventually(lambda: bool(stack.telegram.chat(MANAGER)))
    assert "Failed jobs" not in last_text(stack, MANAGER)
