"""The first admin's one-time link, `https://t.me/<bot>?start=admin-…`: while the team has
no admin, whoever opens it becomes one. The console's Sites page, the start-up banner and
`leadrelay admin-link` all make it here."""

from __future__ import annotations

from enum import Enum

from config.settings import Settings
from config.telegram_links import start_link
from integrations.health import CHECK_TIMEOUT_SECONDS, BotCheckFailed, identify_bot
from storage.database import Database
from storage.queries.setup import (
    BOT_USERNAME,
    count_admins,
    create_admin_link,
    get_value,
    set_value,
)


class NoLink(Enum):
    """Why there is no link to give."""

    HAS_ADMIN = "has_admin"  # admins make others admin (/managers, the console)
    NO_BOT = "no_bot"  # no token yet, or `getMe` did not name the bot


async def has_admin(database: Database, settings: Settings) -> bool:
    if settings.telegram_admins:
        return True
    async with database.read() as session:
        return await count_admins(session) > 0


async def bot_username(
    database: Database, settings: Settings, *, timeout: float = CHECK_TIMEOUT_SECONDS
) -> str | None:
    """The bot's username as stored (with a token pasted in the console, or asked before),
    else as `getMe` answers for the token in use, then kept."""
    async with database.read() as session:
        stored = await get_value(session, BOT_USERNAME)
    if stored is not None:
        return stored.value
    token = settings.bot_token
    if token is None:
        return None
    try:
        bot = await identify_bot(
            str(settings.telegram_api_url), token.get_secret_value(), timeout=timeout
        )
    except BotCheckFailed:
        return None
    async with database.write() as session:
        await set_value(session, BOT_USERNAME, bot.username, sealed=False)
    return bot.username


async def admin_link(database: Database, username: str) -> str:
    """A new link for the bot `username` (valid 24 h, once; stored hashed)."""
    async with database.write() as session:
        code = await create_admin_link(session)
    return start_link(username, code)


async def first_admin_link(
    database: Database, settings: Settings, *, timeout: float = CHECK_TIMEOUT_SECONDS
) -> str | NoLink:
    """`timeout`: how long `getMe` may take, if the bot's username is not known yet."""
    if await has_admin(database, settings):
        return NoLink.HAS_ADMIN
    username = await bot_username(database, settings, timeout=timeout)
    if username is None:
        return NoLink.NO_BOT
    return await admin_link(database, username)
