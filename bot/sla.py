"""Leads nobody takes: a reminder under the card, then an alert to each admin.

Both are timers in the job table (`sla.remind`, `sla.escalate`), set when a live lead
(`LeadOrigin.is_live`: a webhook's or reconcile's, not a `sync` backfill's) is first shown
in a chat, as a card or as a line of a summary (a burst's, or reconcile's recovered
leads), and due after the site's wait in working time. The reminder replies to the lead's
card in each chat, or, where it has none, to the summary that lists it, naming the lead
with a button that opens its card. A timer checks when it runs
whether the lead is still waiting (`waiting_lead`); taking it, a status change or any
action on the card makes it do nothing. A timer that applies enqueues one message per
chat or admin, each under its own dedupe key, so a retry or a second worker never sends
a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from aiogram.types import InlineKeyboardMarkup, ReplyParameters
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.senders import Sender
from bot.summaries import lead_number, open_keyboard
from bot.views import chat_reader
from config.sites import SiteTimers
from domain.jobs import (
    SLA_ALERT,
    SLA_ESCALATE,
    SLA_REMIND,
    SLA_REMINDER,
    JobKind,
    LeadMessagePayload,
    LeadTimerPayload,
    sla_alert_key,
    sla_escalate_key,
    sla_remind_key,
    sla_reminder_key,
)
from domain.statuses import LeadStatus
from storage.models import Lead, LeadOrigin
from storage.queries import cards as card_queries
from storage.queries.jobs import enqueue_job
from storage.queries.listed import listed_in, listing, record_listed
from storage.queries.sla import waiting_lead

log = logging.getLogger(__name__)


def starts_timers(lead: Lead, timers: SiteTimers) -> bool:
    """Whether a lead's first card sets any timer: its site has one, and the lead is new
    and nobody's yet."""
    has_timer = timers.remind_after is not None or timers.escalate_after is not None
    return has_timer and lead.taken_by is None and lead.status_code == LeadStatus.NEW


def sets_timers(lead: Lead, timers: SiteTimers) -> bool:
    """Whether a lead's first card sets its timers: it `starts_timers`, and it is live
    (not a `sync` backfill)."""
    return starts_timers(lead, timers) and LeadOrigin(lead.origin).is_live


async def schedule_lead_timers(
    session: AsyncSession, *, lead: Lead, chat_id: int, timers: SiteTimers, now: datetime
) -> None:
    """Set a new lead's reminder and escalation, counted from its arrival in working time.
    Called with each first card or summary line in a chat; the dedupe keys keep one of each
    per lead. A lead of a `sync` backfill gets none.

    A card that goes out after the reminder was due (a long queue, a chat added late) gets
    its reply at once: the timer, which ran before this card existed, did not see it."""
    assert lead.id is not None
    if not sets_timers(lead, timers):
        return
    steps = (
        (SLA_REMIND, timers.remind_after, sla_remind_key(lead.id)),
        (SLA_ESCALATE, timers.escalate_after, sla_escalate_key(lead.id)),
    )
    for kind, wait, key in steps:
        if wait is None:
            continue
        due = timers.hours.add_working(lead.received_at, wait)
        await enqueue_job(
            session, kind, LeadTimerPayload(lead.id), dedupe_key=key, run_at=due, max_attempts=5
        )
        if kind is SLA_REMIND and now >= due and await waiting_lead(session, lead_id=lead.id):
            await enqueue_job(
                session,
                SLA_REMINDER,
                LeadMessagePayload(chat_id=chat_id, lead_id=lead.id),
                dedupe_key=sla_reminder_key(lead.id, chat_id),
            )


async def schedule_listed_timers(
    session: AsyncSession,
    *,
    leads: Sequence[Lead],
    chat_id: int,
    message_id: int,
    timers_of: Callable[[str], SiteTimers],
    now: datetime,
) -> None:
    """`leads` were just listed in summary `message_id` of `chat_id` instead of a card
    each: remember where (their reminder there replies to it) and set their timers, as
    a first card does."""
    await record_listed(
        session,
        chat_id=chat_id,
        message_id=message_id,
        lead_ids=[lead.id for lead in leads if lead.id is not None],
    )
    for lead in leads:
        await schedule_lead_timers(
            session, lead=lead, chat_id=chat_id, timers=timers_of(lead.site_key), now=now
        )


def waited_text(waited: timedelta) -> str:
    """`15 min`, `2 h 5 min`: how long a lead has waited, in the reader's language."""
    minutes = max(1, int(waited.total_seconds() // 60))
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    return _("{hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)


async def _message_each(
    session: AsyncSession,
    kind: JobKind[LeadMessagePayload],
    lead_id: int,
    chats: Iterable[int],
    key: Callable[[int, int], str],
) -> None:
    """One `kind` message about the lead to each of `chats`, each under its own key."""
    for chat_id in dict.fromkeys(chats):
        await enqueue_job(
            session,
            kind,
            LeadMessagePayload(chat_id=chat_id, lead_id=lead_id),
            dedupe_key=key(lead_id, chat_id),
        )


class LeadTimers(Sender):
    """The handlers of the two timers and of the messages they send."""

    async def remind(self, timer: LeadTimerPayload) -> None:
        """A reply under each of the lead's cards, or the summary listing it in a chat
        where it has no card: one per chat (the key), whichever it replies to."""
        lead_id = timer.lead_id
        async with self.database.write() as session:
            if await waiting_lead(session, lead_id=lead_id) is None:
                return
            cards = await card_queries.cards_of(session, lead_id)
            chats = [card.chat_id for card in cards if card.message_id is not None]
            chats += [entry.chat_id for entry in await listed_in(session, lead_id=lead_id)]
            await _message_each(session, SLA_REMINDER, lead_id, chats, sla_reminder_key)

    async def escalate(self, timer: LeadTimerPayload) -> None:
        """An alert to each admin."""
        lead_id = timer.lead_id
        async with self.database.write() as session:
            if await waiting_lead(session, lead_id=lead_id) is None:
                return
            await _message_each(session, SLA_ALERT, lead_id, self.config.admins, sla_alert_key)

    async def send_reminder(self, message: LeadMessagePayload) -> None:
        async with self.database.read() as session:
            lead = await waiting_lead(session, lead_id=message.lead_id)
            card = await card_queries.find_card(
                session, lead_id=message.lead_id, chat_id=message.chat_id
            )
            listed = await listing(session, lead_id=message.lead_id, chat_id=message.chat_id)
            reader = await chat_reader(session, message.chat_id, self.config)
        # Taken between the timer and its message: the reminder no longer applies.
        if lead is None:
            return
        keyboard: InlineKeyboardMarkup | None = None
        with self.i18n.context(), self.i18n.use_locale(reader.language):
            waited = waited_text(self._waited(lead))
            if card is not None and card.message_id is not None:
                reply_to = card.message_id
                text = _("⏰ Nobody has taken this lead for {waited}.").format(waited=waited)
            elif listed is not None:
                # A summary lists many leads: the reply names this one and opens its card.
                reply_to = listed.message_id
                text = _("⏰ Nobody has taken lead {lead} for {waited}.").format(
                    lead=lead_number(lead), waited=waited
                )
                keyboard = open_keyboard([lead])
            else:
                return
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        # In the card's topic; a chat that refuses the bot drops it (`bot.delivery`).
        await self.delivery.send_message(
            message.chat_id,
            text,
            sites=(lead.site_key,),
            parse_mode=None,
            reply_parameters=reply,
            reply_markup=keyboard,
        )

    async def send_alert(self, message: LeadMessagePayload) -> None:
        async with self.database.read() as session:
            lead = await waiting_lead(session, lead_id=message.lead_id)
        if lead is None:
            return
        waited = self._waited(lead)
        await self.alert_admin(
            message.chat_id,
            lead,
            lambda number, site: _(
                "🚨 Lead {lead} of {site} has waited {waited} and nobody has taken it."
            ).format(lead=number, site=site, waited=waited_text(waited)),
        )

    def _waited(self, lead: Lead) -> timedelta:
        hours = self.config.timers_of(lead.site_key).hours
        now: datetime = self.clock()
        return hours.working_between(lead.received_at, now)
