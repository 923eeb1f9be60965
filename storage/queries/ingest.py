"""Applying many received events in one transaction: the hot path of webhook intake.

A batch costs a handful of statements whatever its size (look-ups with IN, inserts with
executemany), which is what lets one SQLite writer keep up with a busy landing page.
It is synchronous code on a plain connection: on SQLite it runs whole in the writer
thread, one hop for the batch instead of one event-loop round trip per statement.
Events are applied in arrival order, so a `lead` then a `pay` for one lead in the same
batch end as if they had come in two transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update

from domain.jobs import (
    NOTIFY,
    RULES_APPLY,
    CardPayload,
    LeadTimerPayload,
    changed_card_key,
    new_card_key,
    rules_key,
)
from storage.bulk import BulkInsert
from storage.clock import utcnow
from storage.database import Database, run_retrying_conflicts
from storage.models import (
    InboxEvent,
    InboxOutcome,
    Job,
    Lead,
    LeadOrigin,
    Manager,
    Payment,
)
from storage.queries.cards import lost_reason_after
from storage.queries.jobs import job_row
from storage.queries.leads import LEAD_FIELDS, LeadSnapshot, PaymentSnapshot
from storage.tables import table_of

LeadKey = tuple[str, int]
# Fields a later event never clears: Flexbe sends partial groups, and an empty value
# in a `pay` event must not wipe what the `lead` event said.
_KEEP_WHEN_EMPTY = frozenset(LEAD_FIELDS) - {"status_code", "status_name"}
# Core tables: bulk statements skip the ORM's per-object bookkeeping.
_LEAD: Table = table_of(Lead)
_PAYMENT: Table = table_of(Payment)
_JOB: Table = table_of(Job)
_INBOX: Table = table_of(InboxEvent)
_MANAGER: Table = table_of(Manager)

# The statements are built once: building one costs more than running it for a small
# batch. `IN` lists are expanding parameters, filled in at each execution.
_EARLIER_COPIES = select(_INBOX.c.dedupe_key, _INBOX.c.lead_id).where(
    _INBOX.c.dedupe_key.in_(bindparam("keys", expanding=True))
)
# Both columns in the filter, so the (site_key, flexbe_id) unique index serves it.
_LEADS_BY_KEY = select(_LEAD).where(
    _LEAD.c.site_key.in_(bindparam("site_keys", expanding=True)),
    _LEAD.c.flexbe_id.in_(bindparam("flexbe_ids", expanding=True)),
)
_PAYMENT_FINGERPRINTS = select(_PAYMENT.c.lead_id, _PAYMENT.c.fingerprint).where(
    _PAYMENT.c.lead_id.in_(bindparam("lead_ids", expanding=True))
)
_ACTIVE_MANAGERS = select(_MANAGER.c.telegram_id, _MANAGER.c.sites).where(
    _MANAGER.c.active.is_(True)
)
_EXISTING_JOBS = select(_JOB.c.dedupe_key).where(
    _JOB.c.dedupe_key.in_(bindparam("keys", expanding=True))
)
_INSERT_LEADS = BulkInsert(_LEAD)
_INSERT_PAYMENTS = BulkInsert(_PAYMENT)
_INSERT_JOBS = BulkInsert(_JOB)
_INSERT_EVENTS = BulkInsert(_INBOX)


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """An event that parsed and validated, ready to store."""

    site_key: str
    chats: tuple[int, ...]
    event: str
    content_type: str
    # None for a lead read from the API (sync): there is no raw event to keep.
    body: bytes | None
    dedupe_key: str
    snapshot: LeadSnapshot
    origin: LeadOrigin = LeadOrigin.WEBHOOK
    # False: a new lead gets no card here (the caller decides); changes still edit cards.
    announce_new: bool = True
    # True: a new live lead (`LeadOrigin.is_live`), announced here or not, gets its site's
    # speed-to-lead rules applied (`rules.apply`).
    apply_rules: bool = False

    @property
    def lead_key(self) -> LeadKey:
        return (self.site_key, self.snapshot.flexbe_id)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    outcome: InboxOutcome
    event_id: int  # 0 when no raw event was kept
    lead_id: int | None
    jobs_created: int
    change: str = ""  # "new", "updated", "paid", or "" when the lead did not change


@dataclass(slots=True)
class _LeadState:
    values: dict[str, Any]
    is_new: bool
    changed: bool = False
    payments: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Planned:
    event: IncomingEvent
    first: bool
    earlier_lead_id: int | None = None
    payment: PaymentSnapshot | None = None
    # Chat, reason, and the lead's version in the key (None: the first card of a new lead).
    notify: list[tuple[int, str, int | None]] = field(default_factory=list)
    change: str = ""
    # A new lead whose site's rules are to be applied, once (`rules_key`).
    rules: bool = False


async def store(database: Database, events: Sequence[IncomingEvent]) -> list[StoredEvent]:
    """`store_events` in a transaction of its own, tried again when another process stored
    one of the same leads first (the retry sees it and updates instead)."""
    return await run_retrying_conflicts(database, partial(store_events, events=events))


def store_events(connection: Connection, events: Sequence[IncomingEvent]) -> list[StoredEvent]:
    """Store each event, its lead, payment and card jobs; repeats are kept as duplicates."""
    now = utcnow()
    earlier = _earlier_copies(connection, events)
    planned = _mark_repeats(events, earlier)
    leads = _load_leads(connection, {p.event.lead_key for p in planned if p.first})
    managers = _managers_by_site(connection, {p.event.site_key for p in planned if p.first})
    for plan in planned:
        if plan.first:
            _plan_changes(plan, leads, now, managers.get(plan.event.site_key, ()))
    _write_leads(connection, leads)
    _write_payments(connection, planned, leads, now)
    created = _write_jobs(connection, planned, leads, now)
    event_ids = _write_inbox(connection, planned, leads, now)
    return [
        StoredEvent(
            InboxOutcome.ACCEPTED if plan.first else InboxOutcome.DUPLICATE,
            event_id,
            _lead_id(plan, leads),
            sum(1 for key in _job_keys(plan, leads) if key in created),
            plan.change,
        )
        for plan, event_id in zip(planned, event_ids, strict=True)
    ]


def _earlier_copies(
    connection: Connection, events: Sequence[IncomingEvent]
) -> dict[str, int | None]:
    keys = list({event.dedupe_key for event in events})
    rows = connection.execute(_EARLIER_COPIES, {"keys": keys})
    return {key: lead_id for key, lead_id in rows.all() if key is not None}


def _mark_repeats(
    events: Sequence[IncomingEvent], earlier: dict[str, int | None]
) -> list[_Planned]:
    planned, seen = [], set(earlier)
    for event in events:
        planned.append(_Planned(event, event.dedupe_key not in seen, earlier.get(event.dedupe_key)))
        seen.add(event.dedupe_key)
    return planned


def _load_leads(connection: Connection, keys: set[LeadKey]) -> dict[LeadKey, _LeadState]:
    if not keys:
        return {}
    rows = connection.execute(
        _LEADS_BY_KEY,
        {
            "site_keys": list({site_key for site_key, _ in keys}),
            "flexbe_ids": list({flexbe_id for _, flexbe_id in keys}),
        },
    )
    states = {}
    for row in rows.mappings():
        key = (row["site_key"], row["flexbe_id"])
        if key in keys:
            states[key] = _LeadState(dict(row), is_new=False)
    if states:
        payments = connection.execute(
            _PAYMENT_FINGERPRINTS, {"lead_ids": [s.values["id"] for s in states.values()]}
        )
        by_id = {state.values["id"]: state for state in states.values()}
        for lead_id, fingerprint in payments.all():
            by_id[lead_id].payments.add(fingerprint)
    return states


def _managers_by_site(connection: Connection, site_keys: set[str]) -> dict[str, tuple[int, ...]]:
    """Each site's active managers: their private chats get its cards too."""
    if not site_keys:
        return {}
    rows = connection.execute(_ACTIVE_MANAGERS).all()
    return {
        key: tuple(telegram_id for telegram_id, sites in rows if not sites or key in sites)
        for key in site_keys
    }


def _plan_changes(
    plan: _Planned,
    leads: dict[LeadKey, _LeadState],
    now: datetime,
    managers: tuple[int, ...],
) -> None:
    event = plan.event
    state = leads.get(event.lead_key)
    if state is None:
        leads[event.lead_key] = state = _new_lead(event, now)
        reason = "new"
    else:
        reason = "updated" if _apply(state, event.snapshot, now) else ""
    payment = event.snapshot.payment()
    if payment is not None and payment.fingerprint() not in state.payments:
        state.payments.add(payment.fingerprint())
        plan.payment = payment
        if reason == "updated" and event.event == "pay":
            reason = "paid"
    plan.change = reason
    if reason and (reason != "new" or event.announce_new):
        version = None if reason == "new" else int(state.values["version"])
        plan.notify = [(chat, reason, version) for chat in dict.fromkeys([*event.chats, *managers])]
    plan.rules = reason == "new" and event.apply_rules and event.origin.is_live


def _new_lead(event: IncomingEvent, now: datetime) -> _LeadState:
    values = event.snapshot.columns()
    values.update(
        site_key=event.site_key,
        created_at=event.snapshot.created_at or now,
        origin=event.origin.value,
        version=1,
        received_at=now,
        updated_at=now,
        # Cancelled in Flexbe before we saw it: lost, no reason given.
        lost_reason=lost_reason_after(None, values["status_code"]),
    )
    return _LeadState(values, is_new=True, changed=True)


def _apply(state: _LeadState, snapshot: LeadSnapshot, now: datetime) -> bool:
    changed = False
    for name in LEAD_FIELDS:
        value = getattr(snapshot, name)
        if value is None and name == "created_at":
            continue
        if name in _KEEP_WHEN_EMPTY and value in (None, "", {}):
            continue
        if state.values.get(name) != value:
            state.values[name] = value
            changed = True
    reason = lost_reason_after(state.values.get("lost_reason"), state.values["status_code"])
    if state.values.get("lost_reason") != reason:
        state.values["lost_reason"] = reason
        changed = True
    if changed:
        state.values["version"] += 1
        state.values["updated_at"] = now
        state.changed = True
    return changed


def _write_leads(connection: Connection, leads: dict[LeadKey, _LeadState]) -> None:
    new = [state.values for state in leads.values() if state.is_new]
    for values, lead_id in zip(new, _INSERT_LEADS.rows_returning_ids(connection, new), strict=True):
        values["id"] = lead_id
    changed = [state.values for state in leads.values() if state.changed and not state.is_new]
    if changed:
        columns = [name for name in changed[0] if name != "id"]
        statement = (
            update(_LEAD)
            .where(_LEAD.c.id == bindparam("lead_id"))
            .values({name: bindparam(name) for name in columns})
        )
        connection.execute(statement, [{"lead_id": values["id"], **values} for values in changed])


def _write_payments(
    connection: Connection,
    planned: list[_Planned],
    leads: dict[LeadKey, _LeadState],
    now: datetime,
) -> None:
    rows = [
        {
            "lead_id": leads[plan.event.lead_key].values["id"],
            "fingerprint": plan.payment.fingerprint(),
            "received_at": now,
            **plan.payment.columns(),
        }
        for plan in planned
        if plan.payment is not None
    ]
    _INSERT_PAYMENTS.rows(connection, rows)


def _job_keys(plan: _Planned, leads: dict[LeadKey, _LeadState]) -> list[str]:
    if not plan.notify and not plan.rules:
        return []
    lead_id = leads[plan.event.lead_key].values["id"]
    keys = [
        new_card_key(lead_id, chat) if version is None else changed_card_key(lead_id, chat, version)
        for chat, _, version in plan.notify
    ]
    return [*keys, rules_key(lead_id)] if plan.rules else keys


def _write_jobs(
    connection: Connection,
    planned: list[_Planned],
    leads: dict[LeadKey, _LeadState],
    now: datetime,
) -> set[str]:
    rows: dict[str, dict[str, Any]] = {}
    for plan in planned:
        if not plan.notify and not plan.rules:
            continue
        lead_id = leads[plan.event.lead_key].values["id"]
        keys = _job_keys(plan, leads)
        for (chat, reason, _), key in zip(plan.notify, keys, strict=False):
            card = CardPayload(lead_id=lead_id, chat_id=chat, reason=reason)
            rows[key] = job_row(NOTIFY.name, card.dump(), key, card.queue, now)
        if plan.rules:
            # No queue: the rules act at once, whatever the chats' backlog of cards.
            key = keys[-1]
            rows[key] = job_row(RULES_APPLY.name, LeadTimerPayload(lead_id).dump(), key, None, now)
    if not rows:
        return set()
    existing = connection.execute(_EXISTING_JOBS, {"keys": list(rows)})
    for (key,) in existing.all():
        rows.pop(key)
    _INSERT_JOBS.rows(connection, list(rows.values()))
    return set(rows)


def _write_inbox(
    connection: Connection,
    planned: list[_Planned],
    leads: dict[LeadKey, _LeadState],
    now: datetime,
) -> list[int]:
    rows = [
        {
            "site_key": plan.event.site_key,
            "event": plan.event.event,
            "content_type": plan.event.content_type,
            "body": plan.event.body,
            "dedupe_key": plan.event.dedupe_key if plan.first else None,
            "outcome": (InboxOutcome.ACCEPTED if plan.first else InboxOutcome.DUPLICATE).value,
            "lead_id": _lead_id(plan, leads),
            "received_at": now,
        }
        for plan in planned
    ]
    kept = [index for index, plan in enumerate(planned) if plan.event.body is not None]
    ids = dict.fromkeys(range(len(planned)), 0)  # 0: no raw event was kept
    inserted = _INSERT_EVENTS.rows_returning_ids(connection, [rows[index] for index in kept])
    ids.update(zip(kept, inserted, strict=True))
    return list(ids.values())


def _lead_id(plan: _Planned, leads: dict[LeadKey, _LeadState]) -> int | None:
    state = leads.get(plan.event.lead_key)
    if state is not None:
        lead_id: int = state.values["id"]
        return lead_id
    return plan.earlier_lead_id
