"""Cards, actions and chat states: what the bot needs to keep cards live and honest."""

from __future__ import annotations

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import NOTIFY, CardPayload, refresh_card_key
from storage.clock import utcnow
from storage.models import Action, ActionOutcome, Card, ChatState, Lead
from storage.queries.jobs import enqueue_job, retry_dead


async def find_card(session: AsyncSession, *, lead_id: int, chat_id: int) -> Card | None:
    result = await session.exec(
        select(Card).where(Card.lead_id == lead_id, Card.chat_id == chat_id)
    )
    return result.first()


async def cards_of(session: AsyncSession, lead_id: int) -> list[Card]:
    result = await session.exec(select(Card).where(Card.lead_id == lead_id))
    return list(result.all())


async def lock_lead(session: AsyncSession, lead_id: int) -> Lead | None:
    """The lead, its row locked until the transaction ends (PostgreSQL; SQLite has one
    writer at a time anyway). Whoever changes what a card shows and whoever saves a first
    card take it, so one of them sees the other's work: the change sees the card and
    refreshes it, or the card's sender sees the change and sends an edit."""
    result = await session.exec(
        select(Lead)
        .where(col(Lead.id) == lead_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.first()


async def refresh_cards(session: AsyncSession, *, lead_id: int, cause: str) -> int:
    """Edit every card of the lead; `cause` makes the dedupe key (one refresh per cause).
    Locks the lead first (`lock_lead`), so a first card being saved now is not missed."""
    await lock_lead(session, lead_id)
    created = 0
    for card in await cards_of(session, lead_id):
        job = CardPayload(lead_id=lead_id, chat_id=card.chat_id, reason="updated")
        _, is_new = await enqueue_job(
            session,
            NOTIFY,
            job,
            dedupe_key=refresh_card_key(lead_id, card.chat_id, cause),
        )
        created += is_new
    return created


async def save_card(
    session: AsyncSession, *, lead_id: int, chat_id: int, message_id: int, content_hash: str
) -> Card:
    card = await find_card(session, lead_id=lead_id, chat_id=chat_id)
    if card is None:
        card = Card(lead_id=lead_id, chat_id=chat_id)
    card.message_id, card.content_hash, card.updated_at = message_id, content_hash, utcnow()
    try:
        async with session.begin_nested():
            session.add(card)
    except IntegrityError:
        existing = await find_card(session, lead_id=lead_id, chat_id=chat_id)
        if existing is None:
            raise
        existing.message_id, existing.content_hash = message_id, content_hash
        session.add(existing)
        card = existing
    return card


async def take_lead(session: AsyncSession, *, lead_id: int, manager_id: int, name: str) -> bool:
    """First tap wins: sets who took the lead only if nobody has yet."""
    now = utcnow()
    result = await session.exec(
        update(Lead)
        .where(col(Lead.id) == lead_id, col(Lead.taken_by).is_(None))
        .values(taken_by=manager_id, taken_by_name=name, taken_at=now, updated_at=now)
    )
    return result.rowcount == 1


async def assign_lead(session: AsyncSession, *, lead_id: int, manager_id: int, name: str) -> bool:
    """Give the lead to this manager, unless it is theirs already: False then (a second tap
    on the same name changes nothing). Whoever had it before no longer has it."""
    now = utcnow()
    result = await session.exec(
        update(Lead)
        .where(
            col(Lead.id) == lead_id,
            or_(col(Lead.taken_by).is_(None), col(Lead.taken_by) != manager_id),
        )
        .values(taken_by=manager_id, taken_by_name=name, taken_at=now, updated_at=now)
    )
    return result.rowcount == 1


async def release_lead(session: AsyncSession, *, lead_id: int, owner_id: int) -> bool:
    """Free the lead, if `owner_id` still has it: False when it changed hands meanwhile or
    was released already (so two taps release it once)."""
    result = await session.exec(
        update(Lead)
        .where(col(Lead.id) == lead_id, col(Lead.taken_by) == owner_id)
        .values(taken_by=None, taken_by_name=None, taken_at=None, updated_at=utcnow())
    )
    return result.rowcount == 1


async def start_action(
    session: AsyncSession, *, lead_id: int, kind: str, actor_id: int | None, actor_name: str
) -> Action:
    action = Action(lead_id=lead_id, kind=kind, actor_id=actor_id, actor_name=actor_name)
    session.add(action)
    await session.flush()
    return action


async def finish_action(
    session: AsyncSession, action_id: int, *, ok: bool, detail: str = ""
) -> None:
    await session.exec(
        update(Action)
        .where(col(Action.id) == action_id)
        .values(
            outcome=(ActionOutcome.OK if ok else ActionOutcome.FAILED).value,
            detail=detail[:500],
            finished_at=utcnow(),
        )
    )


async def set_lead_status(session: AsyncSession, *, lead_id: int, status: int) -> None:
    """Record a status Flexbe accepted from us: a new version of the lead, unless it is so.

    The name is left empty until Flexbe tells it (its webhook or a sync)."""
    lead = await session.get(Lead, lead_id)
    if lead is not None and lead.status_code != status:
        lead.status_code, lead.status_name = status, ""
        lead.version, lead.updated_at = lead.version + 1, utcnow()
        session.add(lead)


async def cancelled_calls(session: AsyncSession, *, lead_id: int) -> int:
    """How many calls of the lead were cancelled: a call after a cancel is a new call."""
    result = await session.exec(
        select(func.count())
        .select_from(Action)
        .where(Action.lead_id == lead_id, Action.kind == "uncall")
    )
    return int(result.one())


async def retry_failed_action(session: AsyncSession, *, lead_id: int) -> Action | None:
    """Run the lead's last failed action again: its dead job goes back in the queue, as
    `retry_dead` revives it for operators, and the action is pending again.

    None when there is nothing to retry (no failed action, or its job is not dead)."""
    result = await session.exec(
        select(Action)
        .where(Action.lead_id == lead_id, Action.outcome == ActionOutcome.FAILED.value)
        .order_by(col(Action.id).desc())
    )
    action = result.first()
    if action is None or action.job_id is None:
        return None
    if not await retry_dead(session, job_id=action.job_id):
        return None
    action.outcome, action.detail = ActionOutcome.PENDING.value, ""
    session.add(action)
    return action


async def history_of(session: AsyncSession, lead_id: int) -> list[Action]:
    result = await session.exec(
        select(Action).where(Action.lead_id == lead_id).order_by(col(Action.id))
    )
    return list(result.all())


async def is_blocked(session: AsyncSession, chat_id: int) -> bool:
    state = await session.get(ChatState, chat_id)
    return state is not None and state.blocked


async def mark_blocked(session: AsyncSession, chat_id: int, reason: str) -> bool:
    """Returns True when the chat was not blocked before (so admins hear of it once)."""
    state = await session.get(ChatState, chat_id)
    if state is not None and state.blocked:
        return False
    if state is None:
        state = ChatState(chat_id=chat_id)
    state.blocked, state.reason, state.updated_at = True, reason[:200], utcnow()
    session.add(state)
    return True
