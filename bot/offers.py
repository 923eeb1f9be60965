"""Offers of an `offer:<window>` rule (`domain.offers`): the lead offered to one manager
on shift at a time, in turn (`bot.distribution.next_in_turn`), in their private chat with
Accept and Pass, for the window in working time.

Each step is one transaction of the lead's locked row: the offer opened (on the lead, so
the cards show "Offered to Max (1:20 left)" and no Take), its turn recorded, its message
and its window's timer (`offer.expire`, no queue) enqueued. Accept is one conditional
update that makes the lead the manager's only while that offer is open; Pass and the
window's end close it with another, so whichever comes first wins and the other changes
nothing. The next offer is picked on the worker (`offer.next`), whose clock counts the
windows; after everyone on shift had the lead in this round it opens to anyone in the group
and each admin is told once.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import OfferAnswer
from bot.config import BotConfig
from bot.distribution import next_in_turn, tell_nobody_on_shift
from bot.keyboards import manager_label
from bot.owners import own_copy
from bot.senders import Sender
from bot.sla import waited_text
from bot.summaries import lead_number
from bot.take_back import start_wait
from bot.views import chat_reader, site_name
from domain.jobs import (
    OFFER_ALERT,
    OFFER_EXPIRE,
    OFFER_MESSAGE,
    OFFER_NEXT,
    LeadMessagePayload,
    OfferMessagePayload,
    OfferNextPayload,
    OfferPayload,
    offer_alert_key,
    offer_expire_key,
    offer_message_key,
    offer_next_key,
)
from domain.offers import (
    OFFER,
    OFFER_ACCEPT,
    OFFER_EXPIRED,
    OFFER_PASS,
    OFFER_TO_GROUP,
    OfferEnd,
)
from storage.models import ActionOutcome, Lead, LeadTurn, Manager
from storage.queries.cards import lock_lead, refresh_cards, start_action
from storage.queries.jobs import enqueue_job
from storage.queries.offers import (
    accept_offer,
    close_offer,
    next_step,
    offer_ended,
    offered_since,
    open_offer,
    save_offer_message,
)
from storage.queries.turns import recorded_turn

log = logging.getLogger(__name__)
# How much of a client's name and form the offer's message shows.
_SHOWN = 100


async def offer_next(
    session: AsyncSession,
    lead: Lead,
    *,
    config: BotConfig,
    now: datetime,
    window: timedelta,
    first_step: int | None = None,
    skip: Collection[int] = (),
    actor_name: str = "",
) -> Manager | None:
    """Offer the free lead (its row locked by the caller) to the next manager on shift in
    turn who has not had it in this round (hand-outs from `first_step` on; None: a new
    round begins now) nor is in `skip`. With nobody left, the lead opens to anyone; with
    nobody on shift at all, each admin is told so. Returns whom it is offered to."""
    assert lead.id is not None
    step = await next_step(session, lead.id)
    first = step if first_step is None else first_step
    had = await offered_since(session, lead.id, first) | set(skip)
    hours = config.timers_of(lead.site_key).hours
    target = await next_in_turn(session, lead, step=step, hours=hours, now=now, skip=had)
    if target is None:
        await _open_to_anyone(session, lead, first_step=first, step=step, config=config)
        return None
    until = hours.add_working(now, window)
    name = manager_label(target)
    seconds = int(window.total_seconds())
    await open_offer(
        session,
        lead,
        manager_id=target.telegram_id,
        name=name,
        step=step,
        first_step=first,
        until=until,
        window=seconds,
    )
    action = await _logged(session, lead.id, OFFER, name, actor_id=None, actor_name=actor_name)
    message = OfferMessagePayload(chat_id=target.telegram_id, lead_id=lead.id, step=step)
    await enqueue_job(session, OFFER_MESSAGE, message, dedupe_key=offer_message_key(lead.id, step))
    await enqueue_job(
        session,
        OFFER_EXPIRE,
        OfferPayload(lead_id=lead.id, step=step),
        dedupe_key=offer_expire_key(lead.id, step),
        run_at=until,
        max_attempts=5,
    )
    await refresh_cards(session, lead_id=lead.id, cause=f"a{action}")
    log.info("lead %s offered to %s until %s", lead.id, target.telegram_id, until.isoformat())
    return target


async def _open_to_anyone(
    session: AsyncSession, lead: Lead, *, first_step: int, step: int, config: BotConfig
) -> None:
    """Nobody left to offer the lead to: it waits in the group's card for anyone. The admins
    are told once per round: that everyone had it, or that nobody was on shift."""
    assert lead.id is not None
    if step == first_step:
        await tell_nobody_on_shift(session, lead.id, config.admins)
        return
    action = await _logged(session, lead.id, OFFER_TO_GROUP, "", actor_id=None, actor_name="")
    await refresh_cards(session, lead_id=lead.id, cause=f"a{action}")
    for admin in dict.fromkeys(config.admins):
        await enqueue_job(
            session,
            OFFER_ALERT,
            LeadMessagePayload(chat_id=admin, lead_id=lead.id),
            dedupe_key=offer_alert_key(lead.id, first_step, admin),
        )


async def accept(
    session: AsyncSession, lead: Lead, manager: Manager, *, step: int, config: BotConfig
) -> tuple[str, bool]:
    """Manager's Accept of the lead's `step`-th offer (the row locked by the caller): the
    lead is theirs, its take-back wait starts and their copy of the card comes. Returns the
    answer, and whether it is a refusal."""
    assert lead.id is not None
    manager_id = manager.telegram_id
    if lead.taken_by == manager_id:
        return _("The lead is yours already."), False
    if lead.offer_to != manager_id or lead.offer_step != step:
        return ended_answer(), True
    if not await accept_offer(session, lead, manager_id=manager_id, step=step):
        return ended_answer(), True
    name = lead.taken_by_name or manager_label(manager)
    action = await start_action(
        session, lead_id=lead.id, kind=OFFER_ACCEPT, actor_id=manager_id, actor_name=manager.name
    )
    action.outcome, action.detail = ActionOutcome.OK.value, name
    action.finished_at = action.requested_at
    session.add(action)
    timers = config.timers_of(lead.site_key)
    await start_wait(session, lead_id=lead.id, owner_id=manager_id, taking=action, timers=timers)
    await offer_ended(session, lead_id=lead.id, manager_id=manager_id, step=step)
    await own_copy(session, lead_id=lead.id, manager_id=manager_id, action=action)
    await refresh_cards(session, lead_id=lead.id, cause=f"a{action.id}")
    return _("The lead is yours."), False


async def pass_on(
    session: AsyncSession, lead: Lead, manager: Manager, *, step: int
) -> tuple[str, bool]:
    """Manager's Pass of the lead's `step`-th offer (the row locked by the caller): the
    offer ends, and the worker offers the lead to the next manager."""
    assert lead.id is not None
    if lead.offer_to != manager.telegram_id or lead.offer_step != step:
        return ended_answer(), True
    first, window = lead.offer_from, lead.offer_window
    name = lead.offer_to_name or manager_label(manager)
    if not await close_offer(session, lead, step=step, end=OfferEnd.PASSED):
        return ended_answer(), True
    await _logged(
        session, lead.id, OFFER_PASS, name, actor_id=manager.telegram_id, actor_name=manager.name
    )
    await offer_ended(session, lead_id=lead.id, manager_id=manager.telegram_id, step=step)
    await enqueue_job(
        session,
        OFFER_NEXT,
        OfferNextPayload(
            lead_id=lead.id, step=step, first_step=first or 0, window=max(window or 0, 1)
        ),
        dedupe_key=offer_next_key(lead.id, step),
    )
    return _("Passed: it goes to the next manager."), False


def ended_answer() -> str:
    return _(
        "This offer has ended: the lead went on. If it is free, take it from the group's card."
    )


async def _logged(
    session: AsyncSession,
    lead_id: int,
    kind: str,
    name: str,
    *,
    actor_id: int | None,
    actor_name: str,
) -> int:
    """An offer's step in the lead's log (done at once: nothing is called out); its id."""
    action = await start_action(
        session, lead_id=lead_id, kind=kind, actor_id=actor_id, actor_name=actor_name
    )
    action.outcome, action.detail = ActionOutcome.OK.value, name
    action.finished_at = action.requested_at
    session.add(action)
    assert action.id is not None
    return action.id


def offer_keyboard(lead_id: int, step: int) -> InlineKeyboardMarkup:
    def button(text: str, accepted: bool) -> InlineKeyboardButton:
        data = OfferAnswer(lead_id=lead_id, step=step, accept=accepted)
        return InlineKeyboardButton(text=text, callback_data=data.pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[[button("✅ " + _("Accept"), True), button("↪️ " + _("Pass"), False)]]
    )


def window_text(seconds: int) -> str:
    """`45 s`, `2 min`, `1 h 30 min`: an offer's window, in the reader's language."""
    if seconds < 60:
        return _("{seconds} s").format(seconds=max(1, seconds))
    return waited_text(timedelta(seconds=seconds))


def _client(lead: Lead) -> str:
    parts = [lead.client_name, lead.client_phone, lead.form_name]
    text = ", ".join(" ".join(str(part).split()) for part in parts if part)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class Offers(Sender):
    """The handlers of the offer's jobs: its window's end, the next offer after a Pass, its
    message, that message's edit when it ends, and the admins' alert."""

    async def expire(self, timer: OfferPayload) -> None:
        async with self.database.write() as session:
            lead = await lock_lead(session, timer.lead_id)
            if lead is None or lead.offer_step != timer.step or lead.offer_to is None:
                return  # Answered, withdrawn or moved on already.
            manager_id, name = lead.offer_to, lead.offer_to_name or ""
            first, window = lead.offer_from or 0, timedelta(seconds=lead.offer_window or 1)
            if not await close_offer(session, lead, step=timer.step, end=OfferEnd.EXPIRED):
                return
            assert lead.id is not None
            await _logged(session, lead.id, OFFER_EXPIRED, name, actor_id=None, actor_name="")
            await offer_ended(session, lead_id=lead.id, manager_id=manager_id, step=timer.step)
            await offer_next(
                session, lead, config=self.config, now=self.clock(), window=window, first_step=first
            )
        log.info("lead %s: the offer to %s ran out", timer.lead_id, manager_id)

    async def next(self, job: OfferNextPayload) -> None:
        async with self.database.write() as session:
            lead = await lock_lead(session, job.lead_id)
            if lead is None or lead.taken_by is not None or lead.offer_step is not None:
                return  # Given or taken meanwhile, or a rerun finds the next offer open.
            await offer_next(
                session,
                lead,
                config=self.config,
                now=self.clock(),
                window=timedelta(seconds=job.window),
                first_step=job.first_step,
            )

    async def send(self, message: OfferMessagePayload) -> None:
        async with self.database.read() as session:
            lead = await session.get(Lead, message.lead_id)
            reader = await chat_reader(session, message.chat_id, self.config)
        if lead is None or lead.offer_step != message.step or lead.offer_to != message.chat_id:
            return  # It ended before it could be sent.
        with self.i18n.context(), self.i18n.use_locale(reader.language):
            text = _(
                "📨 Lead {lead} of {site} is offered to you: {client}. Accept it within "
                "{window}, or pass it to the next manager."
            ).format(
                lead=lead_number(lead),
                site=site_name(lead, self.config),
                client=_client(lead) or "—",
                window=window_text(lead.offer_window or 0),
            )
            keyboard = offer_keyboard(message.lead_id, message.step)
        try:
            sent = await self.bot.send_message(
                message.chat_id, text, parse_mode=None, reply_markup=keyboard
            )
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            # A manager who never opened the bot cannot be offered it: the next one is.
            log.warning(
                "chat %s cannot be offered lead %s: %s", message.chat_id, lead.id, exc.message
            )
            await self._unreachable(message)
            return
        async with self.database.write() as session:
            await save_offer_message(
                session, lead_id=message.lead_id, step=message.step, message_id=sent.message_id
            )

    async def _unreachable(self, message: OfferMessagePayload) -> None:
        async with self.database.write() as session:
            lead = await lock_lead(session, message.lead_id)
            if lead is None or lead.offer_step != message.step:
                return
            first, window = lead.offer_from or 0, timedelta(seconds=lead.offer_window or 1)
            if not await close_offer(session, lead, step=message.step, end=OfferEnd.UNREACHABLE):
                return
            await offer_next(
                session, lead, config=self.config, now=self.clock(), window=window, first_step=first
            )

    async def ended(self, message: OfferMessagePayload) -> None:
        """The offer's message says how it ended, without its buttons."""
        async with self.database.read() as session:
            lead = await session.get(Lead, message.lead_id)
            turn = await recorded_turn(session, lead_id=message.lead_id, step=message.step)
            reader = await chat_reader(session, message.chat_id, self.config)
        if lead is None or turn is None or turn.message_id is None:
            return  # Never sent (the chat could not be written to).
        with self.i18n.context(), self.i18n.use_locale(reader.language):
            text = _ended_text(turn, lead_number(lead), site_name(lead, self.config))
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=message.chat_id, message_id=turn.message_id, parse_mode=None
            )
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info(
                "offer of lead %s in chat %s not edited: %s", lead.id, message.chat_id, exc.message
            )

    async def alert(self, message: LeadMessagePayload) -> None:
        async with self.database.read() as session:
            lead = await session.get(Lead, message.lead_id)
        if lead is None or lead.taken_by is not None:
            return  # Taken since: the alert no longer applies.
        await self.alert_admin(
            message.chat_id,
            lead,
            lambda number, site: _(
                "📨 Everyone on shift had the offer of lead {lead} of {site} and nobody "
                "accepted it: it waits in the group for anyone to take."
            ).format(lead=number, site=site),
        )


def _ended_text(turn: LeadTurn, number: str, site: str) -> str:
    if turn.outcome == OfferEnd.ACCEPTED:
        return _("✅ Lead {lead} of {site} is yours: its card is below.").format(
            lead=number, site=site
        )
    if turn.outcome == OfferEnd.PASSED:
        return _("↪️ You passed lead {lead} of {site} on.").format(lead=number, site=site)
    if turn.outcome == OfferEnd.EXPIRED:
        return _("⌛ The time to accept lead {lead} of {site} ran out: it went on.").format(
            lead=number, site=site
        )
    return _("Lead {lead} of {site} is no longer offered to you: it was given to someone.").format(
        lead=number, site=site
    )
