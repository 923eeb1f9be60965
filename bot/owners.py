"""Who has a lead: take, assign, release. Each is one conditional update of the lead, its
line in the action log and the refresh of its cards, in the tap's transaction: a second tap
finds the change made and makes none. Each returns the answer to the tap."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.keyboards import manager_label
from bot.take_back import start_wait
from config.shifts import shift_of
from config.sites import SiteTimers
from config.working_time import WorkingHours
from domain.jobs import ASSIGNED, NOTIFY, CardPayload, assigned_card_key
from domain.owners import RELEASE, TAKE, assign_action
from domain.team import is_admin
from storage.models import Action, ActionOutcome, Lead, Manager
from storage.queries.cards import (
    assign_lead,
    refresh_cards,
    release_lead,
    start_action,
    take_lead,
)
from storage.queries.jobs import enqueue_job
from storage.queries.offers import withdraw_offer
from storage.queries.team import managers_for_site


async def take(session: AsyncSession, lead: Lead, manager: Manager, *, timers: SiteTimers) -> str:
    """First tap wins. The site's take-back wait starts (`timers`: the lead's site's)."""
    assert lead.id is not None
    if await take_lead(session, lead_id=lead.id, manager_id=manager.telegram_id, name=manager.name):
        action = await _done(session, lead.id, manager, TAKE)
        await start_wait(
            session, lead_id=lead.id, owner_id=manager.telegram_id, taking=action, timers=timers
        )
        await refresh_cards(session, lead_id=lead.id, cause=f"a{action.id}")
        return _("The lead is yours.")
    await session.refresh(lead)
    if lead.taken_by is None and lead.offer_to is not None:
        return _("It is offered to {name} now: if they pass, it comes to everyone.").format(
            name=lead.offer_to_name or "?"
        )
    return _("Already taken by {name}.").format(name=lead.taken_by_name or "?")


async def receiving(session: AsyncSession, lead: Lead) -> list[Manager]:
    """The active managers who receive the lead's site, by name."""
    managers = await managers_for_site(session, lead.site_key)
    return sorted(managers, key=lambda m: (manager_label(m).casefold(), m.telegram_id))


async def assignable(
    session: AsyncSession, lead: Lead, *, hours: WorkingHours, now: datetime
) -> list[Manager]:
    """The managers a lead may be assigned to: those who receive its site, on shift now."""
    return [m for m in await receiving(session, lead) if shift_of(m, hours, now).on]


async def assign(
    session: AsyncSession,
    lead: Lead,
    admin: Manager,
    manager_id: int,
    *,
    timers: SiteTimers,
    now: datetime,
) -> tuple[str, bool]:
    """An admin gives the lead to a manager of its site, on shift (`timers`: the lead's
    site's). Returns the answer, and whether it is a refusal (shown as an alert)."""
    assert lead.id is not None
    if not is_admin(admin):
        return _("Only an admin can assign a lead."), True
    target = await assignee(session, lead, manager_id)
    if target is None:
        return _("That manager does not receive this site's leads."), True
    name = manager_label(target)
    if not shift_of(target, timers.hours, now).on:
        return _("{name} is away or off shift now: assign the lead to someone on shift.").format(
            name=name
        ), True
    if not await hand_over(
        session, lead, target, actor_id=admin.telegram_id, actor_name=admin.name, timers=timers
    ):
        return _("Already assigned to {name}.").format(name=name), False
    return _("Assigned to {name}.").format(name=name), False


async def assignee(session: AsyncSession, lead: Lead, manager_id: int) -> Manager | None:
    """The manager `manager_id`, if they receive the lead's site (on shift or not)."""
    return next((m for m in await receiving(session, lead) if m.telegram_id == manager_id), None)


async def hand_over(
    session: AsyncSession,
    lead: Lead,
    target: Manager,
    *,
    actor_id: int | None,
    actor_name: str,
    timers: SiteTimers,
) -> bool:
    """Give the lead to `target` (one of `assignable`), logged as done by the actor (an
    admin, or a rule); False when it is theirs already. The site's take-back wait starts
    (`timers`: the lead's site's)."""
    assert lead.id is not None
    name = manager_label(target)
    manager_id = target.telegram_id
    # Given by an admin or a rule while offered to someone: the offer ends.
    await withdraw_offer(session, lead)
    if not await assign_lead(session, lead_id=lead.id, manager_id=manager_id, name=name):
        return False
    action = await start_action(
        session,
        lead_id=lead.id,
        kind=assign_action(manager_id),
        actor_id=actor_id,
        actor_name=actor_name,
    )
    action.outcome, action.detail = ActionOutcome.OK.value, name
    session.add(action)
    assert action.id is not None
    await start_wait(session, lead_id=lead.id, owner_id=manager_id, taking=action, timers=timers)
    await own_copy(session, lead_id=lead.id, manager_id=manager_id, action=action)
    await refresh_cards(session, lead_id=lead.id, cause=f"a{action.id}")
    return True


async def own_copy(session: AsyncSession, *, lead_id: int, manager_id: int, action: Action) -> None:
    """The card of a lead given to a manager (action `action`) comes to their chat as a new
    message, so they see it. Queue it before the refresh of every card, which then finds that
    copy up to date."""
    assert action.id is not None
    card = CardPayload(lead_id=lead_id, chat_id=manager_id, reason=ASSIGNED)
    await enqueue_job(
        session, NOTIFY, card, dedupe_key=assigned_card_key(lead_id, manager_id, action.id)
    )


async def release(session: AsyncSession, lead: Lead, manager: Manager) -> tuple[str, bool]:
    """The owner or an admin frees the lead for anyone to take. Returns the answer, and
    whether it is a refusal."""
    assert lead.id is not None
    owner = lead.taken_by
    if owner is None:
        return _("Nobody has this lead."), False
    if owner != manager.telegram_id and not is_admin(manager):
        return _("Only {name} or an admin can release this lead.").format(
            name=lead.taken_by_name or "?"
        ), True
    # Whose it was, when someone else (an admin) releases it: read before the update, which
    # clears it on this object too.
    had_it = (lead.taken_by_name or "?") if owner != manager.telegram_id else ""
    if not await release_lead(session, lead_id=lead.id, owner_id=owner):
        return _("Nobody has this lead."), False
    action = await _done(session, lead.id, manager, RELEASE, detail=had_it)
    await refresh_cards(session, lead_id=lead.id, cause=f"a{action.id}")
    return _("Released: anyone can take it."), False


async def _done(
    session: AsyncSession, lead_id: int, manager: Manager, kind: str, *, detail: str = ""
) -> Action:
    """The change is made: its line in the action log (the caller redraws the cards)."""
    action = await start_action(
        session, lead_id=lead_id, kind=kind, actor_id=manager.telegram_id, actor_name=manager.name
    )
    action.outcome, action.detail = ActionOutcome.OK.value, detail
    session.add(action)
    return action
