"""The command menus Telegram shows, set with `setMyCommands` per scope and language.

Everyone (the default scope) sees a manager's commands, in English or, for apps set to
Russian, in Russian; group chats see those that make sense in a group; each admin sees the
admin commands too, in their own private chat (`BotCommandScopeChat`), in the language
they chose. Telegram shows the most specific scope that has commands."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel import col, select

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES
from domain.team import ManagerRole
from storage.database import Database
from storage.models import Manager

log = logging.getLogger(__name__)


def _leads_menu() -> list[BotCommand]:
    """What a manager may ask in a group and in private (in the current language)."""
    return [
        BotCommand(command="leads", description=_("Leads: today, week, month, new, unpaid, mine")),
        BotCommand(command="find", description=_("Find a lead by phone, e-mail, name or number")),
        BotCommand(command="lead", description=_("Show a lead's card: /lead 414")),
        BotCommand(command="stats", description=_("Numbers and a chart: today, week, month")),
        BotCommand(command="help", description=_("What I can do")),
    ]


def group_menu() -> list[BotCommand]:
    """What may be asked in a group chat: the leads, and (by an admin) which sites it gets."""
    return [
        *_leads_menu(),
        BotCommand(command="connect", description=_("Admins: send a site's cards here")),
        BotCommand(command="disconnect", description=_("Admins: stop a site's cards here")),
    ]


def manager_menu() -> list[BotCommand]:
    return [
        *_leads_menu(),
        BotCommand(command="away", description=_("Away: no new leads (/away 3d, until 14.12)")),
        BotCommand(command="back", description=_("Back at work: new leads again")),
        BotCommand(command="lang", description=_("Language")),
    ]


def admin_menu() -> list[BotCommand]:
    return [
        *manager_menu(),
        BotCommand(command="invite", description=_("Invite a manager: /invite [site …]")),
        BotCommand(command="managers", description=_("The team: enable or disable managers")),
        BotCommand(command="failed", description=_("Failed jobs: retry or discard")),
        BotCommand(command="sync", description=_("Sync with Flexbe now: /sync [site]")),
    ]


async def set_menus(bot: Bot, i18n: I18n, database: Database | None = None) -> None:
    """Every menu, at the bot's start; the admins' are read from the team (`database`)."""
    for language in LANGUAGES:
        code = None if language == DEFAULT_LANGUAGE else language
        with i18n.context(), i18n.use_locale(language):
            everyone, groups = manager_menu(), group_menu()
        await bot.set_my_commands(everyone, scope=BotCommandScopeDefault(), language_code=code)
        await bot.set_my_commands(groups, scope=BotCommandScopeAllGroupChats(), language_code=code)
    if database is None:
        return
    async with database.read() as session:
        admins = (
            await session.exec(
                select(Manager).where(
                    col(Manager.role) == ManagerRole.ADMIN.value, col(Manager.active).is_(True)
                )
            )
        ).all()
    await set_admin_menus(bot, i18n, [(admin.telegram_id, admin.language) for admin in admins])


async def set_admin_menus(bot: Bot, i18n: I18n, admins: Sequence[tuple[int, str]]) -> None:
    """Each admin's menu in their private chat, in their language (`(telegram_id, language)`)."""
    for telegram_id, language in admins:
        with i18n.context(), i18n.use_locale(language if language in LANGUAGES else "en"):
            commands = admin_menu()
        try:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=telegram_id))
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            # An admin who never wrote to the bot has no chat with it yet ("chat not
            # found"): they see the managers' menu until they do and the bot restarts.
            log.warning("no admin menu for %s: %s", telegram_id, exc.message)


async def drop_admin_menu(bot: Bot, telegram_id: int) -> None:
    """An admin made a manager again sees the managers' menu (the default scope's)."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=telegram_id))
    except (TelegramBadRequest, TelegramForbiddenError) as exc:
        log.warning("admin menu of %s not removed: %s", telegram_id, exc.message)
