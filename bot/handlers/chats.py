"""Connecting a group to the sites from Telegram: the question the bot asks when it is
added (a button per site, and "All sites", for admins only), `/connect [site]` and
`/disconnect [site]`; and the bot removed from a chat, or back (`bot.connections`).

The question is in the group's language, as the cards there are; the answers to a command
or a tap, and the refusal anyone but an admin gets, in the asker's. Connections are stored
(`storage.queries.setup`); every process takes them within a second
(`leadrelay.setup_watch`)."""

from __future__ import annotations

import html
import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Chat, ChatMemberUpdated, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import ChatLinkChoice
from bot.config import BotConfig
from bot.connections import (
    bot_back,
    bot_removed,
    can_post,
    configured_sites_here,
    find_site,
    is_outside,
    sites_here,
)
from bot.filters import AdminsOnly
from storage.models import EVERY_SITE
from storage.queries.setup import connect_chat, connections_of, disconnect_chat

log = logging.getLogger(__name__)

GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
IN_GROUPS = F.chat.type.in_(GROUPS)
# What `/connect all` and `/disconnect all` name every site by, beside the button.
ALL_WORDS = frozenset({"all", "*", "все", "всё"})
BUTTONS_PER_ROW = 2
MAX_TYPED = 100  # characters of a typed site that are looked at, and repeated


# --- the bot added, removed, back --------------------------------------------------------------


async def bot_member_changed(
    update: ChatMemberUpdated,
    session: AsyncSession,
    config: BotConfig,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Whatever the update repeats (a second "left", a promotion) changes nothing."""
    chat_id = update.chat.id
    old, new = update.old_chat_member, update.new_chat_member
    if not can_post(new):
        if can_post(old):
            await bot_removed(session, config, chat_id=chat_id, reason=f"bot {new.status}")
        return
    missed = await bot_back(session, config, chat_id=chat_id)
    if missed is not None:
        log.info("chat %s is back; %s leads it missed are summarised there", chat_id, missed)
    if is_outside(old) and not sites_here(config, chat_id):
        with i18n.use_locale(config.group_language):
            text, keyboard = await _question(session, config, update.chat, topic=None)
        try:
            await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except TelegramAPIError as exc:  # removed again at once, or may not post: said above
            log.warning("could not ask chat %s which sites it gets: %s", chat_id, exc.message)


# --- the question and its buttons ------------------------------------------------------------


async def _question(
    session: AsyncSession, config: BotConfig, chat: Chat, *, topic: int | None
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [html.escape(_("Which sites' leads should come to this chat?"))]
    lines.append(html.escape(_("Tap a site (admins only); tap more than one for several.")))
    lines.append(await _now_here(session, config, chat.id))
    return "\n\n".join(lines), _site_buttons(config, topic)


def _site_buttons(config: BotConfig, topic: int | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key, site in config.sites.items():
        builder.button(
            text=site.display_name, callback_data=ChatLinkChoice(site=key, topic=topic or 0)
        )
    builder.button(
        text=_("All sites"), callback_data=ChatLinkChoice(site=EVERY_SITE, topic=topic or 0)
    )
    builder.adjust(BUTTONS_PER_ROW)
    return builder.as_markup()


async def _now_here(session: AsyncSession, config: BotConfig, chat_id: int) -> str:
    """What the chat gets now, as stored (the watch merges it a moment later) and
    configured, escaped."""
    stored = {connection.site_key for connection in await connections_of(session, chat_id)}
    if EVERY_SITE in stored:
        return html.escape(_("This chat gets the cards of all sites."))
    keys = [key for key in config.sites if key in stored or key in sites_here(config, chat_id)]
    if not keys:
        return html.escape(_("This chat gets no site's cards yet."))
    return html.escape(
        _("This chat gets the cards of: {sites}.").format(sites=_names(config, keys))
    )


def _names(config: BotConfig, keys: list[str]) -> str:
    return ", ".join(config.site_names.get(key, key) for key in keys)


async def site_chosen(
    query: CallbackQuery,
    callback_data: ChatLinkChoice,
    session: AsyncSession,
    config: BotConfig,
    i18n: I18n,
) -> None:
    message = query.message
    if not isinstance(message, Message) or message.chat.type not in GROUPS:
        await query.answer(_only_admins(), show_alert=True)  # a forged button elsewhere
        return
    site_key = None if callback_data.site == EVERY_SITE else callback_data.site
    if site_key is not None and site_key not in config.sites:
        await query.answer(_("That site is gone. Ask with /connect again."), show_alert=True)
        return
    await connect_chat(
        session,
        chat_id=message.chat.id,
        site_key=site_key,
        topic=callback_data.topic or None,
        title=message.chat.title or "",
        created_by=query.from_user.id,
    )
    await query.answer(_("Connected."))
    with i18n.use_locale(config.group_language):
        text, keyboard = await _question(
            session, config, message.chat, topic=callback_data.topic or None
        )
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except TelegramAPIError as exc:
        # A second tap on the same site changes nothing; any other refusal leaves the
        # question as it was, and the connection made.
        if "not modified" not in exc.message:
            log.warning(
                "could not redraw the question in chat %s: %s", message.chat.id, exc.message
            )


# --- the commands ----------------------------------------------------------------------------


async def connect(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    config: BotConfig,
    i18n: I18n,
) -> None:
    """`/connect` asks with the buttons; `/connect <site>` (or `all`) connects at once. In a
    forum's topic, the topic gets the site's cards."""
    topic = message.message_thread_id if message.is_topic_message else None
    typed = (command.args or "").strip()[:MAX_TYPED]
    if not typed:
        with i18n.use_locale(config.group_language):
            text, keyboard = await _question(session, config, message.chat, topic=topic)
        await message.answer(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        return
    named = _site_named(config, typed)
    if named is None:
        await message.answer(_unknown_site(config, typed), parse_mode=None)
        return
    site_key = None if named == EVERY_SITE else named
    await connect_chat(
        session,
        chat_id=message.chat.id,
        site_key=site_key,
        topic=topic,
        title=message.chat.title or "",
        created_by=message.from_user.id if message.from_user else None,
    )
    if site_key is None:
        done = _("Connected: all sites' cards come here.")
    else:
        done = _("Connected: the cards of {site} come here.").format(
            site=config.site_names.get(site_key, site_key)
        )
    if topic is not None:
        done += " " + _("(to this topic)")
    await message.answer(done, parse_mode=None)


async def disconnect(
    message: Message, command: CommandObject, session: AsyncSession, config: BotConfig
) -> None:
    """`/disconnect` removes every connection of the chat made from Telegram or the
    console; `/disconnect <site>` that site's. Chats named in the configuration stay."""
    chat_id = message.chat.id
    typed = (command.args or "").strip()[:MAX_TYPED]
    named = _site_named(config, typed) if typed else EVERY_SITE
    if named is None:
        await message.answer(_unknown_site(config, typed), parse_mode=None)
        return
    site_key = None if named == EVERY_SITE else named
    before = await connections_of(session, chat_id)
    gone = [c.site_key for c in before if site_key is None or c.site_key == site_key]
    await disconnect_chat(session, chat_id=chat_id, site_key=site_key)
    if gone:
        names = [
            _("all sites") if key == EVERY_SITE else config.site_names.get(key, key) for key in gone
        ]
        lines = [_("Disconnected: {sites}.").format(sites=", ".join(names))]
    else:
        lines = [_("Nothing to disconnect: no site was connected to this chat here.")]
    configured = configured_sites_here(config, chat_id)
    if configured:
        lines.append(
            _("Still here from the configuration: {sites} (change it in the TOML).").format(
                sites=_names(config, configured)
            )
        )
    await message.answer("\n".join(lines), parse_mode=None)


def _only_admins() -> str:
    return _("Only an admin can connect or disconnect this chat.")


def _site_named(config: BotConfig, typed: str) -> str | None:
    """The site's key, EVERY_SITE for every site, None for no such site."""
    if typed.casefold() in ALL_WORDS:
        return EVERY_SITE
    return find_site(config, typed)


def _unknown_site(config: BotConfig, typed: str) -> str:
    sites = ", ".join(f"{key} ({name})" for key, name in config.site_names.items())
    return _('There is no site "{typed}". The sites: {sites}; or "all".').format(
        typed=typed, sites=sites
    )


def build_router() -> Router:
    router = Router(name=__name__)
    # Anyone may add the bot or remove it; only an admin may say which sites a chat gets.
    router.my_chat_member.register(bot_member_changed, IN_GROUPS)
    for observer in (router.message, router.callback_query):
        observer.middleware(AdminsOnly(_only_admins))
    router.message.register(connect, Command("connect"), IN_GROUPS)
    router.message.register(disconnect, Command("disconnect"), IN_GROUPS)
    router.callback_query.register(site_chosen, ChatLinkChoice.filter())
    return router
