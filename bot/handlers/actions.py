"""The card's buttons. Each tap is answered at once; the external call runs as a job and
the card shows its outcome when it finishes."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import jobs
from bot.callbacks import Act, LeadAction
from bot.config import BotConfig
from bot.filters import IsManager
from bot.handlers.lost_reasons import ask_why
from bot.owners import release, take
from bot.scope import not_yours, tapped_lead
from domain.calls import (
    DELAY_AN_HOUR,
    DELAY_NOW,
    DELAY_TEN_MINUTES,
    call_action,
    call_at_action,
    next_working_morning,
    seconds_until,
    weekday,
)
from domain.jobs import ActionPayload
from domain.statuses import LeadStatus
from integrations.phones import normalize_phone
from storage.clock import utcnow
from storage.models import Lead, Manager
from storage.queries.cards import cancelled_calls, refresh_cards, retry_failed_action

STATUS_OF = {
    Act.PROCESSED: LeadStatus.PROCESSED,
    Act.FULFILLED: LeadStatus.FULFILLED,
    Act.CANCELLED: LeadStatus.CANCELLED,
    Act.RESTORE: LeadStatus.NEW,
}
CALL_DELAY_SECONDS = {
    Act.CALL_NOW: DELAY_NOW,
    Act.CALL_LATER: DELAY_TEN_MINUTES,
    Act.CALL_HOUR: DELAY_AN_HOUR,
}
CALLS = frozenset({*CALL_DELAY_SECONDS, Act.CALL_MORNING})


async def tap(
    query: CallbackQuery,
    callback_data: LeadAction,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
    i18n: I18n,
) -> None:
    lead = await tapped_lead(query, callback_data.lead_id, session, manager, config)
    if lead is None or lead.id is None:
        await query.answer(not_yours(), show_alert=True)
        return
    act = callback_data.act
    if act is Act.CANCELLED:
        # Asks why first; the reason tapped sets it (`bot.handlers.lost_reasons`).
        await ask_why(query, lead, session, config, i18n)
        return
    if act is Act.TAKE:
        await query.answer(
            await take(session, lead, manager, timers=config.timers_of(lead.site_key))
        )
        return
    if act is Act.RELEASE:
        toast, refused = await release(session, lead, manager)
        await query.answer(toast, show_alert=refused)
        return
    if act is Act.RETRY:
        await query.answer(await _retry(session, lead))
        return
    toast, planned = _plan(
        act, lead, manager, config, await cancelled_calls(session, lead_id=lead.id)
    )
    if planned is None:
        await query.answer(toast, show_alert=True)
        return
    started = await jobs.start_planned(
        session, planned, actor_id=manager.telegram_id, actor_name=manager.name
    )
    await query.answer(toast if started is not None else _("Already done or in progress."))


def _plan(
    act: Act, lead: Lead, manager: Manager, config: BotConfig, generation: int
) -> tuple[str, jobs.PlannedAction | None]:
    """The tap's answer and its action; no action (the answer is a refusal) when it cannot
    be done."""
    assert lead.id is not None
    base = ActionPayload(lead_id=lead.id, site=lead.site_key, actor=manager.telegram_id)
    if act in STATUS_OF:
        if lead.site_key not in config.flexbe_sites:
            return _("The Flexbe API is not set up for this site."), None
        status = STATUS_OF[act].value
        if lead.status_code == status:
            return _("Already so in Flexbe."), None
        return _("Sending to Flexbe…"), jobs.status_change(base, status, lead.version)
    if act is Act.DEAL:
        if not config.can_deal:
            return _("5CRM is not set up."), None
        return _("Creating the 5CRM deal…"), jobs.deal(base)
    if not config.can_call:
        return _("The dialler is not set up."), None
    if not normalize_phone(lead.client_phone, config.region(lead.site_key)):
        # Nothing to dial: say so now rather than let the job fail.
        return _("This lead has no phone number that can be dialled."), None
    if act in CALLS:
        return _("Queuing the call…"), _call(base, generation, act, config, lead.site_key)
    return _("Cancelling the call…"), jobs.cancel_call(base, generation)


def _call(
    base: ActionPayload, generation: int, act: Act, config: BotConfig, site_key: str
) -> jobs.PlannedAction:
    """When the call should ring, counted from now: the job counts down what is left."""
    now = utcnow()
    if act is Act.CALL_MORNING:
        hours = config.timers_of(site_key).hours
        working_day = hours.is_working_day if hours.week is not None else weekday
        moment = next_working_morning(now, config.zone, config.morning_hour(site_key), working_day)
        return jobs.call(
            base,
            generation,
            delay=seconds_until(moment, now),
            call_at=int(moment.timestamp()),
            action=call_at_action(moment),
        )
    delay = CALL_DELAY_SECONDS[act]
    # "Now" has no moment: the site's own `delays` (if any) applies, as before.
    at = int(now.timestamp()) + delay if delay else None
    return jobs.call(base, generation, delay=delay, call_at=at, action=call_action(delay))


async def _retry(session: AsyncSession, lead: Lead) -> str:
    assert lead.id is not None
    action = await retry_failed_action(session, lead_id=lead.id)
    if action is None:
        return _("Nothing to retry.")
    await refresh_cards(session, lead_id=lead.id, cause=f"a{action.id}r{action.job_id}")
    return _("Trying again…")


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(IsManager())
    router.callback_query.register(tap, LeadAction.filter(F.act.in_(set(Act))))
    return router
