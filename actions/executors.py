"""What the buttons' jobs do: change the status in Flexbe, edit the lead there (a note, the
client's details, an invoice, a payment mark), make the 5CRM deal (with its company, contact
and task), queue or cancel the Comunik8 call; record the outcome on the action, and refresh
the lead's cards.

The 5CRM deal is several calls and 5CRM has no idempotency key: each step done is recorded
with the lead (`storage.queries.crm5`) as soon as 5CRM answers, and a retried job skips
the steps recorded. Only a crash between 5CRM's answer and that record (one short
transaction) can repeat a step.

A retryable failure is raised again for the job engine to retry; a final one (not
retryable, or retries used up: `fail`) is written on the card in words, with Retry, and
each admin is told once (a job per admin and dead job; logged instead without Telegram).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from actions.clients import comunik8_client_for, crm5_client_for, flexbe_client_for
from config.mappings import Crm5Mapping
from config.settings import Settings
from config.sites import EffectiveSite
from domain.calls import seconds_until
from domain.crm5 import Crm5Step
from domain.jobs import (
    ACTION_FAILED,
    ActionFailedPayload,
    ActionPayload,
    LeadEditPayload,
    action_failed_key,
)
from domain.lost_reasons import lost_detail
from domain.statuses import LeadStatus
from integrations.comunik8 import (
    AlreadyProcessed,
    CallAlreadyScheduled,
    ExistingContact,
    LeadNotFound,
)
from integrations.crm5 import ContactAddRequest
from integrations.emails import normalize_email
from integrations.errors import IntegrationError
from integrations.failures import failure_code
from integrations.flexbe import FlexbeClient
from integrations.mapping import comunik8_cancel, comunik8_lead, crm5_requests
from integrations.retries import Sleep
from storage.clock import utcnow
from storage.database import Database
from storage.models import Action, Crm5ManagerLink, Crm5Progress, Lead
from storage.queries.cards import finish_action, refresh_cards, set_lead_status
from storage.queries.crm5 import crm5_link_of, crm5_progress, record_crm5_step
from storage.queries.jobs import count_attempts, enqueue_job
from storage.queries.lead_work import apply_lead_edit

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
    def __call__(self, site: EffectiveSite, *, sleep: Sleep = ...) -> FlexbeClient: ...


class LeadActions:
    """`alert_admins`: who is told when an action fails for good, read when it fails (the
    admins change with the stored set-up; none without Telegram: the failure is logged for
    them instead). `sleep`: the clients' pause between their own quick retries (tests pass
    a simulated one)."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        flexbe_client: FlexbeFactory = flexbe_client_for,
        alert_admins: Callable[[], Sequence[int]] = tuple,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.database = database
        self.settings = settings
        self.flexbe_client = flexbe_client
        self.alert_admins = alert_admins
        self.sleep = sleep

    # The job handlers take the payload as the engine read it (`domain.jobs.ActionPayload`,
    # `LeadEditPayload`).

    async def change_status(self, job: ActionPayload) -> None:
        """`changeLead` with the status; a change to Cancelled with its reason appends the
        reason's line to the lead's note in the same call (computed when the job runs, as
        `edit_lead` does: a retry sends the same note, never the line twice)."""
        status = job.new_status()
        lead = await self._lead(job)
        note = None if job.note is None else appended_note(lead.note, job.note)
        try:
            site = self.settings.site(lead.site_key)
            async with self.flexbe_client(site, sleep=self.sleep) as flexbe:
                await flexbe.change_lead(lead.flexbe_id, status=status, note=note)
        except IntegrationError as error:
            if not error.retryable:
                await self.fail(job, error)
            raise
        # A change to Cancelled from a tap names its reason; a rule's gives none ("").
        reason = job.lost_reason or ""
        async with self.database.write() as session:
            await set_lead_status(
                session, lead_id=job.lead_id, status=status, lost_reason=reason, note=note
            )
            cancelled = status == LeadStatus.CANCELLED and job.lost_reason is not None
            await self._done(session, job, ok=True, detail=lost_detail(reason) if cancelled else "")

    async def edit_lead(self, job: LeadEditPayload) -> None:
        """`changeLead` with the fields the manager gave; a note is appended to the lead's.

        The note sent is the stored note plus the new line, computed when the job runs: a
        retry after Flexbe took it but before we stored it sends the same text again, and a
        line already there (a sync brought it back first) is not added twice. The lead's
        edits run one at a time (`domain.jobs.lead_queue`), so two notes keep both."""
        bookkeeping = job.as_action()
        lead = await self._lead(bookkeeping)
        note = None if job.note is None else appended_note(lead.note, job.note)
        summ = None if job.pay_summ is None else Decimal(job.pay_summ)
        try:
            site = self.settings.site(lead.site_key)
            async with self.flexbe_client(site, sleep=self.sleep) as flexbe:
                await flexbe.change_lead(
                    lead.flexbe_id,
                    note=note,
                    client_name=job.client_name,
                    client_phone=job.client_phone,
                    client_email=job.client_email,
                    pay_summ=summ,
                    pay_status=job.pay_status,
                    pay_desc=job.pay_desc,
                )
        except IntegrationError as error:
            if not error.retryable:
                await self.fail(bookkeeping, error)
            raise
        async with self.database.write() as session:
            await apply_lead_edit(
                session,
                lead_id=job.lead_id,
                note=note,
                client_name=job.client_name,
                client_phone=job.client_phone,
                client_phone_normalized=job.client_phone,
                client_email=job.client_email,
                client_email_normalized=(
                    None if job.client_email is None else normalize_email(job.client_email)
                ),
                pay_summ=job.pay_summ,
                pay_status=job.pay_status,
                pay_desc=job.pay_desc,
            )
            await self._done(session, bookkeeping, ok=True)

    async def create_deal(self, job: ActionPayload) -> None:
        lead = await self._lead(job)
        site = self.settings.site(lead.site_key)
        await self._run(job, self._deal(lead, site, job.actor))

    async def _deal(self, lead: Lead, site: EffectiveSite, actor: int | None) -> str:
        """Every step the site's settings ask for, each once; the card's detail lists them
        and the 5CRM manager credited."""
        assert lead.id is not None
        async with self.database.read() as session:
            done = await crm5_progress(session, lead_id=lead.id)
            link = await crm5_link_of(session, actor) if actor is not None else None
        manager_id, manager_name = _credited(done, link, site.crm5)
        # All built before the first is sent: a lead that cannot become one sends nothing.
        requests = crm5_requests(
            lead,
            site.crm5,
            now=utcnow(),
            region=site.region,
            manager_id=manager_id,
        )
        company = done.get(Crm5Step.COMPANY)
        company_id = company.remote_id if company is not None else None
        async with crm5_client_for(self.settings, sleep=self.sleep) as crm5:
            for step, request in requests:
                if _already_made(step, done):
                    continue
                if isinstance(request, ContactAddRequest) and company_id is not None:
                    request = request.model_copy(update={"company_id": company_id})
                answer = await crm5.create(request)
                async with self.database.write() as session:
                    await record_crm5_step(
                        session,
                        lead_id=lead.id,
                        step=step.value,
                        manager_id=manager_id,
                        remote_id=answer.created_id,
                    )
                if step is Crm5Step.COMPANY:
                    company_id = answer.created_id
        made = [step.value for step, _request in requests]
        return "5crm:created:" + json.dumps(
            {"made": made, "manager": manager_name}, ensure_ascii=False
        )

    async def queue_call(self, job: ActionPayload) -> None:
        lead = await self._lead(job)
        site = self.settings.site(lead.site_key)

        async def call() -> str:
            # Built here, so a lead that cannot become a request fails like a refusal.
            request = comunik8_lead(
                lead,
                site.comunik8,
                lead_type=self.settings.comunik8_lead_type,
                region=site.region,
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

    async def cancel_call(self, job: ActionPayload) -> None:
        lead = await self._lead(job)
        site = self.settings.site(lead.site_key)

        async def cancel() -> str:
            request = comunik8_cancel(
                lead,
                site.comunik8,
                lead_type=self.settings.comunik8_lead_type,
                region=site.region,
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
                await self.fail(job, error)
            raise
        async with self.database.write() as session:
            await self._done(session, job, ok=True, detail=detail)

    async def fail(self, job: ActionPayload, error: BaseException) -> None:
        """The action will not succeed: say why on the card, where Retry is offered, and
        tell the admins. (The engine calls it when the job dies.)"""
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
        admins = tuple(dict.fromkeys(self.alert_admins()))
        if not admins:
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
        for admin in admins:
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


def _credited(
    done: dict[str, Crm5Progress], link: Crm5ManagerLink | None, mapping: Crm5Mapping
) -> tuple[int | None, str]:
    """The 5CRM manager (id, name) the deal goes to: the one earlier steps went to, else the
    tapping manager's 5CRM account, else the site's `manager_id` (no name known)."""
    if done:
        first = min(done.values(), key=lambda row: row.done_at)
        same = link is not None and link.crm5_manager_id == first.manager_id
        return first.manager_id, link.crm5_manager_name if link is not None and same else ""
    if link is not None:
        return link.crm5_manager_id, link.crm5_manager_name
    return mapping.manager_id, ""


def _already_made(step: Crm5Step, done: dict[str, Crm5Progress]) -> bool:
    """The deal counts as made whichever way it went (the setting may have changed since)."""
    if step in (Crm5Step.DEAL, Crm5Step.FORM):
        return Crm5Step.DEAL.value in done or Crm5Step.FORM.value in done
    return step.value in done


def appended_note(current: str, line: str) -> str:
    """The lead's note with `line` added at the end, unless it is there already."""
    if line in current:
        return current
    return f"{current.rstrip()}\n{line}" if current.strip() else line
