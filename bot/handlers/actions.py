"""The card's buttons. Each tap is answered at once; the external call runs as a job and
the card shows its outcome when it finishes."""

from __future__ import annotations

from dataclasses import replace

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import Act, LeadAction
from bot.config import BotConfig
from bot.filters import IsManager
from bot.jobs import action_job
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
from domain.jobs import (
    CALL,
    CANCEL_CALL,
    CRM5_DEAL,
    FLEXBE_STATUS,
    ActionPayload,
    JobKind,
    call_key,
    cancel_call_key,
    deal_key,
    status_key,
)
from domain.statuses import LeadStatus
from integrations.phones import normalize_phone
from storage.clock import utcnow
from storage.models import Lead, Manager
from storage.queries.cards import (
    cancelled_calls,
    refresh_cards,
    retry_failed_action,
    start_action,
)

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
) -> None:
    lead = await tapped_lead(query, callback_data.lead_id, session, manager, config)
    if lead is None or lead.id is None:
        await query.answer(not_yours(), show_alert=True)
        return
    act = callback_data.act
    if act is Act.TAKE:
        await query.answer(await take(session, lead, manager))
        return
    if act is Act.RELEASE:
        toast, refused = await release(session, lead, manager)
        await query.answer(toast, show_alert=refused)
        return
    if act is Act.RETRY:
        await query.answer(await _retry(session, lead))
        return
    toast, kind, key, payload = _plan(
        act, lead, manager, config, await cancelled_calls(session, lead_id=lead.id)
    )
    if kind is None or payload is None:
        await query.answer(toast, show_alert=True)
        return
    job, created = await action_job(session, kind=kind, dedupe_key=key, payload=payload)
    if not created:
        await query.answer(_("Already done or in progress."))
        return
    action = await start_action(
        session,
        lead_id=lead.id,
        kind=payload.action,
        actor_id=manager.telegram_id,
        actor_name=manager.name,
    )
    job.payload = replace(payload, action_id=action.id).dump()
    action.job_id = job.id
    session.add_all([job, action])
    await refresh_cards(session, lead_id=lead.id, cause=f"a{action.id}")
    await query.answer(toast)


def _plan(
    act: Act, lead: Lead, manager: Manager, config: BotConfig, generation: int
) -> tuple[str, JobKind[ActionPayload] | None, str, ActionPayload | None]:
    assert lead.id is not None
    base = ActionPayload(lead_id=lead.id, site=lead.site_key, actor=manager.telegram_id)
    if act in STATUS_OF:
        if lead.site_key not in config.flexbe_sites:
            return _("The Flexbe API is not set up for this site."), None, "", None
        status = STATUS_OF[act].value
        if lead.status_code == status:
            return _("Already so in Flexbe."), None, "", None
        return (
            _("Sending to Flexbe…"),
            FLEXBE_STATUS,
            status_key(lead.id, status, lead.version),
            replace(base, status=status, action=f"status:{status}"),
        )
    if act is Act.DEAL:
        if not config.can_deal:
            return _("5CRM is not set up."), None, "", None
        return (
            _("Creating the 5CRM deal…"),
            CRM5_DEAL,
            deal_key(lead.id),
            replace(base, action="deal"),
        )
    if not config.can_call:
        return _("The dialler is not set up."), None, "", None
    if not normalize_phone(lead.client_phone, config.region(lead.site_key)):
        # Nothing to dial: say so now rather than let the job fail.
        return _("This lead has no phone number that can be dialled."), None, "", None
    if act in CALLS:
        return (
            _("Queuing the call…"),
            CALL,
            call_key(lead.id, generation),
            _call(base, act, config, lead.site_key),
        )
    return (
        _("Cancelling the call…"),
        CANCEL_CALL,
        cancel_call_key(lead.id, generation),
        replace(base, action="uncall"),
    )


def _call(base: ActionPayload, act: Act, config: BotConfig, site_key: str) -> ActionPayload:
    """When the call should ring, counted from now: the job counts down what is left."""
    now = utcnow()
    if act is Act.CALL_MORNING:
        hours = config.timers_of(site_key).hours
        working_day = hours.is_working_day if hours.week is not None else weekday
        moment = next_working_morning(now, config.zone, config.morning_hour(site_key), working_day)
        return replace(
            base,
            delay=seconds_until(moment, now),
            call_at=int(moment.timestamp()),
            action=call_at_action(moment),
        )
    delay = CALL_DELAY_SECONDS[act]
    # "Now" has no moment: the site's own `delays` (if any) applies, as before.
    at = int(now.timestamp()) + delay if delay else None
    return replace(base, delay=delay, call_at=at, action=call_action(delay))


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
