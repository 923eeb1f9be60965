"""What the buttons' jobs do: call Flexbe (and, as their clients land, 5CRM and Comunik8),
record the outcome on the action, and refresh the lead's cards.

A retryable failure is raised again for the job engine to retry; a final one (not
retryable, or retries used up: `fail`) is written on the card in words, with Retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.jobs import refresh_cards
from bot.outcomes import failure_code
from integrations.comunik8 import (
    AlreadyProcessed,
    CallAlreadyScheduled,
    ExistingContact,
    LeadNotFound,
)
from integrations.errors import IntegrationError
from integrations.flexbe import FlexbeClient
from integrations.mapping import comunik8_cancel, comunik8_lead, crm5_deal
from leadrelay.clients import comunik8_client_for, crm5_client_for, flexbe_client_for
from leadrelay.settings import Settings, SiteConfig
from storage.clock import utcnow
from storage.database import Database
from storage.models import Lead
from storage.queries.cards import finish_action

log = logging.getLogger(__name__)


class CallRefused(IntegrationError):
    """The dialler answered, but the call was not made or cancelled; `code` says why."""

    retryable = False

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


FlexbeFactory = Callable[[SiteConfig], FlexbeClient]


class LeadActions:
    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        flexbe_client: FlexbeFactory = flexbe_client_for,
    ) -> None:
        self.database = database
        self.settings = settings
        self.flexbe_client = flexbe_client

    async def change_status(self, payload: dict[str, Any]) -> None:
        lead = await self._lead(payload)
        status = int(payload["status"])
        try:
            async with self.flexbe_client(self.settings.site(lead.site_key)) as flexbe:
                await flexbe.change_lead(lead.flexbe_id, status=status)
        except IntegrationError as error:
            if not error.retryable:
                await self.fail(payload, error)
            raise
        async with self.database.write() as session:
            row = await session.get(Lead, lead.id)
            if row is not None and row.status_code != status:
                row.status_code, row.status_name = status, ""
                row.version, row.updated_at = row.version + 1, utcnow()
                session.add(row)
            await self._done(session, payload, ok=True)

    async def create_deal(self, payload: dict[str, Any]) -> None:
        lead = await self._lead(payload)
        site = self.settings.site(lead.site_key)
        await self._run(payload, self._deal(lead, site))

    async def _deal(self, lead: Lead, site: SiteConfig) -> str:
        async with crm5_client_for(self.settings) as crm5:
            await crm5.add_deal(crm5_deal(lead, site.crm5))
        return ""

    async def queue_call(self, payload: dict[str, Any]) -> None:
        lead = await self._lead(payload)
        site = self.settings.site(lead.site_key)
        request = comunik8_lead(lead, site.comunik8, lead_type=self.settings.comunik8_lead_type)
        delay = int(payload.get("delay") or 0)
        if delay:
            request = request.model_copy(update={"delays": delay})

        async def call() -> str:
            async with comunik8_client_for(self.settings) as comunik8:
                result = await comunik8.add_lead(request)
            if isinstance(result, ExistingContact):
                raise CallRefused("comunik8:ExistingContact")
            return "comunik8:AlreadyScheduled" if isinstance(result, CallAlreadyScheduled) else ""

        await self._run(payload, call())

    async def cancel_call(self, payload: dict[str, Any]) -> None:
        lead = await self._lead(payload)
        site = self.settings.site(lead.site_key)
        request = comunik8_cancel(lead, site.comunik8, lead_type=self.settings.comunik8_lead_type)

        async def cancel() -> str:
            async with comunik8_client_for(self.settings) as comunik8:
                result = await comunik8.cancel_lead(request)
            if isinstance(result, LeadNotFound | AlreadyProcessed):
                raise CallRefused(f"comunik8:{type(result).__name__}")
            return ""

        await self._run(payload, cancel())

    async def _run(self, payload: dict[str, Any], call: Awaitable[str]) -> None:
        """Await the external call; record success, or a final failure, on the card."""
        try:
            detail = await call
        except IntegrationError as error:
            if not error.retryable:
                await self.fail(payload, error)
            raise
        async with self.database.write() as session:
            await self._done(session, payload, ok=True, detail=detail)

    async def fail(self, payload: dict[str, Any], error: BaseException) -> None:
        """The action will not succeed: say why on the card, where Retry is offered."""
        log.warning(
            "action %s on lead %s failed: %s",
            payload.get("action"),
            payload.get("lead_id"),
            type(error).__name__,
        )
        async with self.database.write() as session:
            await self._done(session, payload, ok=False, detail=failure_code(error))

    async def _lead(self, payload: dict[str, Any]) -> Lead:
        async with self.database.read() as session:
            lead = await session.get(Lead, int(payload["lead_id"]))
        if lead is None or lead.id is None:
            raise LookupError(f"lead {payload.get('lead_id')} does not exist")
        return lead

    async def _done(
        self, session: Any, payload: dict[str, Any], *, ok: bool, detail: str = ""
    ) -> None:
        action_id = payload.get("action_id")
        if action_id is not None:
            await finish_action(session, int(action_id), ok=ok, detail=detail)
        cause = f"a{action_id}{'ok' if ok else 'fail'}"
        await refresh_cards(session, lead_id=int(payload["lead_id"]), cause=cause)
