"""Posting and editing lead cards: the handler of `notify` jobs.

A card is sent once per lead and chat, then edited in place; an edit that would change
nothing is skipped. Telegram's `retry_after` goes back to the job engine as an exception.
A chat that blocked or removed the bot is marked so, its admins told once, and never
retried. HTML that Telegram still rejects is sent again as plain text.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup, ReplyParameters
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import Act
from bot.cards import CardView, RenderedCard, render_card, render_plain, site_title
from bot.config import BotConfig
from bot.history import history_lines
from bot.sla import schedule_lead_timers
from domain.jobs import BLOCKED_ALERT, BlockedAlertPayload, blocked_alert_key
from domain.statuses import PayStatus
from integrations.amounts import amount_text
from storage.clock import utcnow
from storage.database import Database
from storage.models import Action, ActionOutcome, Lead
from storage.queries import cards as card_queries
from storage.queries.jobs import enqueue_job
from storage.queries.team import get_manager

log = logging.getLogger(__name__)

EDIT_ONLY = frozenset({"updated", "paid"})
# Characters of an amount's text quoted in a payment reply: a real one is far shorter.
AMOUNT_SHOWN = 40


class CardNotifier:
    def __init__(
        self,
        *,
        bot: Bot,
        database: Database,
        i18n: I18n,
        config: BotConfig,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`clock`: the worker's, for whether a lead's reminder is due already."""
        self.bot = bot
        self.database = database
        self.i18n = i18n
        self.config = config
        self.clock = clock

    async def notify(self, *, lead_id: int, chat_id: int, reason: str) -> None:
        async with self.database.read() as session:
            if await card_queries.is_blocked(session, chat_id):
                log.info("chat %s blocked the bot; card of lead %s not sent", chat_id, lead_id)
                return
            lead = await session.get(Lead, lead_id)
            if lead is None:
                log.warning("lead %s is gone; no card for chat %s", lead_id, chat_id)
                return
            actions = await card_queries.history_of(session, lead_id)
            card = await card_queries.find_card(session, lead_id=lead_id, chat_id=chat_id)
            if reason in EDIT_ONLY and (card is None or card.message_id is None):
                # A change of a lead this chat never had a card of: nothing to edit.
                return
            language = await self._language(session, chat_id)
        with self.i18n.context(), self.i18n.use_locale(language):
            view = CardView(
                lead=lead,
                site_name=site_title(lead, self.config.configured_names.get(lead.site_key)),
                history=history_lines(actions),
                can_deal=self.config.can_deal,
                can_call=self.config.can_call,
                timezone=self.config.zone,
                region=self.config.region(lead.site_key),
                retry=Act.RETRY if _last_failed(actions) else None,
            )
            rendered = render_card(view)
            content_hash = _hash(rendered)
            # A repost is a new message on purpose; anything else edits the card in place,
            # or skips the edit when nothing on it would change.
            current = card.message_id if card is not None and reason != "repost" else None
            if current is not None and card is not None and card.content_hash == content_hash:
                return
            try:
                message_id = await self._post(chat_id, current, view, rendered)
            except TelegramForbiddenError as exc:
                await self._blocked(chat_id, exc.message)
                return
            if reason == "paid":
                await self._payment_reply(chat_id, message_id, lead)
        async with self.database.write() as session:
            await card_queries.save_card(
                session,
                lead_id=lead_id,
                chat_id=chat_id,
                message_id=message_id,
                content_hash=content_hash,
            )
            if card is None:
                # A lead's first card starts its wait (one timer each, whatever the chats).
                await schedule_lead_timers(
                    session,
                    lead=lead,
                    chat_id=chat_id,
                    timers=self.config.timers_of(lead.site_key),
                    now=self.clock(),
                )

    async def _post(
        self, chat_id: int, message_id: int | None, view: CardView, rendered: RenderedCard
    ) -> int:
        if message_id is not None:
            try:
                await self._edit(
                    chat_id, message_id, rendered.text, rendered.keyboard, ParseMode.HTML
                )
                return message_id
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    return message_id
                if "can't parse entities" in exc.message:
                    log.error(
                        "Telegram rejected the card HTML of lead %s: %s", view.lead.id, exc.message
                    )
                    await self._edit(
                        chat_id, message_id, render_plain(view), rendered.keyboard, None
                    )
                    return message_id
                if "not found" not in exc.message:
                    raise
                # The card was deleted in the chat: post it again.
        try:
            sent = await self.bot.send_message(
                chat_id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
            )
        except TelegramBadRequest as exc:
            if "can't parse entities" not in exc.message:
                raise
            log.error("Telegram rejected the card HTML of lead %s: %s", view.lead.id, exc.message)
            sent = await self.bot.send_message(
                chat_id, render_plain(view), parse_mode=None, reply_markup=rendered.keyboard
            )
        return sent.message_id

    async def _edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        keyboard: InlineKeyboardMarkup,
        parse_mode: ParseMode | None,
    ) -> None:
        await self.bot.edit_message_text(
            text=text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=parse_mode,
            reply_markup=keyboard,
        )

    async def _payment_reply(self, chat_id: int, message_id: int, lead: Lead) -> None:
        if lead.pay_status_code == PayStatus.PAID:
            text = _("💳 Paid: {amount}").format(amount=amount_text(lead.pay_summ, AMOUNT_SHOWN))
        elif lead.pay_status_code == PayStatus.ERROR:
            text = _("⚠️ Payment error")
        else:
            text = _("⏳ Payment pending: {amount}").format(
                amount=amount_text(lead.pay_summ, AMOUNT_SHOWN)
            )
        await self.bot.send_message(
            chat_id, text, parse_mode=None, reply_parameters=ReplyParameters(message_id=message_id)
        )

    async def _blocked(self, chat_id: int, reason: str) -> None:
        log.warning("chat %s no longer accepts messages: %s", chat_id, reason)
        async with self.database.write() as session:
            if not await card_queries.mark_blocked(session, chat_id, reason):
                return
            for admin in self.config.admins:
                if admin == chat_id:
                    continue
                alert = BlockedAlertPayload(chat_id=admin, blocked_chat=chat_id)
                await enqueue_job(
                    session,
                    BLOCKED_ALERT,
                    alert,
                    dedupe_key=blocked_alert_key(chat_id, admin),
                )

    async def _language(self, session: AsyncSession, chat_id: int) -> str:
        """A manager's own language in private; the configured one in groups."""
        if chat_id > 0:
            manager = await get_manager(session, chat_id)
            if manager is not None:
                return manager.language
        return self.config.group_language


def _last_failed(actions: Sequence[Action]) -> bool:
    external = [a for a in actions if a.kind != "take"]
    return bool(external) and external[-1].outcome == ActionOutcome.FAILED.value


def _hash(rendered: RenderedCard) -> str:
    payload = rendered.text + rendered.keyboard.model_dump_json()
    return hashlib.sha256(payload.encode()).hexdigest()
