"""The jobs the bot writes: card reposts, and one job per external action or edit of the
lead, logged in its history (`start_logged`; their kinds are in `domain.jobs`; the refresh
of a lead's cards is `storage.queries.cards.refresh_cards`, as actions write it too).

Dedupe keys make taps idempotent: two taps on one button, or two managers tapping,
find the job already there and nothing more happens. A speed-to-lead rule (`bot.rules`)
plans its actions with the same builders, so a tap after the rule finds its job too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import (
    CALL,
    CANCEL_CALL,
    CRM5_DEAL,
    FLEXBE_STATUS,
    NOTIFY,
    ActionPayload,
    CardPayload,
    JobKind,
    LeadEditPayload,
    NotedAction,
    call_key,
    cancel_call_key,
    deal_key,
    repost_card_key,
    status_key,
)
from domain.statuses import LeadStatus
from storage.models import Action
from storage.queries.cards import refresh_cards, start_action
from storage.queries.jobs import enqueue_job


async def repost_card(session: AsyncSession, *, lead_id: int, chat_id: int, request: str) -> None:
    """Post the card again as a new message (the old one may be far up the chat)."""
    card = CardPayload(lead_id=lead_id, chat_id=chat_id, reason="repost")
    await enqueue_job(
        session,
        NOTIFY,
        card,
        dedupe_key=repost_card_key(lead_id, chat_id, request),
    )


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """An external action about to be asked for: its job's kind, dedupe key and payload."""

    kind: JobKind[ActionPayload]
    dedupe_key: str
    payload: ActionPayload


def status_change(base: ActionPayload, status: int, version: int) -> PlannedAction:
    """One Flexbe status change per version of the lead."""
    payload = replace(base, status=status, action=f"status:{status}")
    return PlannedAction(FLEXBE_STATUS, status_key(base.lead_id, status, version), payload)


def cancel_for(base: ActionPayload, version: int, *, reason: str, note: str) -> PlannedAction:
    """Cancelled with the reason picked, and `note`, the line it adds to the lead's note:
    the same job and key as the status button's, on the lead's queue (`NotedAction`)."""
    planned = status_change(base, int(LeadStatus.CANCELLED), version)
    payload = NotedAction(**{**asdict(planned.payload), "lost_reason": reason, "note": note})
    return replace(planned, payload=payload)


def deal(base: ActionPayload) -> PlannedAction:
    return PlannedAction(CRM5_DEAL, deal_key(base.lead_id), replace(base, action="deal"))


def call(
    base: ActionPayload, generation: int, *, delay: int, call_at: int | None, action: str
) -> PlannedAction:
    """A call (`generation`: the lead's cancelled calls so far), ringing at `call_at`."""
    payload = replace(base, delay=delay, call_at=call_at, action=action)
    return PlannedAction(CALL, call_key(base.lead_id, generation), payload)


def cancel_call(base: ActionPayload, generation: int) -> PlannedAction:
    payload = replace(base, action="uncall")
    return PlannedAction(CANCEL_CALL, cancel_call_key(base.lead_id, generation), payload)


async def start_planned(
    session: AsyncSession, planned: PlannedAction, *, actor_id: int | None, actor_name: str
) -> Action | None:
    """Enqueue the action's job, log it (pending) and refresh the lead's cards; None when
    its dedupe key finds it asked for already (by a tap or a rule)."""
    return await start_logged(
        session,
        planned.kind,
        planned.payload,
        dedupe_key=planned.dedupe_key,
        actor_id=actor_id,
        actor_name=actor_name,
    )


# A job that the lead's history logs: a button's call out, or an edit of the lead in Flexbe.
Logged = TypeVar("Logged", ActionPayload, LeadEditPayload)


async def start_logged(
    session: AsyncSession,
    kind: JobKind[Logged],
    payload: Logged,
    *,
    dedupe_key: str,
    actor_id: int | None,
    actor_name: str,
) -> Action | None:
    """Enqueue the job, log it in the lead's history (pending; the job knows its row) and
    refresh the lead's cards; None when the dedupe key finds it asked for already."""
    job, created = await enqueue_job(session, kind, payload, dedupe_key=dedupe_key, max_attempts=6)
    if not created:
        return None
    action = await start_action(
        session,
        lead_id=payload.lead_id,
        kind=payload.action,
        actor_id=actor_id,
        actor_name=actor_name,
    )
    job.payload = replace(payload, action_id=action.id).dump()
    action.job_id = job.id
    session.add_all([job, action])
    await refresh_cards(session, lead_id=payload.lead_id, cause=f"a{action.id}")
    return action
