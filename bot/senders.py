"""What the worker's senders of bot messages share: the card notifier (`bot.notifier`),
the SLA timers (`bot.sla`) and the daily digest (`bot.digest`), each sending to team chats
through its `bot.delivery.Delivery`; and an alert about a lead to one admin, with the
card's buttons (`Sender.alert_admin`: the SLA's escalation, nobody on shift)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import I18n

from bot.card_view import CardView
from bot.config import BotConfig
from bot.delivery import Delivery
from bot.keyboards import card_keyboard
from bot.views import chat_reader, site_name
from storage.clock import utcnow
from storage.database import Database
from storage.models import Lead

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# The alert's text in the reader's language, from the lead's number and its site's name.
AlertText = Callable[[str, str], str]


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

    async def alert_admin(self, admin: int, lead: Lead, text: AlertText) -> None:
        """`text(lead number, site name)` to admin `admin`, in their language, under the
        card's buttons, so the admin can act on the lead from the alert."""
        async with self.database.read() as session:
            reader = await chat_reader(session, admin, self.config)
        site = site_name(lead, self.config)
        number = f"#{lead.num}" if lead.num is not None else f"id {lead.id}"
        with self.i18n.context(), self.i18n.use_locale(reader.language):
            words = text(number, site)
            keyboard = card_keyboard(
                CardView(
                    lead=lead,
                    site_name=site,
                    can_deal=self.config.can_deal,
                    can_call=self.config.can_call,
                )
            )
        try:
            await self.bot.send_message(admin, words, parse_mode=None, reply_markup=keyboard)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            # An admin who never opened the bot cannot be written to: nothing to retry.
            log.warning("admin %s cannot be told of lead %s: %s", admin, lead.id, exc.message)
