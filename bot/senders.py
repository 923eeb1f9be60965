"""What the worker's senders of bot messages share: the card notifier (`bot.notifier`),
the SLA timers (`bot.sla`) and the daily digest (`bot.digest`), each sending to team chats
through its `bot.delivery.Delivery`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.config import BotConfig
from bot.delivery import Delivery
from storage.clock import utcnow
from storage.database import Database

Clock = Callable[[], datetime]


class Sender:
    """The bot that sends (to team chats through `delivery`), the database, the
    catalogues, what the bot knows of the configuration, and the worker's clock (whether
    a reminder is due already, how long a lead has waited, which day a digest is of)."""

    def __init__(
        self,
        *,
        bot: Bot,
        database: Database,
        i18n: I18n,
        config: BotConfig,
        clock: Clock = utcnow,
    ) -> None:
        self.bot = bot
        self.database = database
        self.i18n = i18n
        self.config = config
        self.clock = clock
        self.delivery = Delivery(bot=bot, database=database, config=config)
