"""What the buttons' jobs do: change the status in Flexbe, create the 5CRM deal, queue or
cancel the Comunik8 call; record the outcome on the action, and refresh the lead's cards.

A retryable failure is raised again for the job engine to retry; a final one (not
retryable, or retries used up: `fail`) is written on the card in words, with Retry, and
each admin is told once (a job per admin and dead job; logged instead without Telegram).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from actions.clients import comunik8_client_for, crm5_client_for, flexbe_client_for
from config.settings import Settings, SiteConfig
from domain.calls import seconds_until
from domain.jobs import ACTION_FAILED, ActionFailedPayload, ActionPayload, action_failed_key
from integrations.comunik8 import (
    AlreadyProcessed,
    CallAlreadyScheduled,
    ExistingContact,
    LeadNotFound,
)
from integrations.errors import IntegrationError
from integrations.failures import failure_code
from integrations.flexbe import FlexbeClient
from integrations.mapping import comunik8_cancel, comunik8_lead, crm5_deal
from integrations.retries import Sleep
from storage.clock import utcnow
from storage.database import Database
from storage.models import Action, Lead
from storage.queries.cards import finish_action, refresh_cards, set_lead_status
from storage.queries.jobs import count_attempts, enqueue_job

log = logging.getLogger(__name__)


class CallRefused(IntegrationError):
    """The dialler answered, but the call was not made or cancelled; `code` says why."""

    retryable = False

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _delay_now(job: ActionPayload) -> int | None:
    """The dialler's delay as this attempt sends it: what is left until the moment asked
    for (a retry rings no later than the tap meant), else the delay as asked; None for a
    call now, which keeps the site's own `delays`."""
    if job.call_at is not None:
        return seconds_until(datetime.fromtimestamp(job.call_at, UTC), utcnow())
    return job.delay or None


class FlexbeFactory(Protocol):
    def __call__(self, site: SiteConfig, *, sleep: Sleep = ...) -> FlexbeClient: ...


class LeadActions:
    """`alert_admins`: the Telegram ids told when an action fails for good (empty without
    Telegram: the failure is logged for them instead). `sleep`: the clients' pause between
    their own quick retries (tests pass a simulated one)."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        flexbe_client: FlexbeFactory = flexbe_client_for,
        alert_admins: Sequence[int] = (),
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.database = database
        self.settings = settings
        self.flexbe_client = flexbe_client
        self.alert_admins = tuple(dict.fromkeys(alert_admins))
        self.sleep = sleep

    # The job handlers take the stored payload (a `domain.jobs.ActionPayload`) as the
    # engine hands it over, and read it once.

    async def change_status(self, payload: dict[str, Any]) -> None:
        job = ActionPayload.parse(payload)
        status = job.new_status()
        lead = await self._lead(job)
        try:
            site = self.settings.site(lead.site_key)
            async with self.flexbe_client(site, sleep=self.sleep) as flexbe:
                await flexbe.change_lead(lead.flexbe_id, status=status)
        except IntegrationError as error:
            if not error.retryable:
                await self._fail(job, error)
            raise
        async with self.database.write() as session:
            await set_lead_status(session, lead_id=job.lead_id, status=status)
            await self._done(session, job, ok=True)

    async def create_deal(self, payload: dict[str, Any]) -> None:
        job = ActionPayload.parse(payload)
        lead = await self._lead(job)
        site = self.settings.site(lead.site_key)
        await self._run(job, self._deal(lead, site))

    async def _deal(self, lead: Lead, site: SiteConfig) -> str:
        request = crm5_deal(lead, site.crm5, region=self.settings.region(site.key))
        async with crm5_client_for(self.settings, sleep=self.sleep) as crm5:
            await crm5.add_deal(request)
        return ""

    async def queue_call(self, payload: dict[str, Any]) -> None:
        job = ActionPayload.parse(payload)
        lead = await self._lead(job)
        site = self.settings.site(lead.site_key)

        async def call() -> str:
            # Built here, so a lead that cannot become a request fails like a refusal.
            request = comunik8_lead(
                lead,
                site.comunik8,
                lead_type=self.settings.comunik8_lead_type,
                region=self.settings.region(site.key),
            )
            delay = _delay_now(job)
            if delay is not None:
                request = request.model_copy(update={"delays": delay})
            async with comunik8_client_for(self.settings, sleep=self.sleep) as comunik8:
                result = await comunik8.add_lead(request)
            if isinstance(result, ExistingContact):
                raise CallRefused("comunik8:existing_contact")
            return "comunik8:already_scheduled" if isinstance(result, CallAlreadyScheduled) else ""

        await self._run(job, call())

    async def cancel_call(self, payload: dict[str, Any]) -> None:
        job = ActionPayload.parse(payload)
        lead = await self._lead(job)
        site = self.settings.site(lead.site_key)

        async def cancel() -> str:
            request = comunik8_cancel(
                lead,
                site.comunik8,
                lead_type=self.settings.comunik8_lead_type,
                region=self.settings.region(site.key),
            )
            async with comunik8_client_for(self.settings, sleep=self.sleep) as comunik8:
                result = await comunik8.cancel_lead(request)
            if isinstance(result, LeadNotFound):
                raise CallRefused("comunik8:lead_not_found")
            if isinstance(result, AlreadyProcessed):
                raise CallRefused("comunik8:already_processed")
            return ""

        await self._run(job, cancel())

    async def _run(self, job: ActionPayload, call: Awaitable[str]) -> None:
        """Await the external call; record success, or a final failure, on the card."""
        try:
            detail = await call
        except IntegrationError as error:
            if not error.retryable:
                await self._fail(job, error)
            raise
        async with self.database.write() as session:
            await self._done(session, job, ok=True, detail=detail)

    async def fail(self, payload: dict[str, Any], error: BaseException) -> None:
        """The action will not succeed: say why on the card, where Retry is offered, and
        tell the admins. (The engine calls it when the job dies.)"""
        await self._fail(ActionPayload.parse(payload), error)

    async def _fail(self, job: ActionPayload, error: BaseException) -> None:
        code = failure_code(error)
        log.warning(
            "action %s on lead %s failed: %s",
            job.action or None,
            job.lead_id,
            type(error).__name__,
        )
        async with self.database.write() as session:
            await self._done(session, job, ok=False, detail=code)
            await self._tell_admins(session, job, error, code)

    async def _tell_admins(
        self, session: AsyncSession, job: ActionPayload, error: BaseException, code: str
    ) -> None:
        """One alert job per admin and death of the job. Only ids, names of things and
        codes go in: never the client's contacts, nor anything an error may have quoted."""
        lead_id, action_id = job.lead_id, job.action_id
        lead = await session.get(Lead, lead_id)
        action = await session.get(Action, action_id) if action_id is not None else None
        job_id = action.job_id if action is not None else None
        recorded = "-"
        if job_id is not None:
            # Attempts recorded before this last one: the same for one death of the job,
            # more after a Retry, so a job that dies again is told again.
            recorded = str(await count_attempts(session, job_id=job_id))
        site = lead.site_key if lead is not None else job.site
        if not self.alert_admins:
            log.error(
                "action %s on lead %s (site %s, Flexbe #%s) failed for good: %s (%s); "
                "see `leadrelay jobs list --status dead`",
                job.action,
                lead_id,
                site,
                lead.num if lead is not None else None,
                code,
                type(error).__name__,
            )
            return
        subject = f"j{job_id}.{recorded}" if job_id is not None else f"a{action_id}.l{lead_id}"
        for admin in self.alert_admins:
            alert = ActionFailedPayload(
                chat_id=admin,
                lead_id=lead_id,
                num=lead.num if lead is not None else None,
                flexbe_id=lead.flexbe_id if lead is not None else None,
                site=site,
                action=job.action,
                code=code,
                job_id=job_id,
            )
            await enqueue_job(
                session,
                ACTION_FAILED,
                alert,
                dedupe_key=action_failed_key(subject, admin),
            )

    async def _lead(self, job: ActionPayload) -> Lead:
        async with self.database.read() as session:
            lead = await session.get(Lead, job.lead_id)
        if lead is None or lead.id is None:
            raise LookupError(f"lead {job.lead_id} does not exist")
        return lead

    async def _done(self, session: Any, job: ActionPayload, *, ok: bool, detail: str = "") -> None:
        if job.action_id is not None:
            await finish_action(session, job.action_id, ok=ok, detail=detail)
        cause = f"a{job.action_id}{'ok' if ok else 'fail'}"
        await refresh_cards(session, lead_id=job.lead_id, cause=cause)
