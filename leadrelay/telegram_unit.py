"""The bot of the bot token in use, followed without a restart, in every role.

`TelegramUnit` owns the current Telegram parts (`leadrelay.handlers.Telegram`: Bot,
Dispatcher, I18n), built from `settings.bot_token`. Told of each change of the stored
set-up (`follow`, a `SetupWatch` listener), it builds the parts when a token appears,
replaces them when it changes and drops them when it goes; its listeners are told (the
worker swaps its registry), and the old bot's session is closed after a short grace, in
which the sends under way end and its polling stops.

The bot role runs `run_bot`: it polls the current bot (or sets its webhook), starts again
with the next one when the token changes, and waits while there is none. A bot that cannot
start (Telegram unreachable, the token refused) is tried again with backoff and logged in
words, never with the token; the web and the worker keep running meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from config.settings import Settings
from config.telegram_webhook import derive_webhook_secrets
from storage.database import Database

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

    from config.sites import StoredSetup
    from leadrelay.handlers import Telegram

log = logging.getLogger(__name__)

# How long an old bot's session stays open once replaced: its polling stops at once, a send
# under way with it ends (or fails and is retried with the new bot).
RETIRE_SECONDS = 5.0
# A bot that cannot start is tried again after 1, 2, 4… seconds, at most this long.
START_RETRY_MAX_SECONDS = 60.0

# Told the new parts (None: no bot any more) each time the token changes.
PartsListener = Callable[["Telegram | None"], Awaitable[None] | None]


def build_telegram(settings: Settings, database: Database, token: str) -> Telegram:
    """The bot of `token` with its dispatcher; nothing is asked of Telegram yet."""
    from actions.clients import crm5_managers_for
    from bot.app import build_bot, build_dispatcher
    from bot.config import BotConfig
    from bot.i18n import build_i18n
    from leadrelay.handlers import Telegram

    i18n = build_i18n()
    bot = build_bot(token, str(settings.telegram_api_url))
    dispatcher = build_dispatcher(
        database=database,
        i18n=i18n,
        config=BotConfig.from_settings(settings),
        crm5_managers=crm5_managers_for(settings),
    )
    return Telegram(bot=bot, dispatcher=dispatcher, i18n=i18n)


class TelegramUnit:
    """The current Telegram parts, following `settings.bot_token`."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.current: Telegram | None = None
        self.listeners: list[PartsListener] = []
        self._token: str | None = None
        # Set, and replaced by a fresh one, at each change: what waits on the current bot
        # (the bot role) wakes.
        self._changed = asyncio.Event()
        self._retiring: set[asyncio.Task[None]] = set()

    async def follow(self, *_: StoredSetup) -> None:
        """Take up the token in the settings now, if it is not the one in use."""
        secret = self.settings.bot_token
        token = secret.get_secret_value() if secret is not None else None
        if token == self._token:
            return
        self._token = token
        old, self.current = self.current, self._build(token)
        if self.current is None:
            log.info("no bot token any more: the Telegram bot is stopped")
        elif old is not None:
            log.info("the bot token changed: the Telegram bot is replaced")
        for listener in self.listeners:
            outcome = listener(self.current)
            if inspect.isawaitable(outcome):
                await outcome
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        if old is not None:
            task = asyncio.create_task(self._retire(old))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    def _build(self, token: str | None) -> Telegram | None:
        if token is None:
            return None
        try:
            return build_telegram(self.settings, self.database, token)
        except Exception as error:  # aiogram refuses a token not shaped as one
            log.error("the Telegram bot cannot be built: %s", _words(error, token))
            return None

    async def changed(self) -> None:
        """Return once the current parts change."""
        await self._changed.wait()

    async def _retire(self, old: Telegram, *, grace: float = RETIRE_SECONDS) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(grace)
        await _close(old)

    async def aclose(self) -> None:
        """Close every session: the current bot's and those still retiring."""
        for task in list(self._retiring):
            task.cancel()  # closes at once
        await asyncio.gather(*self._retiring, return_exceptions=True)
        if self.current is not None:
            await _close(self.current)


async def _close(parts: Telegram) -> None:
    try:
        await parts.bot.session.close()
    except Exception as error:
        log.warning("the Telegram session did not close cleanly: %s", type(error).__name__)


async def run_bot(settings: Settings, unit: TelegramUnit, stop: asyncio.Event) -> None:
    """The bot role: the current bot polls (or sets its webhook) until `stop`, started
    again with each new token; one that cannot start is retried with backoff."""
    failures = 0
    while not stop.is_set():
        parts = unit.current
        if parts is None:
            await _until(stop, unit.changed())
            continue
        session_over = asyncio.Event()
        watcher = asyncio.create_task(_set_when(session_over, stop, unit.changed()))
        try:
            await serve_bot(settings, parts, session_over)
            if not session_over.is_set():
                raise RuntimeError("the polling ended by itself")
            failures = 0
        except Exception as error:
            failures += 1
            delay = max(min(START_RETRY_MAX_SECONDS, 2.0 ** (failures - 1)), _asked_delay(error))
            log.error(
                "the Telegram bot cannot start: %s; trying again in %.0f s",
                _words(error, parts.bot.token),
                delay,
            )
            # A new token is tried at once; stopping stops the wait.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session_over.wait(), delay)
        finally:
            watcher.cancel()
        if unit.current is not parts and not stop.is_set():
            await _leave_webhook(settings, parts)


async def serve_bot(settings: Settings, telegram: Telegram, stop: asyncio.Event) -> None:
    """One bot until `stop`: its commands set, then its webhook (with a public URL and a
    webhook secret: updates come through the web role) or polling."""
    from bot.app import set_commands

    bot, dispatcher = telegram.bot, telegram.dispatcher
    await set_commands(bot, telegram.i18n, dispatcher["database"])
    secret = settings.telegram_webhook_secret
    if secret is not None and settings.public_url is not None:
        derived = derive_webhook_secrets(secret.get_secret_value())
        url = f"{str(settings.public_url).rstrip('/')}/telegram/{derived.path}"
        await bot.set_webhook(
            url,
            secret_token=derived.header,
            allowed_updates=dispatcher.resolve_used_update_types(),
        )
        log.info("Telegram webhook set; updates arrive through the web role")
        await stop.wait()
        return
    await bot.delete_webhook(drop_pending_updates=False)
    await poll(bot, dispatcher, stop)


async def poll(bot: Bot, dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    polling = asyncio.create_task(
        # Updates handled one by one (handlers only write jobs, so this is quick): at shutdown
        # none is left half-done in a stray task.
        dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, handle_as_tasks=False
        )
    )
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await dispatcher.stop_polling()
    stopper.cancel()
    await polling


async def _leave_webhook(settings: Settings, old: Telegram) -> None:
    """A replaced bot's webhook is taken off: its updates would come to the new bot's
    dispatcher. Best effort: a revoked token cannot do it, and needs not."""
    if settings.telegram_webhook_secret is None or settings.public_url is None:
        return
    try:
        await old.bot.delete_webhook(drop_pending_updates=False)
    except Exception as error:
        log.info("the old bot's webhook is left as it is: %s", _words(error, old.bot.token))


async def _until(stop: asyncio.Event, other: Awaitable[None]) -> None:
    done = asyncio.Event()
    await _set_when(done, stop, other)


async def _set_when(event: asyncio.Event, stop: asyncio.Event, other: Awaitable[None]) -> None:
    """Set `event` when `stop` is set or `other` ends."""
    waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other)}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        event.set()


def _asked_delay(error: Exception) -> float:
    """Seconds Telegram asked us to wait (a 429's `retry_after`), else 0."""
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _words(error: Exception, token: str) -> str:
    """What went wrong, for an admin reading the log; the token never in it."""
    from aiogram.exceptions import (
        TelegramNetworkError,
        TelegramRetryAfter,
        TelegramUnauthorizedError,
    )
    from aiogram.utils.token import TokenValidationError

    if isinstance(error, TelegramUnauthorizedError):
        text = (
            "Telegram refused the bot token (401 Unauthorized): paste the bot's current token "
            "on the console's Sites page, or set LEADRELAY_TELEGRAM_BOT_TOKEN"
        )
    elif isinstance(error, TokenValidationError):
        text = "the bot token is not shaped as one from @BotFather (digits, a colon, letters)"
    elif isinstance(error, TelegramNetworkError):
        text = f"cannot reach the Bot API (LEADRELAY_TELEGRAM_API_URL): {error.message}"
    elif isinstance(error, TelegramRetryAfter):
        text = f"Telegram asks to wait {error.retry_after} s (429)"
    else:
        text = f"{type(error).__name__}: {error}"
    return text.replace(token, "[bot token]")[:500] if token else text[:500]
