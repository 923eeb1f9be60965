"""Repeat leads: a client who wrote before gets a badge on the card, in each reader's
language, and a button that brings the earlier lead's card into the chat."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from sqlmodel import select

from storage.clock import utcnow
from storage.database import Database
from storage.models import Lead
from storage.queries.repeats import find_repeat
from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, open_stack
from tests.e2e.team import GROUP, MANAGER, RUSSIAN


def _cards(stack: Stack, chat: int, num: int) -> list[dict[str, Any]]:
    marks = (f"#{num}</b>", f"№{num}</b>")
    return [m for m in stack.telegram.chat(chat) if any(mark in m["text"] for mark in marks)]


async def _lead_id(stack: Stack, flexbe_id: int) -> int:
    async with stack.database.read() as session:
        lead = (await session.exec(select(Lead).where(Lead.flexbe_id == flexbe_id))).one()
    assert lead.id is not None
    return lead.id


async def test_a_repeat_shows_its_badge_and_opens_the_earlier_card(stack: Stack) -> None:
    now = utcnow()
    first = now - timedelta(days=10)
    # The same client writes four times: once long ago (outside the 90 days), then twice
    # with the phone spelled differently, then with the e-mail in other letters' case.
    await stack.new_lead(3000, num=1019, time=int((now - timedelta(days=200)).timestamp()))
    await stack.new_lead(3001, num=1020, phone="+7 999 123 45 67", time=int(first.timestamp()))
    await stack.new_lead(
        3002, num=1021, phone="8 (999) 123-45-67", time=int((now - timedelta(days=5)).timestamp())
    )
    await eventually(lambda: card_of(stack.telegram, GROUP, 1021) is not None)
    assert "🔁" not in card_text(stack, GROUP, 1019), "the first request is no repeat"
    assert "🔁" not in card_text(stack, GROUP, 1020), "the one before is 200 days back"
    assert "🔁 2nd request since" in card_text(stack, GROUP, 1021)
    # #1021 is taken and processed by Max: the badge of the next says so.
    card = card_of(stack.telegram, GROUP, 1021)
    assert card is not None
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["✋ Take"])
    await eventually(lambda: "Taken by Max" in card_text(stack, GROUP, 1021))
    card = card_of(stack.telegram, GROUP, 1021)
    assert card is not None
    stack.telegram.callback_update(MANAGER, GROUP, card["message_id"], buttons(card)["Processed"])
    await eventually(lambda: "Status: Processed" in card_text(stack, GROUP, 1021))

    await stack.new_lead(
        3003, num=1022, phone="", email="  IVAN@Example.RU ", time=int(now.timestamp())
    )
    await eventually(
        lambda: (
            card_of(stack.telegram, GROUP, 1022) is not None
            and card_of(stack.telegram, RUSSIAN, 1022) is not None
        )
    )

    since = first.astimezone(UTC).strftime("%d.%m")
    group = card_of(stack.telegram, GROUP, 1022)
    russian = card_of(stack.telegram, RUSSIAN, 1022)
    assert group is not None and russian is not None
    assert f"🔁 3rd request since {since} — Окна СПб #1021, Processed by Max" in group["text"]
    assert (
        f"🔁 3-е обращение с {since} — Окна СПб №1021, Обработан, менеджер Max" in russian["text"]
    )
    assert "🔁 Earlier: #1021" in buttons(group)
    assert "🔁 Прошлая: №1021" in buttons(russian)

    # The button posts the earlier card, live, where it is tapped: in each language.
    before_group = len(_cards(stack, GROUP, 1021))
    stack.telegram.callback_update(
        MANAGER, GROUP, group["message_id"], buttons(group)["🔁 Earlier: #1021"]
    )
    await eventually(lambda: len(_cards(stack, GROUP, 1021)) == before_group + 1)
    before_russian = len(_cards(stack, RUSSIAN, 1021))
    stack.telegram.callback_update(
        RUSSIAN,
        RUSSIAN,
        russian["message_id"],
        buttons(russian)["🔁 Прошлая: №1021"],
        language_code="ru",
    )
    await eventually(lambda: len(_cards(stack, RUSSIAN, 1021)) == before_russian + 1)
    reposted = _cards(stack, RUSSIAN, 1021)[-1]
    assert "Заявка №1021" in reposted["text"] and "Обработан" in reposted["text"]

    # What a speed-to-lead rule reads: a repeat, and whose the earlier lead is.
    async with stack.database.read() as session:
        lead = await session.get(Lead, await _lead_id(stack, 3003))
        assert lead is not None
        repeat = await find_repeat(session, lead=lead, window=timedelta(days=90))
    assert repeat is not None and repeat.is_repeat
    assert (repeat.request_number, repeat.owner, repeat.owner_name) == (3, MANAGER, "Max")
    assert repeat.first_at == first.replace(microsecond=0)


async def test_the_window_of_the_setting_and_a_hostile_site_name(database: Database) -> None:
    hostile = '<b>Tom & "Jerry"</b>'
    now = utcnow()
    async with open_stack(
        database, site_name=hostile, overrides={"repeat_window": timedelta(days=1)}
    ) as stack:
        await stack.new_lead(3100, num=1100, time=int((now - timedelta(days=2)).timestamp()))
        await stack.new_lead(3101, num=1101, time=int((now - timedelta(hours=1)).timestamp()))
        await stack.new_lead(3102, num=1102, time=int(now.timestamp()))
        await eventually(lambda: card_of(stack.telegram, GROUP, 1102) is not None)
        text = card_text(stack, GROUP, 1102)
        # One earlier lead within the day; the one two days back is out of the window.
        assert "🔁 2nd request since" in text
        assert "— &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; #1101, New" in text
        assert hostile not in text
        assert "🔁" not in card_text(stack, GROUP, 1100)
