"""A chat and the bot: which sites it gets, and what happens when the bot is removed from
it (or may no longer post there) and when it is back.

Removed: the chat is marked blocked at once (no card, summary or job is sent to it any
more, `storage.queries.cards.is_blocked`) and each admin is told once for that block (the
`telegram.alert` job). Back: it is unblocked and gets one summary (the `telegram.summary`
job, in parts of `PER_MESSAGE` leads if it missed more) of the leads it missed meanwhile,
with a button per lead that opens its card."""

from __future__ import annotations

import logging

from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberRestricted, ResultChatMemberUnion
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import BotConfig
from config.chats import ChatAddress
from domain.jobs import (
    BLOCKED_ALERT,
    BlockedAlertPayload,
    blocked_alert_key,
    missed_summary_key,
)
from storage.queries.bursts import MAX_SUMMARISED, enqueue_summaries
from storage.queries.cards import mark_blocked
from storage.queries.jobs import enqueue_job
from storage.queries.missed import blocked_at, missed_leads, unblock_chat

log = logging.getLogger(__name__)

# The bot is not in the chat in these (removed, or left): it was just added when it was.
_OUTSIDE = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.KICKED})


def is_outside(member: ResultChatMemberUnion) -> bool:
    return member.status in _OUTSIDE


def can_post(member: ResultChatMemberUnion) -> bool:
    """Whether the bot, as this member, may send messages to the chat."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member and member.can_send_messages
    return not is_outside(member)


def sites_here(config: BotConfig, chat_id: int) -> list[str]:
    """The keys of the sites whose cards go to `chat_id` now (configured or connected)."""
    return [key for key, chats in config.site_chats.items() if chat_id in chats]


def configured_sites_here(config: BotConfig, chat_id: int) -> list[str]:
    """The keys of the sites the configuration (the TOML, LEADRELAY_TELEGRAM_CHATS) sends
    to `chat_id`, which Telegram cannot disconnect (followed where the group moved)."""
    settings = config.live
    moves = settings.stored.moves
    found = []
    for site in settings.sites:
        chats = site.chats or tuple(ChatAddress.parse(chat) for chat in settings.telegram_chats)
        if any(moves.get(chat.chat_id, chat.chat_id) == chat_id for chat in chats):
            found.append(site.key)
    return found


def find_site(config: BotConfig, typed: str) -> str | None:
    """The site a person named, by its key or its name (any case, spaces squeezed)."""
    wanted = " ".join(typed.split()).casefold()
    for key, site in config.sites.items():
        if wanted in (key.casefold(), " ".join(site.display_name.split()).casefold()):
            return key
    return None


async def bot_removed(
    session: AsyncSession, config: BotConfig, *, chat_id: int, reason: str
) -> bool:
    """Stop every send to the chat; each admin is told once for this block (if the chat
    gets any site's cards). False if it was blocked already."""
    if not await mark_blocked(session, chat_id, reason):
        return False
    log.warning("chat %s no longer accepts messages: %s", chat_id, reason)
    since = await blocked_at(session, chat_id=chat_id)
    if not sites_here(config, chat_id):
        return True
    for admin in config.admins:
        if admin == chat_id:
            continue
        await enqueue_job(
            session,
            BLOCKED_ALERT,
            BlockedAlertPayload(chat_id=admin, blocked_chat=chat_id),
            dedupe_key=blocked_alert_key(chat_id, admin, since),
        )
    return True


async def bot_back(session: AsyncSession, config: BotConfig, *, chat_id: int) -> int | None:
    """The bot may post in the chat again: unblocked, and the leads it missed meanwhile are
    summarised there. How many; None if the chat was not blocked."""
    since = await unblock_chat(session, chat_id=chat_id)
    if since is None:
        return None
    log.info("chat %s accepts messages again", chat_id)
    lead_ids = await missed_leads(
        session,
        chat_id=chat_id,
        site_keys=sites_here(config, chat_id),
        since=since,
        limit=MAX_SUMMARISED,
    )
    await enqueue_summaries(
        session,
        chat_id=chat_id,
        lead_ids=lead_ids,
        key_of=lambda number: missed_summary_key(chat_id, since, number),
    )
    return len(lead_ids)
