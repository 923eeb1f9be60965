"""Posting and editing lead cards: the handler of `notify` jobs.

A card is sent once per lead and chat, then edited in place; an edit that would change
nothing is skipped. Every message goes through `bot.delivery` (the site's forum topic, a
group that became a supergroup, a chat that blocked or removed the bot, `retry_after`):
a card that lands in another chat than asked (the group moved) is recorded there, so its
edits go there. HTML that Telegram still rejects is sent again as plain text.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence

from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ReplyParameters
from aiogram.utils.i18n import gettext as _

from bot.card_view import CardView, RenderedCard
from bot.cards import render_plain, render_text
from bot.delivery import ChatMoved, Delivered
from bot.keyboards import card_keyboard
from bot.senders import Sender
from bot.sla import schedule_lead_timers, schedule_listed_timers, sets_timers
from bot.summaries import render_summary
from bot.views import card_view, chat_reader, chat_reader_of, lead_repeat, site_name
from config.shifts import shift_of
from domain.jobs import ASSIGNED, BurstSummaryPayload
from domain.statuses import PayStatus
from integrations.amounts import amount_text
from storage.models import Lead, Manager
from storage.queries import bursts
from storage.queries import cards as card_queries

log = logging.getLogger(__name__)

EDIT_ONLY = frozenset({"updated", "paid"})
NEW_MESSAGE = frozenset({"repost", ASSIGNED})
# Characters of an amount's text quoted in a payment reply: a real one is far shorter.
AMOUNT_SHOWN = 40


class CardNotifier(Sender):
    async def notify(self, *, lead_id: int, chat_id: int, reason: str) -> None:
        if reason == "new":
            await self._summarise_backlog(chat_id, lead_id)
        # A job for a group that became a supergroup is for the supergroup (memory only).
        asked, chat_id = chat_id, self.delivery.chat_now(chat_id)
        async with self.database.read() as session:
            # The lead, its card here, the chat's state and reader: one statement.
            context = await card_queries.card_context(session, lead_id=lead_id, chat_id=chat_id)
            if context is None:
                log.warning("lead %s is gone; no card for chat %s", lead_id, chat_id)
                return
            lead, card = context.lead, context.card
            if context.blocked:
                log.info("chat %s blocked the bot; card of lead %s not sent", chat_id, lead_id)
                return
            if reason == "new" and not self._on_shift(context.manager, lead.site_key):
                # Away or off shift: no new cards in private (their own leads still follow).
                return
            if reason in EDIT_ONLY and (card is None or card.message_id is None):
                # A change of a lead this chat never had a card of: nothing to edit. One
                # it had in the group before the move is posted anew in the supergroup.
                had = asked != chat_id and await card_queries.find_card(
                    session, lead_id=lead_id, chat_id=asked
                )
                if not had:
                    return
            actions = await card_queries.history_of(session, lead_id)
            repeat = await lead_repeat(session, lead, self.config)
        reader = chat_reader_of(chat_id, context.manager, self.config)
        with self.i18n.context(), self.i18n.use_locale(reader.language):
            view = card_view(lead, actions, self.config, reader.manager, repeat, self.clock())
            rendered = render_card(view)
            content_hash = _hash(rendered)
            # A repost is a new message on purpose (as is the card of a lead just assigned to
            # this chat's manager: it should be seen); anything else edits the card in place,
            # or skips the edit when nothing on it would change.
            current = card.message_id if card is not None and reason not in NEW_MESSAGE else None
            if current is not None and card is not None and card.content_hash == content_hash:
                return
            posted = await self._post(chat_id, current, view, rendered)
            if posted is None:  # the chat refuses the bot (marked, admins told)
                return
            if posted.chat_id != chat_id:
                # The group became a supergroup: the card there is its first.
                chat_id, card = posted.chat_id, None
            if reason == "paid":
                await self._payment_reply(posted, lead)
        sent = card_queries.SentCard(lead_id, chat_id, posted.message_id, content_hash)
        if card is not None:
            # An edit, the common case: one statement, in one hop (on SQLite, the writer
            # thread's).
            await self.database.run_in_transaction(
                functools.partial(card_queries.record_card, sent=sent)
            )
            return
        first = functools.partial(
            card_queries.record_first_card, sent=sent, shown=card_queries.card_stamp(lead, actions)
        )
        timers = self.config.timers_of(lead.site_key)
        if not sets_timers(lead, timers):
            # One hop too, as an edit.
            await self.database.run_in_transaction(first)
            return
        async with self.database.write() as session:
            await session.run_sync(lambda sync: first(sync.connection()))
            # A lead's first card starts its wait (one timer each, whatever the chats).
            await schedule_lead_timers(
                session, lead=lead, chat_id=chat_id, timers=timers, now=self.clock()
            )

    async def send_summary(self, summary: BurstSummaryPayload) -> None:
        """One message of a burst summary; its leads' cards are posted when tapped, and
        their SLA timers are set as a first card sets them."""
        chat_id = summary.chat_id
        async with self.database.read() as session:
            if await card_queries.is_blocked(session, chat_id):
                return
            leads = await bursts.leads_by_ids(session, summary.lead_ids)
            reader = await chat_reader(session, chat_id, self.config)
        leads = [lead for lead in leads if self._on_shift(reader.manager, lead.site_key)]
        if not leads:
            return
        with self.i18n.context(), self.i18n.use_locale(reader.language):
            rendered = render_summary(
                summary,
                leads,
                site_name=functools.partial(site_name, config=self.config),
                zone=self.config.zone,
            )
            sent = await self.delivery.send_message(
                chat_id,
                rendered.text,
                sites=[lead.site_key for lead in leads],
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.keyboard,
            )
        if sent is None:
            return
        await self.listed(sent.chat_id, sent.message_id, [lead.id for lead in leads if lead.id])

    async def listed(self, chat_id: int, message_id: int, lead_ids: Sequence[int]) -> None:
        """Leads were just shown in `chat_id` as lines of summary `message_id` (a burst's,
        or reconcile's recovered leads), as a first card would show them: their wait
        starts, and their reminder there replies to that message."""
        async with self.database.write() as session:
            await schedule_listed_timers(
                session,
                leads=await bursts.leads_by_ids(session, tuple(lead_ids)),
                chat_id=chat_id,
                message_id=message_id,
                timers_of=self.config.timers_of,
                now=self.clock(),
            )

    def _on_shift(self, manager: Manager | None, site_key: str) -> bool:
        """A group's cards go out whoever is on shift; a manager's, while they are."""
        if manager is None:
            return True
        return shift_of(manager, self.config.timers_of(site_key).hours, self.clock()).on

    async def _summarise_backlog(self, chat_id: int, lead_id: int) -> None:
        """More first cards waiting for this chat than it can receive in a minute: they
        become a summary (this lead's card goes out as usual). A cheap read first, so a
        chat without a backlog costs no write."""
        per_minute = self.config.per_minute(chat_id)
        if per_minute >= bursts.MAX_SUMMARISED:
            # No Telegram chat takes that many: a pace set this high (tests, a private
            # Bot API server) drains any burst within the minute, so nothing is held back.
            return
        async with self.database.read() as session:
            waiting = await bursts.waiting_new_cards(session, chat_id=chat_id, limit=per_minute + 1)
        if len(waiting) <= per_minute:
            return
        async with self.database.write() as session:
            summarised = await bursts.summarise_backlog(
                session, chat_id=chat_id, trigger_lead=lead_id, per_minute=per_minute
            )
        if summarised:
            log.info("chat %s: %s waiting cards sent as a summary", chat_id, summarised)

    async def _post(
        self, chat_id: int, message_id: int | None, view: CardView, rendered: RenderedCard
    ) -> Delivered | None:
        """The card edited in place (`message_id`), else posted: where it is, or None if
        the chat refuses the bot."""
        if message_id is not None:
            try:
                edited = await self._edit(chat_id, message_id, view, rendered)
            except ChatMoved as moved:
                # The card is in the old group: post it in the supergroup.
                chat_id = moved.new_chat
            except TelegramBadRequest as exc:
                if "not found" not in exc.message:
                    raise
                # The card was deleted in the chat: post it again.
            else:
                return edited
        sites = (view.lead.site_key,)
        try:
            return await self.delivery.send_message(
                chat_id,
                rendered.text,
                sites=sites,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.keyboard,
            )
        except TelegramBadRequest as exc:
            if "can't parse entities" not in exc.message:
                raise
            log.error("Telegram rejected the card HTML of lead %s: %s", view.lead.id, exc.message)
            return await self.delivery.send_message(
                chat_id,
                render_plain(view),
                sites=sites,
                parse_mode=None,
                reply_markup=rendered.keyboard,
            )

    async def _edit(
        self, chat_id: int, message_id: int, view: CardView, rendered: RenderedCard
    ) -> Delivered | None:
        """The card edited (or found unchanged); None if the chat refuses the bot."""
        edit = functools.partial(
            self.delivery.edit_text, chat_id, message_id, reply_markup=rendered.keyboard
        )
        try:
            done = await edit(rendered.text, parse_mode=ParseMode.HTML)
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                done = True
            elif "can't parse entities" in exc.message:
                log.error(
                    "Telegram rejected the card HTML of lead %s: %s", view.lead.id, exc.message
                )
                done = await edit(render_plain(view), parse_mode=None)
            else:
                raise
        return Delivered(chat_id, message_id) if done else None

    async def _payment_reply(self, card: Delivered, lead: Lead) -> None:
        if lead.pay_status_code == PayStatus.PAID:
            text = _("💳 Paid: {amount}").format(amount=amount_text(lead.pay_summ, AMOUNT_SHOWN))
        elif lead.pay_status_code == PayStatus.ERROR:
            text = _("⚠️ Payment error")
        else:
            text = _("⏳ Payment pending: {amount}").format(
                amount=amount_text(lead.pay_summ, AMOUNT_SHOWN)
            )
        await self.delivery.send_message(
            card.chat_id,
            text,
            sites=(lead.site_key,),
            parse_mode=None,
            reply_parameters=ReplyParameters(message_id=card.message_id),
        )


def render_card(view: CardView) -> RenderedCard:
    """The card as it goes out: its text (`bot.cards`) and its buttons (`bot.keyboards`)."""
    return RenderedCard(render_text(view), card_keyboard(view))


def _hash(rendered: RenderedCard) -> str:
    payload = rendered.text + rendered.keyboard.model_dump_json()
    return hashlib.sha256(payload.encode()).hexdigest()
