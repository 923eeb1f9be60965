"""The loopback Telegram's groups: the bot added, removed, restricted and back
(`my_chat_member`, as aiogram reads it), and messages in a forum's topics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ChatMemberRestricted

from testkit.fakes.telegram import BOT_ID, TelegramFake

ADMIN, GROUP, FORUM = 4242, -1001234567, -1009876543


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    telegram = TelegramFake(poll_cap=0.05)
    async with telegram.running():
        yield telegram


@pytest.fixture
async def bot(fake: TelegramFake) -> AsyncIterator[Bot]:
    bot = Bot(fake.token, session=fake.session())
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_the_bot_removed_and_back_as_aiogram_reads_it(fake: TelegramFake, bot: Bot) -> None:
    fake.member_update(GROUP, "administrator", by=ADMIN, title="Sales & <co>")
    fake.member_update(GROUP, "restricted", old="administrator", by=ADMIN)
    fake.member_update(GROUP, "kicked", old="restricted", by=ADMIN)

    added, muted, kicked = await bot.get_updates(allowed_updates=["my_chat_member"])

    assert added.my_chat_member is not None and muted.my_chat_member is not None
    assert kicked.my_chat_member is not None
    assert added.my_chat_member.chat.title == "Sales & <co>"
    assert added.my_chat_member.new_chat_member.status == "administrator"
    assert added.my_chat_member.new_chat_member.user.id == BOT_ID
    restricted = muted.my_chat_member.new_chat_member
    assert isinstance(restricted, ChatMemberRestricted) and not restricted.can_send_messages
    assert kicked.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(TelegramForbiddenError, match="kicked from the supergroup"):
        await bot.send_message(GROUP, "still here?")

    fake.member_update(GROUP, "member", old="kicked", by=ADMIN)
    sent = await bot.send_message(GROUP, "back")
    assert sent.chat.title == "Sales & <co>", "the group keeps its title"
    with pytest.raises(ValueError, match="not a chat member's status"):
        fake.build_member_update(GROUP, "owner", by=ADMIN)


async def test_a_message_in_a_forums_topic(fake: TelegramFake, bot: Bot) -> None:
    fake.topic_message_update(ADMIN, "/connect", chat_id=FORUM, topic=15)

    (update,) = await bot.get_updates()

    assert update.message is not None
    assert update.message.is_topic_message and update.message.message_thread_id == 15
    assert update.message.chat.is_forum
