"""Cards, actions and chat states: what the bot needs to keep cards live and honest."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, and_, bindparam, func, or_, true, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import NOTIFY, CardPayload, refresh_card_key
from domain.statuses import LeadStatus
from storage.clock import utcnow
from storage.models import Action, ActionOutcome, Card, ChatState, Lead, Manager
from storage.queries.jobs import enqueue_in, enqueue_job, retry_dead
from storage.queries.speed import mark_first_action
from storage.tables import table_of

# What a card shows that a change of its lead alters: the lead's version, status and
# owner, and its actions with their outcomes.
CardStamp = tuple[object, ...]


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


@dataclass(frozen=True, slots=True)
class CardContext:
    """What sending a lead's card to a chat needs to know, read in one statement: the lead,
    its card there if any, whether the chat blocked the bot, and the chat's manager (an
    active one, in a private chat)."""

    lead: Lead
    card: Card | None
    blocked: bool
    manager: Manager | None


_CHAT: BindParameter[int] = bindparam("chat_id")
# Built once, as every card's first read: building it costs more than running it.
_CARD_CONTEXT = (
    select(Lead, Card, ChatState.blocked, Manager)
    .outerjoin(Card, and_(col(Card.lead_id) == col(Lead.id), col(Card.chat_id) == _CHAT))
    .outerjoin(ChatState, col(ChatState.chat_id) == _CHAT)
    .outerjoin(Manager, and_(col(Manager.telegram_id) == _CHAT, col(Manager.active) == true()))
    .where(col(Lead.id) == bindparam("lead_id"))
)


async def card_context(session: AsyncSession, *, lead_id: int, chat_id: int) -> CardContext | None:
    """None when the lead is gone."""
    result = await session.exec(_CARD_CONTEXT, params={"lead_id": lead_id, "chat_id": chat_id})
    row = result.first()
    if row is None:
        return None
    lead, card, blocked, manager = row
    return CardContext(lead=lead, card=card, blocked=bool(blocked), manager=manager)


_CARD: Table = table_of(Card)
_LEAD: Table = table_of(Lead)
_ACTION: Table = table_of(Action)
# Built once (building one costs more than running it): the first card's look at its lead,
# whose row it locks as `lock_lead` does (an update locks it), and the card's upsert for each
# dialect. The same statement records the lead first seen (`Lead.first_seen_at`, set once):
# speed-to-lead costs a card no statement of its own.
_LOCKED_LEAD_STATE = (
    update(_LEAD)
    .where(_LEAD.c.id == bindparam("lead_id"))
    .values(first_seen_at=func.coalesce(_LEAD.c.first_seen_at, bindparam("now")))
    .returning(_LEAD.c.version, _LEAD.c.status_code, _LEAD.c.taken_by)
)
_ACTION_STATES = (
    core_select(_ACTION.c.id, _ACTION.c.outcome, _ACTION.c.detail)
    .where(_ACTION.c.lead_id == bindparam("lead_id"))
    .order_by(_ACTION.c.id)
)


def _card_upsert(insert: Any) -> Any:
    statement = insert(_CARD).values(
        {
            name: bindparam(name)
            for name in (
                "lead_id",
                "chat_id",
                "message_id",
                "content_hash",
                "created_at",
                "updated_at",
            )
        }
    )
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[_CARD.c.lead_id, _CARD.c.chat_id],
        set_={
            "message_id": excluded.message_id,
            "content_hash": excluded.content_hash,
            "updated_at": excluded.updated_at,
        },
    )


_UPSERT_CARD = {
    "postgresql": _card_upsert(postgresql.insert),
    "sqlite": _card_upsert(sqlite.insert),
}


@dataclass(frozen=True, slots=True)
class SentCard:
    """Where a lead's card is in a chat, and the hash of what it shows."""

    lead_id: int
    chat_id: int
    message_id: int
    content_hash: str


def record_card(connection: Connection, sent: SentCard) -> None:
    """Record a card sent or edited: one upsert on (lead, chat), so a card recorded
    meanwhile by another process is updated, never a conflict. Synchronous, in the
    caller's transaction: `Database.run_in_transaction` runs it in one hop (on SQLite, in
    the writer thread)."""
    now = utcnow()
    connection.execute(
        _UPSERT_CARD[connection.dialect.name],
        {
            "lead_id": sent.lead_id,
            "chat_id": sent.chat_id,
            "message_id": sent.message_id,
            "content_hash": sent.content_hash,
            "created_at": now,
            "updated_at": now,
        },
    )


def record_first_card(connection: Connection, sent: SentCard, *, shown: CardStamp) -> None:
    """Record a lead's first card in a chat, drawn from what `shown` stamps. Whatever
    changed the lead while it was drawn (a rule acts at once) did not know of this card,
    so its refresh missed it; the lead's lock (which each change takes too,
    `refresh_cards`) makes sure one of the two sees the other: here, an edit is queued."""
    state = connection.execute(
        _LOCKED_LEAD_STATE, {"lead_id": sent.lead_id, "now": utcnow()}
    ).first()
    if state is not None:
        actions = connection.execute(_ACTION_STATES, {"lead_id": sent.lead_id}).all()
        now = _stamp(state.version, state.status_code, state.taken_by, actions)
        if now != shown:
            enqueue_in(
                connection,
                NOTIFY,
                CardPayload(lead_id=sent.lead_id, chat_id=sent.chat_id, reason="updated"),
                dedupe_key=refresh_card_key(
                    sent.lead_id,
                    sent.chat_id,
                    "s" + hashlib.sha256(repr(now).encode()).hexdigest()[:16],
                ),
            )
    record_card(connection, sent)


def card_stamp(lead: Lead, actions: Sequence[Action]) -> CardStamp:
    """The stamp of a card drawn from `lead` and its `actions`."""
    return _stamp(lead.version, lead.status_code, lead.taken_by, actions)


def _stamp(version: int, status: int, owner: int | None, actions: Sequence[Any]) -> CardStamp:
    return (
        version,
        status,
        owner,
        tuple((action.id, action.outcome, action.detail) for action in actions),
    )


async def save_card(session: AsyncSession, sent: SentCard) -> None:
    """`record_card` in an async session's transaction."""
    await session.run_sync(lambda sync: record_card(sync.connection(), sent))


async def take_lead(session: AsyncSession, *, lead_id: int, manager_id: int, name: str) -> bool:
    """First tap wins: sets who took the lead only if nobody has yet, and it is not offered
    to someone (an offer is theirs alone until it ends)."""
    now = utcnow()
    result = await session.exec(
        update(Lead)
        .where(col(Lead.id) == lead_id, col(Lead.taken_by).is_(None), col(Lead.offer_to).is_(None))
        .values(
            taken_by=manager_id,
            taken_by_name=name,
            taken_at=now,
            updated_at=now,
            first_owned_at=func.coalesce(col(Lead.first_owned_at), now),
        )
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
        .values(
            taken_by=manager_id,
            taken_by_name=name,
            taken_at=now,
            updated_at=now,
            first_owned_at=func.coalesce(col(Lead.first_owned_at), now),
        )
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
    """Log an action (pending). Every action of a manager or a rule starts here, so here
    the lead's first action and first call are recorded (`storage.queries.speed`)."""
    action = Action(lead_id=lead_id, kind=kind, actor_id=actor_id, actor_name=actor_name)
    session.add(action)
    await session.flush()
    await mark_first_action(session, lead_id=lead_id, kind=kind, at=action.requested_at)
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


async def set_lead_status(
    session: AsyncSession,
    *,
    lead_id: int,
    status: int,
    lost_reason: str = "",
    note: str | None = None,
) -> None:
    """Record a status Flexbe accepted from us: a new version of the lead, unless it is so.
    A change to Cancelled records `lost_reason` (`lost_reason_after`) and the note sent with
    it, if any.

    The name is left empty until Flexbe tells it (its webhook or a sync)."""
    lead = await session.get(Lead, lead_id)
    if lead is None:
        return
    reason = lost_reason_after(lead.lost_reason, status, lost_reason)
    noted = note if note is not None else lead.note
    if lead.status_code == status and lead.lost_reason == reason and lead.note == noted:
        return
    if lead.status_code != status:
        lead.status_code, lead.status_name = status, ""
    lead.lost_reason, lead.note = reason, noted
    lead.version, lead.updated_at = lead.version + 1, utcnow()
    session.add(lead)


def lost_reason_after(current: str | None, status: int, picked: str = "") -> str | None:
    """`Lead.lost_reason` once the lead has `status`: the reason picked when Cancelled ("":
    none given, which never replaces one picked); None once it is no longer Cancelled, as
    a lead brought back is not lost (its history keeps the reason it was lost for)."""
    if status != LeadStatus.CANCELLED:
        return None
    return picked or (current if current is not None else "")


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


_HISTORY = (
    select(Action).where(col(Action.lead_id) == bindparam("lead_id")).order_by(col(Action.id))
)


async def history_of(session: AsyncSession, lead_id: int) -> list[Action]:
    result = await session.exec(_HISTORY, params={"lead_id": lead_id})
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
