"""Building the bot: the aiogram `Bot` pointed at the configured Bot API server, and the
dispatcher with its middlewares, routers and the services handlers reach by name."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import BotConfig
from bot.handlers import get_routers
from bot.handlers.crm5_team import Crm5Managers, not_configured
from bot.i18n import LANGUAGES
from bot.middlewares import TeamI18nMiddleware, TeamMiddleware
from storage.database import Database


def command_menu() -> list[BotCommand]:
    """The menu in the current language (set by the caller)."""
    return [
        BotCommand(command="leads", description=_("Leads: today, yesterday, week, new, unpaid")),
        BotCommand(command="lead", description=_("Show a lead's card: /lead 414")),
        BotCommand(command="stats", description=_("Numbers: today, week, month")),
        BotCommand(command="lang", description=_("Language")),
        BotCommand(command="help", description=_("What I can do")),
    ]


def build_bot(token: str, api_url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_dispatcher(
    *,
    database: Database,
    i18n: I18n,
    config: BotConfig,
    crm5_managers: Crm5Managers = not_configured,
) -> Dispatcher:
    """`crm5_managers`: asks 5CRM for its managers (admins link the team to them)."""
    dispatcher = Dispatcher(config=config, database=database, crm5_managers=crm5_managers)
    team = TeamMiddleware(database)
    language = TeamI18nMiddleware(i18n)
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.outer_middleware(team)
        observer.outer_middleware(language)
    dispatcher.include_routers(*get_routers())
    return dispatcher


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu: English by default, Russian for apps set to Russian."""
    for language in LANGUAGES:
        with i18n.context(), i18n.use_locale(language):
            commands = command_menu()
        await bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if language == "en" else language,
        )
