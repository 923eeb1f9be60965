"""Durable intake of one Flexbe webhook: raw event, lead, payment and jobs in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from storage.database import Database
from storage.models import InboxEvent, InboxOutcome, Lead, LeadOrigin
from storage.queries.inbox import claim_first_delivery, record_event
from storage.queries.jobs import enqueue
from storage.queries.leads import LeadChange, UpsertResult, record_payment, upsert_lead
from webhooks.events import KNOWN_EVENTS, AnyEvent, FlexbeEvent
from webhooks.forms import FormError, parse_body
from webhooks.normalize import snapshot_from_lead

log = logging.getLogger(__name__)

NOTIFY_JOB = "notify"


class RejectedEvent(Exception):
    """An authenticated event that cannot be understood; it is stored raw as rejected."""

    def __init__(self, message: str, *, event_id: int) -> None:
        super().__init__(message)
        self.message = message
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: InboxOutcome
    event_id: int
    lead_id: int | None = None
    jobs_created: int = 0


@dataclass(frozen=True, slots=True)
class IntakeSite:
    key: str
    chats: Sequence[int]


class Intake:
    """Receives events for known sites. `on_jobs_enqueued` runs after a commit added jobs."""

    def __init__(
        self, database: Database, *, on_jobs_enqueued: Callable[[], None] | None = None
    ) -> None:
        self.database = database
        self.on_jobs_enqueued = on_jobs_enqueued

    async def receive(self, site: IntakeSite, body: bytes, content_type: str) -> IntakeResult:
        raw = InboxEvent(site_key=site.key, body=body, content_type=content_type[:255], outcome="")
        try:
            document = parse_body(body, content_type)
            name = AnyEvent.model_validate(document).event
            if name not in KNOWN_EVENTS:
                return await self._store(raw, InboxOutcome.IGNORED, event=name)
            event = FlexbeEvent.model_validate(document)
        except FormError as exc:
            raise await self._reject(raw, str(exc)) from None
        except ValidationError as exc:
            raise await self._reject(raw, describe(exc)) from None
        raw.event = event.event
        raw.outcome = InboxOutcome.ACCEPTED.value
        raw.dedupe_key = f"{site.key}:{_fingerprint(document)}"
        result = await self._accept(site, raw, event)
        if result.jobs_created and self.on_jobs_enqueued is not None:
            self.on_jobs_enqueued()
        return result

    async def _accept(self, site: IntakeSite, raw: InboxEvent, event: FlexbeEvent) -> IntakeResult:
        async with self.database.write() as session:
            earlier = await claim_first_delivery(session, raw)
            if earlier is not None:
                repeat = _copy_as_duplicate(raw, lead_id=earlier.lead_id)
                await record_event(session, repeat)
                return _result(repeat, InboxOutcome.DUPLICATE)
            snapshot = snapshot_from_lead(event.data)
            upsert = await upsert_lead(
                session, site_key=site.key, snapshot=snapshot, origin=LeadOrigin.WEBHOOK
            )
            lead_id = _id(upsert.lead)
            raw.lead_id = lead_id
            session.add(raw)
            payment = snapshot.payment()
            paid = payment is not None and (
                await record_payment(session, lead_id=lead_id, payment=payment) is not None
            )
            created = 0
            for chat_id in site.chats:
                job = notify_job(upsert, chat_id=chat_id, paid=paid and event.event == "pay")
                if job is None:
                    continue
                _, is_new = await enqueue(session, **job)
                created += is_new
            await session.flush()
            return IntakeResult(InboxOutcome.ACCEPTED, _id(raw), lead_id, created)

    async def _store(self, raw: InboxEvent, outcome: InboxOutcome, *, event: str) -> IntakeResult:
        raw.outcome = outcome.value
        raw.event = event[:64]
        async with self.database.write() as session:
            await record_event(session, raw)
        return _result(raw, outcome)

    async def _reject(self, raw: InboxEvent, message: str) -> RejectedEvent:
        raw.error = message
        if not raw.event:
            raw.event = ""
        stored = await self._store(raw, InboxOutcome.REJECTED, event=raw.event)
        log.warning("rejected event %s for site %s: %s", stored.event_id, raw.site_key, message)
        return RejectedEvent(message, event_id=stored.event_id)


def notify_job(upsert: UpsertResult, *, chat_id: int, paid: bool) -> dict[str, Any] | None:
    """The card job a change of a lead causes in one chat, or None when nothing changed."""
    lead_id = _id(upsert.lead)
    if upsert.change is LeadChange.CREATED:
        reason, key = "new", f"notify:{lead_id}:{chat_id}"
    elif upsert.change is LeadChange.UPDATED:
        reason = "paid" if paid else "updated"
        key = f"notify:{lead_id}:{chat_id}:v{upsert.lead.version}"
    else:
        return None
    return {
        "kind": NOTIFY_JOB,
        "payload": {"lead_id": lead_id, "chat_id": chat_id, "reason": reason},
        "dedupe_key": key,
        "queue": f"tg:{chat_id}",
    }


def describe(error: ValidationError) -> str:
    """A short message that names each field at fault, e.g. `data.id: field required`."""
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - len(problems)
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


def _fingerprint(document: dict[str, Any]) -> str:
    # Canonical JSON: the same event sent as a form or as JSON, in any key order, is one event.
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _copy_as_duplicate(raw: InboxEvent, *, lead_id: int | None) -> InboxEvent:
    return InboxEvent(
        site_key=raw.site_key,
        event=raw.event,
        content_type=raw.content_type,
        body=raw.body,
        outcome=InboxOutcome.DUPLICATE.value,
        lead_id=lead_id,
    )


def _result(event: InboxEvent, outcome: InboxOutcome) -> IntakeResult:
    return IntakeResult(outcome, _id(event), event.lead_id)


def _id(row: Lead | InboxEvent) -> int:
    assert row.id is not None, "row must be flushed before its id is read"
    return row.id
