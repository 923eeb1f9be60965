"""Durable intake of Flexbe webhooks: raw event, lead, payment and jobs in one transaction.

Parsing and validation run in the request; storing goes through a group-commit writer,
so concurrent webhooks share a transaction. The answer is sent only after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from actions.normalize import snapshot_from_lead
from config.regions import DEFAULT_REGION
from integrations.flexbe_models import describe_errors
from storage.batch_writer import BatchWriter
from storage.database import Database
from storage.models import InboxEvent, InboxOutcome
from storage.queries.inbox import record_event
from storage.queries.ingest import IncomingEvent, StoredEvent, store_events
from storage.ranges import is_unstorable_value
from webhooks.events import EVENT_NAME_MAX, KNOWN_EVENTS, AnyEvent, FlexbeEvent
from webhooks.fingerprint import fingerprint
from webhooks.forms import FormError, is_json, parse_body

log = logging.getLogger(__name__)


class Unreadable(Exception):
    """A body that does not parse or validate; `message` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RejectedEvent(Exception):
    """An authenticated event that cannot be understood; it is stored raw as rejected."""

    def __init__(self, message: str, *, event_id: int) -> None:
        super().__init__(message)
        self.message = message
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class IntakeSite:
    key: str
    chats: Sequence[int]
    region: str = DEFAULT_REGION
    # The site has speed-to-lead rules (and Telegram, whose worker runs them).
    rules: bool = False


class Intake:
    """Receives events for known sites. `on_jobs_enqueued` runs after a commit added jobs."""

    def __init__(
        self, database: Database, *, on_jobs_enqueued: Callable[[], None] | None = None
    ) -> None:
        self.database = database
        self.on_jobs_enqueued = on_jobs_enqueued
        self._writer: BatchWriter[IncomingEvent, StoredEvent] = BatchWriter(database, store_events)

    async def receive(self, site: IntakeSite, body: bytes, content_type: str) -> StoredEvent:
        try:
            parsed = read_event(site, body, content_type)
        except Unreadable as exc:
            raise await self._reject(site, body, content_type, exc.message) from None
        if isinstance(parsed, str):
            return await self._store_raw(site, body, content_type, parsed, InboxOutcome.IGNORED)
        return await self._store(site, body, content_type, parsed)

    async def reprocess(self, site: IntakeSite, kept: InboxEvent) -> StoredEvent:
        """Read a kept body again with today's code and store it as if it had just come.

        Raises `Unreadable`, storing nothing, if it still cannot be read or is still an event
        leadrelay ignores. Stored twice, it is a duplicate (the same fingerprint): once."""
        parsed = read_event(site, kept.body, kept.content_type)
        if isinstance(parsed, str):
            raise Unreadable(f"still an event leadrelay does not handle: {parsed[:64]!r}")
        return await self._store(site, kept.body, kept.content_type, parsed)

    async def _store(
        self, site: IntakeSite, body: bytes, content_type: str, incoming: IncomingEvent
    ) -> StoredEvent:
        try:
            stored = await self._writer.submit(incoming)
        except Exception as exc:
            if not is_unstorable_value(exc):
                raise
            # The checks above should let no such value through; one that slips past them
            # is kept as rejected like any other, not answered 5xx and sent again for ever.
            message = f"a value the database cannot store ({type(exc).__name__})"
            raise await self._reject(site, body, content_type, message) from None
        if stored.jobs_created and self.on_jobs_enqueued is not None:
            self.on_jobs_enqueued()
        return stored

    async def aclose(self) -> None:
        await self._writer.aclose()

    async def _store_raw(
        self,
        site: IntakeSite,
        body: bytes,
        content_type: str,
        event: str,
        outcome: InboxOutcome,
        error: str | None = None,
    ) -> StoredEvent:
        row = InboxEvent(
            site_key=site.key,
            event=event[:64],
            content_type=content_type[:255],
            body=body,
            outcome=outcome.value,
            error=error,
        )
        async with self.database.write() as session:
            await record_event(session, row)
        assert row.id is not None
        return StoredEvent(outcome, row.id, None, 0)

    async def _reject(
        self, site: IntakeSite, body: bytes, content_type: str, message: str
    ) -> RejectedEvent:
        stored = await self._store_raw(
            site, body, content_type, "", InboxOutcome.REJECTED, error=message
        )
        log.warning("rejected event %s for site %s: %s", stored.event_id, site.key, message)
        return RejectedEvent(message, event_id=stored.event_id)


def read_event(site: IntakeSite, body: bytes, content_type: str) -> IncomingEvent | str:
    """The event ready to store, or the name of an event leadrelay ignores.

    Raises `Unreadable` when the body does not parse or validate."""
    try:
        text_only = not is_json(body, content_type)  # a form body holds only text
        document = parse_body(body, content_type)
        name = _event_name(document)
        if name not in KNOWN_EVENTS:
            return name
        event = FlexbeEvent.model_validate(document)
    except FormError as exc:
        raise Unreadable(str(exc)) from None
    except ValidationError as exc:
        raise Unreadable(describe_errors(exc)) from None
    return IncomingEvent(
        site_key=site.key,
        chats=tuple(site.chats),
        event=event.event,
        content_type=content_type[:255],
        body=body,
        dedupe_key=f"{site.key}:{fingerprint(document, text_only=text_only)}",
        snapshot=snapshot_from_lead(event.data, event.site, region=site.region),
        apply_rules=site.rules,
    )


def _event_name(document: dict[str, Any]) -> str:
    """The event's name; the model only for what is not plain text, to say what is wrong."""
    name = document.get("event")
    if isinstance(name, str) and 0 < len(name) <= EVENT_NAME_MAX:
        return name
    return AnyEvent.model_validate(document).event
