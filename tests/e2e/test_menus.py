"""Command menus per scope and language, as Telegram is asked to show them: everyone the
manager's commands, groups those that make sense there, each admin the admin commands in
their own chat and language (and again when they choose another with /lang)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import BotCommandScopeAllGroupChats, BotCommandScopeChat, BotCommandScopeDefault

from bot.app import set_commands
from storage.models import Manager, ManagerRole
from tests.e2e.conftest import Stack, eventually
from tests.e2e.team import ADMIN, RUSSIAN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ADMIN_COMMANDS = {"invite", "managers", "failed", "sync"}


async def menu(stack: Stack, scope: Any, language: str | None = None) -> dict[str, str]:
    """What Telegram holds for the scope and language, asked over HTTP as a client would."""
    commands = await stack.parts.bot.get_my_commands(scope=scope, language_code=language)
    return {c.command: c.description for c in commands}


async def test_menus_per_scope_and_language(stack: Stack) -> None:
    async with stack.database.write() as session:
        russian_admin = await session.get(Manager, RUSSIAN)
        assert russian_admin is not None
        russian_admin.role = ManagerRole.ADMIN.value
        session.add(russian_admin)
        # An admin who never wrote to the bot: Telegram has no chat to set a menu for.
        session.add(Manager(telegram_id=777, name="Silent", role=ManagerRole.ADMIN.value))
    for writer in (ADMIN, RUSSIAN):  # the chats Telegram knows: they wrote to the bot
        stack.telegram.message_update(writer, "/help")
    await eventually(lambda: bool(stack.telegram.chat(ADMIN) and stack.telegram.chat(RUSSIAN)))

    await set_commands(stack.parts.bot, stack.parts.i18n, stack.database)

    everyone = await menu(stack, BotCommandScopeDefault())
    assert {"leads", "find", "lead", "stats", "away", "back", "lang", "help"} == set(everyone)
    assert "phone" in everyone["find"]
    assert "телефону" in (await menu(stack, BotCommandScopeDefault(), "ru"))["find"]
    groups = await menu(stack, BotCommandScopeAllGroupChats())
    assert "lang" not in groups and "away" not in groups and "find" in groups
    assert "Заявки" in (await menu(stack, BotCommandScopeAllGroupChats(), "ru"))["leads"]
    admin = await menu(stack, BotCommandScopeChat(chat_id=ADMIN))
    assert set(admin) >= ADMIN_COMMANDS | {"find", "stats"}
    assert "Sync with Flexbe" in admin["sync"]
    assert "Сверить с Flexbe" in (await menu(stack, BotCommandScopeChat(chat_id=RUSSIAN)))["sync"]
    scopes = {(str(c["scope"]), c["language_code"]) for c in stack.telegram.commands}
    assert len(scopes) == len(stack.telegram.commands) == 6, "each menu set once"
    assert ("setMyCommands", "Bad Request: chat not found") in stack.telegram.rejected
    assert set(await menu(stack, BotCommandScopeDefault())) == set(everyone), "the rest set"


async def test_an_admin_who_picks_a_language_gets_the_menu_in_it(stack: Stack) -> None:
    stack.telegram.message_update(ADMIN, "/lang")
    await eventually(lambda: bool(stack.telegram.chat(ADMIN)))
    await set_commands(stack.parts.bot, stack.parts.i18n, stack.database)
    choice = stack.telegram.chat(ADMIN)[-1]
    russian = choice["reply_markup"]["inline_keyboard"][0][1]["callback_data"]

    stack.telegram.callback_update(ADMIN, ADMIN, choice["message_id"], russian)

    await eventually(lambda: len(stack.telegram.commands) == 6)
    admin = await menu(stack, BotCommandScopeChat(chat_id=ADMIN))
    assert "Сверить с Flexbe" in admin["sync"]
