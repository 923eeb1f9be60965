"""Leads someone took and then forgot: back to the pool after the site's `take_back_after`.

Taking a lead, or being given it (by an admin or a rule), sets a timer in the job table
(`take_back`, no queue) in that transaction, due after the wait in working time, one per
taking (its dedupe key names the taking's action). When it runs it does nothing if the
owner acted on the lead since (any action of theirs in the log) or the lead changed hands
(taken again, assigned, released: a newer wait, or none). Otherwise one conditional update
clears the owner (never a newer one), the take-back is logged, the lead returns to the pool
or goes on to the next manager (`return_to_pool`), and the former owner and each admin are
told once (a message each, under its own dedupe key).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.senders import Sender
from bot.sla import waited_text
from bot.summaries import lead_number
from bot.views import chat_reader, site_name
from config.sites import SiteTimers
from domain.jobs import (
    RULES_REDISTRIBUTE,
    TAKE_BACK,
    TAKE_BACK_MESSAGE,
    RedistributePayload,
    TakeBackMessagePayload,
    TakeBackPayload,
    redistribute_key,
    take_back_key,
    take_back_message_key,
)
from domain.owners import TAKE_BACK as TAKE_BACK_ACTION
from domain.owners import read_take_back, take_back_detail
from storage.models import Action, ActionOutcome, Lead
from storage.queries.cards import lock_lead, refresh_cards, release_lead, start_action
from storage.queries.jobs import enqueue_job
from storage.queries.take_back import untouched_since

log = logging.getLogger(__name__)


async def start_wait(
    session: AsyncSession, *, lead_id: int, owner_id: int, taking: Action, timers: SiteTimers
) -> None:
    """Set the take-back of a taking (action `taking`, which gave the lead to `owner_id`),
    in its transaction; none when the site takes nothing back."""
    wait = timers.take_back_after
    if wait is None:
        return
    assert taking.id is not None
    due = timers.hours.add_working(taking.requested_at, wait)
    await enqueue_job(
        session,
        TAKE_BACK,
        TakeBackPayload(lead_id=lead_id, owner_id=owner_id, taking=taking.id),
        dedupe_key=take_back_key(lead_id, taking.id),
        run_at=due,
        max_attempts=5,
    )


async def return_to_pool(
    session: AsyncSession, lead: Lead, *, owner_id: int, taken_back: int
) -> None:
    """Where a lead taken back (action `taken_back`) goes: to the pool, its cards redrawn
    with Take for anyone; and, when its site's rule hands leads out in turn, on to the next
    manager but the former owner (`rules.redistribute`, on the worker: `bot.rules`)."""
    assert lead.id is not None
    await refresh_cards(session, lead_id=lead.id, cause=f"a{taken_back}")
    await enqueue_job(
        session,
        RULES_REDISTRIBUTE,
        RedistributePayload(lead_id=lead.id, owner_id=owner_id, taken_back=taken_back),
        dedupe_key=redistribute_key(lead.id, taken_back),
    )


def _minutes(wait: timedelta) -> int:
    return max(1, int(wait.total_seconds() // 60))


class TakeBacks(Sender):
    """The handlers of the take-back timer and of the messages it sends."""

    async def due(self, timer: TakeBackPayload) -> None:
        lead_id, owner_id = timer.lead_id, timer.owner_id
        async with self.database.write() as session:
            lead = await lock_lead(session, lead_id)
            if lead is None or lead.taken_by != owner_id:
                return
            if not await untouched_since(
                session, lead_id=lead_id, owner_id=owner_id, taking=timer.taking
            ):
                return
            owner_name = lead.taken_by_name or str(owner_id)
            # One conditional update: an owner who changed meanwhile keeps the lead.
            if not await release_lead(session, lead_id=lead_id, owner_id=owner_id):
                return
            wait = self.config.timers_of(lead.site_key).take_back_after or timedelta(0)
            action = await start_action(
                session, lead_id=lead_id, kind=TAKE_BACK_ACTION, actor_id=None, actor_name=""
            )
            action.outcome = ActionOutcome.OK.value
            action.detail = take_back_detail(owner_name, _minutes(wait))
            action.finished_at = action.requested_at
            session.add(action)
            assert action.id is not None
            await return_to_pool(session, lead, owner_id=owner_id, taken_back=action.id)
            for chat_id in dict.fromkeys((owner_id, *self.config.admins)):
                await enqueue_job(
                    session,
                    TAKE_BACK_MESSAGE,
                    TakeBackMessagePayload(
                        chat_id=chat_id, lead_id=lead_id, owner_id=owner_id, action_id=action.id
                    ),
                    dedupe_key=take_back_message_key(lead_id, timer.taking, chat_id),
                )
        log.info("lead %s taken back from %s", lead_id, owner_id)

    async def send(self, message: TakeBackMessagePayload) -> None:
        async with self.database.read() as session:
            lead = await session.get(Lead, message.lead_id)
            action = await session.get(Action, message.action_id)
            reader = await chat_reader(session, message.chat_id, self.config)
        if lead is None or action is None:
            return
        name, minutes = read_take_back(action.detail)
        with self.i18n.context(), self.i18n.use_locale(reader.language):
            waited = waited_text(timedelta(minutes=minutes))
            site = site_name(lead, self.config)
            number = lead_number(lead)
            if message.chat_id == message.owner_id:
                text = _(
                    "↩️ Lead {lead} of {site} went back to the pool: nothing was done on it "
                    "for {waited} after you took it. Anyone can take it now."
                ).format(lead=number, site=site, waited=waited)
            else:
                text = _(
                    "↩️ Lead {lead} of {site} was taken back from {name} after {waited} "
                    "without action."
                ).format(lead=number, site=site, name=name, waited=waited)
        try:
            await self.bot.send_message(message.chat_id, text, parse_mode=None)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            # A manager who never opened the bot cannot be written to: nothing to retry.
            log.warning("chat %s cannot be told of a take-back: %s", message.chat_id, exc.message)
