"""The one way a bot message reaches a team chat: cards and their edits, payment replies,
SLA reminders, burst summaries and digests all go through `Delivery`.

It sends where the chat is now (a group that became a supergroup is followed) and, in a
forum, to the topic its site's cards go to (`message_thread_id`). Telegram's refusals are
read alike for every message:
- the group became a supergroup (400 with `migrate_to_chat_id`): the move is stored
  (every process follows it within a second, this one at once), each admin is told once,
  and the same message goes to the new id;
- the topic does not exist (400 "message thread not found"): the message goes to the chat
  itself (General in a forum) and each admin is told once which site's topic is missing;
- the bot was blocked or removed (403): the chat is marked so, its admins told once, and
  nothing is sent (None back);
- 429 `retry_after` stays an exception: the job engine honours it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramMigrateToChat
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import BotConfig
from domain.jobs import (
    BLOCKED_ALERT,
    MOVED_ALERT,
    TOPIC_ALERT,
    BlockedAlertPayload,
    MovedAlertPayload,
    TopicAlertPayload,
    blocked_alert_key,
    moved_alert_key,
    topic_alert_key,
)
from storage.database import Database
from storage.queries import cards as card_queries
from storage.queries.jobs import enqueue_job
from storage.queries.setup import move_chat

log = logging.getLogger(__name__)

# What Telegram says of a `message_thread_id` that names no topic of the chat.
THREAD_NOT_FOUND = "message thread not found"
# What a parse mode left out means: the bot's default (HTML).
BOT_DEFAULT = Default("parse_mode")

ParseMode = str | Default | None
Send = Callable[[int, int | None], Awaitable[Message]]


@dataclass(frozen=True, slots=True)
class Delivered:
    """A message sent or edited: the chat it is in (the new id if the group had moved)
    and its id there."""

    chat_id: int
    message_id: int


class ChatMoved(Exception):
    """An edit found the group moved to `new_chat` (stored, admins told): the message
    there is another one, so the caller posts it anew."""

    def __init__(self, new_chat: int) -> None:
        super().__init__(f"the chat moved to {new_chat}")
        self.new_chat = new_chat


async def record_move(
    session: AsyncSession, config: BotConfig, *, old_id: int, new_id: int
) -> bool:
    """Group `old_id` became supergroup `new_id`: store the move (raising the set-up's
    version) and tell each admin once, in the caller's transaction. True if it was new.
    The caller runs `config.live.follow_move` once it is committed."""
    moved = await move_chat(session, old_id=old_id, new_id=new_id)
    for admin in config.admins:
        await enqueue_job(
            session,
            MOVED_ALERT,
            MovedAlertPayload(chat_id=admin, old_chat=old_id, new_chat=new_id),
            dedupe_key=moved_alert_key(old_id, admin),
        )
    return moved


class Delivery:
    """Sends to team chats for one sender (`bot.senders.Sender`)."""

    def __init__(self, *, bot: Bot, database: Database, config: BotConfig) -> None:
        self.bot = bot
        self.database = database
        self.config = config
        # Topics found missing here: later messages go to General without asking again.
        self._missing_topics: set[tuple[int, int]] = set()

    def chat_now(self, chat_id: int) -> int:
        """Where `chat_id` is now (a group may have become a supergroup): memory only."""
        return self.config.live.chat_now(chat_id)

    def topic(self, chat_id: int, sites: Iterable[str]) -> int | None:
        """The topic of `chat_id` the messages of `sites` go to: theirs if they agree on
        one (a summary of two sites with two topics goes to General), else None."""
        known = self.config.sites
        found = {
            known[key].topic_in(chat_id) if key in known else None for key in dict.fromkeys(sites)
        }
        topic = found.pop() if len(found) == 1 else None
        if topic is None or (chat_id, topic) in self._missing_topics:
            return None
        return topic

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        sites: Iterable[str] = (),
        parse_mode: ParseMode = BOT_DEFAULT,
        reply_markup: InlineKeyboardMarkup | None = None,
        reply_parameters: ReplyParameters | None = None,
        topic: int | None = None,
    ) -> Delivered | None:
        """A message to `chat_id`, in the topic of `sites` there (or `topic`: the one a
        command was asked in); None if the chat refuses the bot."""

        async def send(target: int, thread: int | None) -> Message:
            return await self.bot.send_message(
                target,
                text,
                message_thread_id=thread,
                parse_mode=parse_mode,
                reply_markup=reply_markup,
                reply_parameters=reply_parameters,
            )

        return await self._deliver(chat_id, tuple(sites), send, topic)

    async def send_photo(
        self,
        chat_id: int,
        photo: BufferedInputFile,
        *,
        caption: str,
        sites: Iterable[str] = (),
        parse_mode: ParseMode = BOT_DEFAULT,
        topic: int | None = None,
    ) -> Delivered | None:
        async def send(target: int, thread: int | None) -> Message:
            return await self.bot.send_photo(
                target, photo, message_thread_id=thread, caption=caption, parse_mode=parse_mode
            )

        return await self._deliver(chat_id, tuple(sites), send, topic)

    async def edit_text(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None,
        parse_mode: ParseMode,
    ) -> bool:
        """Edit a message in place: False if the chat refuses the bot; `ChatMoved` if the
        group became a supergroup (the message is in the old group)."""
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=parse_mode,
                reply_markup=reply_markup,
            )
        except TelegramMigrateToChat as exc:
            await self.moved(chat_id, exc.migrate_to_chat_id)
            raise ChatMoved(exc.migrate_to_chat_id) from exc
        except TelegramForbiddenError as exc:
            await self.blocked(chat_id, exc.message)
            return False
        return True

    async def moved(self, old_id: int, new_id: int) -> None:
        """Telegram said `old_id` is now `new_id`: stored, told, and followed at once."""
        log.warning("group %s became supergroup %s; its messages go there now", old_id, new_id)
        async with self.database.write() as session:
            await record_move(session, self.config, old_id=old_id, new_id=new_id)
        self.config.live.follow_move(old_id, new_id)

    async def blocked(self, chat_id: int, reason: str) -> None:
        """The chat refuses the bot: marked so (nothing is sent there again) and each
        admin told once."""
        log.warning("chat %s no longer accepts messages: %s", chat_id, reason)
        async with self.database.write() as session:
            if not await card_queries.mark_blocked(session, chat_id, reason):
                return
            for admin in self.config.admins:
                if admin == chat_id:
                    continue
                await enqueue_job(
                    session,
                    BLOCKED_ALERT,
                    BlockedAlertPayload(chat_id=admin, blocked_chat=chat_id),
                    dedupe_key=blocked_alert_key(chat_id, admin),
                )

    async def _deliver(
        self, chat_id: int, sites: tuple[str, ...], send: Send, topic: int | None
    ) -> Delivered | None:
        target = self.chat_now(chat_id)
        thread = self.topic(target, sites) if topic is None else topic
        followed = {target}
        while True:
            try:
                sent = await send(target, thread)
                return Delivered(target, sent.message_id)
            except TelegramMigrateToChat as exc:
                new_id = exc.migrate_to_chat_id
                if new_id in followed:  # a loop Telegram would never answer: give up
                    raise
                await self.moved(target, new_id)
                followed.add(new_id)
                # A group has no topics: the supergroup's are those connected there later.
                target, thread = new_id, self.topic(new_id, sites)
            except TelegramBadRequest as exc:
                if thread is None or THREAD_NOT_FOUND not in exc.message.lower():
                    raise
                await self._topic_missing(target, thread, sites)
                thread = None
            except TelegramForbiddenError as exc:
                await self.blocked(target, exc.message)
                return None

    async def _topic_missing(self, chat_id: int, topic: int, sites: tuple[str, ...]) -> None:
        """Sent to General instead; each admin is told once which site's topic is gone."""
        log.warning("topic %s of chat %s is missing; sent to the chat itself", topic, chat_id)
        self._missing_topics.add((chat_id, topic))
        known = self.config.sites
        named = [
            key
            for key in dict.fromkeys(sites)
            if key in known and known[key].topic_in(chat_id) == topic
        ]
        if not named:  # the topic a command was asked in, gone since: nothing to correct
            return
        async with self.database.write() as session:
            for admin in self.config.admins:
                await enqueue_job(
                    session,
                    TOPIC_ALERT,
                    TopicAlertPayload(
                        chat_id=admin, topic_chat=chat_id, topic=topic, site=", ".join(named)
                    ),
                    dedupe_key=topic_alert_key(chat_id, topic, admin),
                )
