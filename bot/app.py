"""Building the bot: the aiogram `Bot` pointed at the configured Bot API server, and the
dispatcher with its middlewares, routers and the services handlers reach by name."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.methods import Response
from aiogram.utils.i18n import I18n

from bot.config import BotConfig
from bot.handlers import get_routers
from bot.handlers.crm5_team import Crm5Managers, not_configured
from bot.menus import set_menus
from bot.middlewares import TeamI18nMiddleware, TeamMiddleware
from storage.database import Database

# aiogram reads every answer as `Response[<the method's result>]`, a generic pydantic model
# that pydantic caches weakly: once the collector took it, the next call builds it again,
# 5-18 ms of CPU each time, on a card's path (bench/drain.py). Held here, the models of the
# methods the bot calls are built once, at start-up, and live as long as the process.
_CALLED = (
    methods.AnswerCallbackQuery,
    methods.DeleteMessage,
    methods.DeleteMyCommands,
    methods.DeleteWebhook,
    methods.EditMessageReplyMarkup,
    methods.EditMessageText,
    methods.GetMe,
    methods.GetMyCommands,
    methods.GetUpdates,
    methods.SendChatAction,
    methods.SendMessage,
    methods.SendPhoto,
    methods.SetMyCommands,
    methods.SetWebhook,
)
RESPONSE_MODELS = {
    method: Response[method.__returning__]  # type: ignore[name-defined]
    for method in _CALLED
}


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
    # my_chat_member: the bot added to a chat or removed from it (`bot.handlers.chats`).
    for observer in (dispatcher.message, dispatcher.callback_query, dispatcher.my_chat_member):
        observer.outer_middleware(team)
        observer.outer_middleware(language)
    dispatcher.include_routers(*get_routers())
    return dispatcher


async def set_commands(bot: Bot, i18n: I18n, database: Database | None = None) -> None:
    """The command menus per scope and language (`bot.menus`)."""
    await set_menus(bot, i18n, database)
