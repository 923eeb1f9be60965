"""Where a site's messages land, over real HTTP with the loopback Telegram: a forum topic
named in the configuration (`"-100…:15"`) or connected from Telegram gets the card, its
SLA reminder and the digest; a deleted topic sends to General and tells the admins once;
a group that became a supergroup (told by the 400 on a send, or by the update) keeps
getting everything at its new id, the failed card included, nothing lost or shown twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.config import BotConfig
from bot.digest import schedule_digests
from config.chats import ChatAddress
from jobs import signals
from leadrelay.setup_watch import SetupWatch
from storage.clock import utcnow
from storage.database import Database
from storage.models import Card, ChatConnection, ChatMove
from storage.queries.setup import connect_chat, setup_version
from testkit.factories import lead_event
from tests.e2e.conftest import (
    AheadClock,
    Stack,
    card_of,
    eventually,
    last_text,
    open_stack,
    tap,
)
from tests.e2e.team import ADMIN, MANAGER, RUSSIAN

FORUM, TOPIC = -1002000, 15
CONNECTED, CONNECTED_TOPIC = -1003000, 7
OLD_GROUP, SUPERGROUP = -4001, -1004001
REMINDER = "⏰ Nobody has taken this lead for"
MOVED = "became supergroup"
TOPIC_GONE = "does not exist"


def texts(stack: Stack, chat: int, start: str) -> list[dict[str, Any]]:
    return [m for m in stack.telegram.chat(chat) if m["text"].startswith(start)]


def told(stack: Stack, admin: int, words: str) -> list[str]:
    return [m["text"] for m in stack.telegram.chat(admin) if words in m["text"]]


def cards(stack: Stack, chat: int, num: int = 414) -> list[dict[str, Any]]:
    return [m for m in stack.telegram.chat(chat) if f"#{num}</b>" in m["text"]]


def refused_moves(stack: Stack) -> int:
    return sum("upgraded to a supergroup" in reason for _, reason in stack.telegram.rejected)


async def cards_in(database: Database, chat_id: int) -> list[int]:
    """The message ids of the cards stored in `chat_id`, once one is (saved just after
    Telegram has it)."""
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while True:
        async with database.read() as session:
            found = (await session.exec(select(Card).where(Card.chat_id == chat_id))).all()
        if found:
            return [card.message_id for card in found if card.message_id is not None]
        assert datetime.now(UTC) < deadline, "no card was stored in time"
        await asyncio.sleep(0.02)


def card_in(stack: Stack, chat: int) -> Callable[[], bool]:
    return lambda: card_of(stack.telegram, chat) is not None


def has(stack: Stack, chat: int, start: str, count: int = 1) -> Callable[[], bool]:
    return lambda: len(texts(stack, chat, start)) == count


async def until_moved(database: Database) -> None:
    """Until the database holds the old group's move."""
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while True:
        async with database.read() as session:
            if await session.get(ChatMove, OLD_GROUP) is not None:
                return
        assert datetime.now(UTC) < deadline, "the move was not stored in time"
        await asyncio.sleep(0.02)


async def test_a_topic_gets_the_card_its_reminder_and_the_digest(database: Database) -> None:
    clock = AheadClock()
    options = {"sla_remind_after": "15m", "digest_at": "09:00"}
    async with open_stack(
        database, clock=clock, options=options, chats=(ChatAddress(FORUM, TOPIC),)
    ) as stack:
        stack.telegram.make_forum(FORUM, {TOPIC})
        stack.telegram.make_forum(CONNECTED, {CONNECTED_TOPIC})
        # A forum's topic connected from Telegram (by /connect inside it), then the set-up
        # watch of this process reads it, as it does each second.
        async with database.write() as session:
            await connect_chat(
                session,
                chat_id=CONNECTED,
                site_key="okna",
                topic=CONNECTED_TOPIC,
                title="Sales",
                created_by=ADMIN,
            )
        await SetupWatch(database, stack.settings).refresh()

        await stack.new_lead(time=int(utcnow().timestamp()) - 60)
        for chat, topic in ((FORUM, TOPIC), (CONNECTED, CONNECTED_TOPIC)):
            await eventually(card_in(stack, chat))
            card = card_of(stack.telegram, chat)
            assert card is not None and card["message_thread_id"] == topic

        clock.advance(16 * 60)
        signals.notify_enqueued()
        for chat, topic in ((FORUM, TOPIC), (CONNECTED, CONNECTED_TOPIC)):
            await eventually(has(stack, chat, REMINDER))
            reminder = texts(stack, chat, REMINDER)[0]
            card = card_of(stack.telegram, chat)
            assert card is not None
            assert reminder["message_thread_id"] == topic
            assert reminder["reply_to"] == card["message_id"]

        tomorrow = utcnow().date() + timedelta(days=1)
        clock.to(datetime.combine(tomorrow, datetime.min.time(), tzinfo=UTC))
        clock.advance(9 * 3600 + 30)
        await schedule_digests(database, BotConfig.from_settings(stack.settings), now=clock())
        signals.notify_enqueued()
        for chat, topic in ((FORUM, TOPIC), (CONNECTED, CONNECTED_TOPIC)):
            await eventually(has(stack, chat, "<b>Digest of"))
            assert texts(stack, chat, "<b>Digest of")[0]["message_thread_id"] == topic
        # Nothing went to a forum's General, nothing was refused.
        assert stack.telegram.rejected == []
        for chat in (FORUM, CONNECTED):
            assert all(m["message_thread_id"] is not None for m in stack.telegram.chat(chat))


async def test_a_deleted_topic_sends_to_general_and_tells_the_admins_once(
    database: Database,
) -> None:
    async with open_stack(
        database, admins=(ADMIN, RUSSIAN), chats=(ChatAddress(FORUM, TOPIC),)
    ) as stack:
        stack.telegram.make_forum(FORUM, {TOPIC})
        stack.telegram.delete_topic(FORUM, TOPIC)

        card = await stack.new_card(FORUM)
        assert card["message_thread_id"] is None, "in General"
        await eventually(lambda: bool(told(stack, ADMIN, TOPIC_GONE)))
        alert = told(stack, ADMIN, TOPIC_GONE)[0]
        assert f"Topic {TOPIC} of chat {FORUM}" in alert and "Окна СПб" in alert
        assert "/connect" in alert
        await eventually(lambda: bool(told(stack, RUSSIAN, "не существует")))

        # The next lead's card goes to General at once; the admins are not told again.
        await stack.post_lead(lead_event(1415))
        await eventually(lambda: card_of(stack.telegram, FORUM, 415) is not None)
        second = card_of(stack.telegram, FORUM, 415)
        assert second is not None and second["message_thread_id"] is None
        assert len(told(stack, ADMIN, TOPIC_GONE)) == 1
        assert len(told(stack, RUSSIAN, "не существует")) == 1


async def test_a_group_moved_as_a_send_finds_keeps_every_card(database: Database) -> None:
    async with open_stack(database, chats=(ChatAddress(OLD_GROUP),)) as stack:
        async with database.read() as session:
            version = await setup_version(session)
        stack.telegram.migrate_group(OLD_GROUP, SUPERGROUP)

        # The card Telegram refused is delivered to the supergroup at once.
        card = await stack.new_card(SUPERGROUP)
        assert refused_moves(stack) == 1
        assert stack.telegram.chat(OLD_GROUP) == []
        await eventually(lambda: bool(told(stack, ADMIN, MOVED)))
        alert = told(stack, ADMIN, MOVED)[0]
        assert f"Group {OLD_GROUP} became supergroup {SUPERGROUP}" in alert
        # The old id came from the configuration: the line to change, as it should read.
        assert f'key = "okna": chats = [{SUPERGROUP}]' in alert
        async with database.read() as session:
            moves = (await session.exec(select(ChatMove))).all()
            assert [(m.old_id, m.new_id) for m in moves] == [(OLD_GROUP, SUPERGROUP)]
            assert await setup_version(session) > version, "every process reloads it"
        assert await cards_in(database, SUPERGROUP) == [card["message_id"]]

        # Its edits go there: a tap edits the card in place.
        await tap(stack, "✋ Take", chat=SUPERGROUP)
        await eventually(
            lambda: "Max" in str((card_of(stack.telegram, SUPERGROUP) or {}).get("text"))
        )
        assert len(cards(stack, SUPERGROUP)) == 1

        # The same lead's webhook twice more: no second card; a new lead goes straight there.
        await stack.post_lead(lead_event(1414))
        await stack.post_lead(lead_event(1414))
        await stack.post_lead(lead_event(1415))
        await eventually(lambda: card_of(stack.telegram, SUPERGROUP, 415) is not None)
        signals.notify_enqueued()
        await eventually(lambda: len(told(stack, ADMIN, MOVED)) == 1)
        assert len(cards(stack, SUPERGROUP)) == 1
        assert len(cards(stack, SUPERGROUP, 415)) == 1
        assert refused_moves(stack) == 1, "known now: not asked at the old id again"
        assert stack.telegram.chat(OLD_GROUP) == []
        assert len(told(stack, ADMIN, MOVED)) == 1


@pytest.mark.parametrize("told_by", ["migrate_to_chat_id", "migrate_from_chat_id"])
async def test_a_group_moved_as_the_update_says_gets_its_next_card_there(
    database: Database, told_by: str
) -> None:
    async with open_stack(database, chats=(ChatAddress(OLD_GROUP),)) as stack:
        async with database.write() as session:
            await connect_chat(
                session, chat_id=OLD_GROUP, site_key=None, topic=None, title="Old", created_by=None
            )
        stack.telegram.migrate_group(OLD_GROUP, SUPERGROUP)
        in_old, in_new = stack.telegram.build_migration_updates(
            OLD_GROUP, SUPERGROUP, user_id=MANAGER
        )
        stack.telegram.push_update(in_old if told_by == "migrate_to_chat_id" else in_new)

        await until_moved(database)
        async with database.read() as session:
            connections = (await session.exec(select(ChatConnection))).all()
            assert [c.chat_id for c in connections] == [SUPERGROUP], "the connection moved"
        await eventually(lambda: len(told(stack, ADMIN, MOVED)) == 1)

        # The other service message of the pair changes nothing more.
        stack.telegram.push_update(in_new if told_by == "migrate_to_chat_id" else in_old)
        card = await stack.new_card(SUPERGROUP)
        assert refused_moves(stack) == 0, "never sent to the old id"
        assert stack.telegram.chat(OLD_GROUP) == []
        assert await cards_in(database, SUPERGROUP) == [card["message_id"]]
        signals.notify_enqueued()
        await eventually(lambda: len(told(stack, ADMIN, MOVED)) == 1)
        assert len(cards(stack, SUPERGROUP)) == 1
        assert len(told(stack, ADMIN, MOVED)) == 1


async def test_stats_asked_in_a_topic_answer_and_chart_there(database: Database) -> None:
    async with open_stack(database, chats=(ChatAddress(FORUM, TOPIC),)) as stack:
        stack.telegram.make_forum(FORUM, {TOPIC})
        await stack.new_card(FORUM, event=lead_event(1414, time=int(utcnow().timestamp()) - 60))
        in_topic = {"message_thread_id": TOPIC, "is_topic_message": True}
        stack.telegram.message_update(MANAGER, "/stats today", chat_id=FORUM, extra=in_topic)
        await eventually(lambda: "Leads: 1" in last_text(stack, FORUM))
        assert stack.telegram.chat(FORUM)[-1]["message_thread_id"] == TOPIC
        await eventually(lambda: len(stack.telegram.photos) == 1, timeout=60)
        photo = stack.telegram.photos[0]
        assert photo["chat_id"] == FORUM
        assert stack.telegram.thread_of(FORUM, photo["message_id"]) == TOPIC
