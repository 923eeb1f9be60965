"""What the buttons' jobs do: call Flexbe (and, as their clients land, 5CRM and Comunik8),
record the outcome on the action, and refresh the lead's cards.

A retryable failure is raised again for the job engine to retry; a final one (not
retryable, or retries used up: `fail`) is written on the card in words, with Retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.jobs import refresh_cards
from bot.outcomes import failure_code
from integrations.errors import IntegrationError
from integrations.flexbe import FlexbeClient
from leadrelay.clients import flexbe_client_for
from leadrelay.settings import Settings, SiteConfig
from storage.clock import utcnow
from storage.database import Database
from storage.models import Lead
from storage.queries.cards import finish_action

log = logging.getLogger(__name__)

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
