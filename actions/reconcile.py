"""Reconcile: compare each site with Flexbe's `getLeads` on a timer, as a job.

A lead Flexbe has and we never received is stored as "recovered" and gets its card like
any new lead, once, its speed-to-lead rule, and its SLA timers (set when its card or the
summary listing it goes out); a status or payment changed in the Flexbe admin updates the lead and
edits its cards. When one run finds more new leads than `flood_threshold` for a chat, that
chat gets one summary message instead of a card each. The job's dedupe key names the
site and the interval, so however many workers run, each site is reconciled once per
interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from actions.sync import SyncSummary, sync_site
from config.settings import Settings
from config.sites import EffectiveSite
from domain.jobs import (
    NOTIFY,
    RECONCILE,
    RECOVERED,
    SYNC_REPORT,
    CardPayload,
    ReconcilePayload,
    RecoveredPayload,
    SyncReportPayload,
    new_card_key,
    reconcile_key,
    recovered_key,
    sync_report_key,
)
from integrations.flexbe import FlexbeClient
from storage.clock import utcnow
from storage.database import Database
from storage.models import LeadOrigin
from storage.queries.jobs import enqueue_job

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    interval: timedelta = timedelta(minutes=5)
    window: timedelta = timedelta(hours=24)
    flood_threshold: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> ReconcileSettings:
        return cls(
            interval=timedelta(minutes=settings.reconcile_interval_minutes),
            window=timedelta(hours=settings.reconcile_window_hours),
            flood_threshold=settings.reconcile_flood_threshold,
        )


def reconcilable(settings: Settings) -> list[EffectiveSite]:
    return [site for site in settings.effective_sites if site.has_flexbe_api]


async def schedule_reconciles(
    database: Database, sites: list[EffectiveSite], options: ReconcileSettings, *, now: datetime
) -> int:
    """Enqueue this interval's reconcile of each site; a second call in it adds nothing."""
    created = 0
    async with database.write() as session:
        for site in sites:
            _, is_new = await enqueue_job(
                session,
                RECONCILE,
                ReconcilePayload(site=site.key),
                dedupe_key=reconcile_key(site.key, now, options.interval),
                max_attempts=3,
            )
            created += is_new
    return created


async def run_scheduler(
    database: Database,
    sites: Callable[[], list[EffectiveSite]],
    options: ReconcileSettings,
    stop: asyncio.Event,
    *,
    on_enqueued: Callable[[], None] | None = None,
) -> None:
    """Every interval, put the reconciles of the sites it has then in the queue (any
    process may; one wins)."""
    while not stop.is_set():
        try:
            created = await schedule_reconciles(database, sites(), options, now=utcnow())
            if created and on_enqueued:
                on_enqueued()
        except Exception:  # the database may be away for a moment; try next time
            log.exception("could not schedule the reconcile")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), options.interval.total_seconds())


class Reconciler:
    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        options: ReconcileSettings,
        flexbe_client: Callable[[EffectiveSite], FlexbeClient],
    ) -> None:
        self.database = database
        self.settings = settings
        self.options = options
        self.flexbe_client = flexbe_client

    async def handle(self, job: ReconcilePayload) -> None:
        site = self.settings.site(job.site)
        since = utcnow() - self.options.window
        async with self.flexbe_client(site) as client:
            summary = await sync_site(
                database=self.database,
                client=client,
                site_key=site.key,
                chats=site.chats,
                # Cards for new leads are decided below, after counting them.
                announce_new=False,
                since=since,
                card_window=self.options.window,
                origin=LeadOrigin.RECOVERED,
                region=site.region,
                # A recovered lead is as new as a webhook's: its rule acts as at intake.
                apply_rules=site.applies_rules,
            )
        await self._announce(site, summary, job.report_to)

    async def _announce(
        self, site: EffectiveSite, summary: SyncSummary, report_to: int | None
    ) -> None:
        async with self.database.write() as session:
            new_ids = summary.new_lead_ids
            for chat_id in site.chats if new_ids else ():
                if len(new_ids) <= self.options.flood_threshold:
                    for lead_id in new_ids:
                        card = CardPayload(lead_id=lead_id, chat_id=chat_id, reason="new")
                        await enqueue_job(
                            session,
                            NOTIFY,
                            card,
                            dedupe_key=new_card_key(lead_id, chat_id),
                        )
                else:
                    recovered = RecoveredPayload(
                        chat_id=chat_id, site=site.key, lead_ids=tuple(new_ids)
                    )
                    await enqueue_job(
                        session,
                        RECOVERED,
                        recovered,
                        dedupe_key=recovered_key(site.key, chat_id, new_ids),
                    )
            if report_to is not None:
                report = SyncReportPayload(
                    chat_id=report_to,
                    site=site.display_name,
                    new=summary.new,
                    updated=summary.updated,
                    unchanged=summary.unchanged,
                    failed=summary.failed,
                )
                await enqueue_job(
                    session,
                    SYNC_REPORT,
                    report,
                    dedupe_key=sync_report_key(report_to, utcnow()),
                )
        if summary.new:
            log.info("reconcile of %s recovered %d lead(s)", site.key, summary.new)
