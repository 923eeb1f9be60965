"""Retention: history older than `LEADRELAY_RETENTION_DAYS` is deleted, as a job.

What goes, and why it is safe to forget
---------------------------------------
A job's dedupe key is what turns a repeat into nothing: as long as the row is there, a
second enqueue with the same key finds it. Deleting a done job forgets its key, so a job
kind may be pruned only when no repeat of its key can arrive after the retention:

- `notify` (cards): `notify:{lead}:{chat}` is written only for a lead that is new (intake
  and the reconcile create it for a lead they have just inserted). Leads are never
  pruned, so a later webhook, sync or reconcile of the same lead finds the lead and
  writes a versioned key (`:v{n}`, the version only grows) or none. Refreshes and
  reposts are keyed by action ids or the request's message or callback id, which never
  come back (a redelivered update is stopped by its `telegram_update` row). And what a
  forgotten key could cause is one more card edit or post, never a call out.
- `telegram.update`: the `telegram_update` row (primary key `update_id`) is the dedupe;
  Telegram redelivers for 24 hours, far less than the retention.
- `flexbe.reconcile`: keys name a past interval (`reconcile:{site}:{slot}`) or a command
  message; neither comes again. `telegram.recovered`, `telegram.sync_report`, alerts:
  keyed by lead ids, timestamps, job ids; each is one Telegram message, never a call out.
- `retention.prune` itself: keyed by a past interval.

Kept: the card buttons' jobs (`flexbe.status`, `crm5.deal`, `comunik8.call`,
`comunik8.cancel`). A card lives in the chat for ever and its buttons with it: a pruned
`crm5.deal:{lead}` would let a tap next year make a second 5CRM deal (5CRM has no
idempotency key), a pruned `comunik8.call:{lead}:{n}` a second call to the client. These
jobs are one per manager action, as many as rows of the action log, which is kept too,
so they grow with the team's work, not with traffic. A kind this module does not know is
kept: forgetting a key nobody reasoned about is the unsafe default. Each kind of the
catalogue (`domain.jobs`) says which it is: `pruned_after_retention`.

Dead jobs stay whatever their kind: they are the admins' list in `/failed`, with Retry;
an admin discards one explicitly. Running and pending jobs are never touched.

Inbox events: `accepted` ones carry the event's fingerprint (`{site}:{sha256}`). A repeat
of an event whose row is gone would be applied again: harmless if nothing changed since,
but an old `lead` event replayed after a manager moved the lead on would put its old
status back. So the retention must outlast how late Flexbe may redeliver (assumed 7 days,
`settings.FLEXBE_REDELIVERY_HOURS`) and, as a margin, the reconcile window (it re-reads
leads that old, but matches them by the lead rows, which stay); start-up refuses less.
`duplicate` and `ignored` events carry no key: only a record. `rejected` events stay:
admins read them to fix a form, and they are as rare as the mistakes that cause them.
Telegram updates handled before the cutoff go too (the row outlives Telegram's 24 hours).

Leads, payments, cards and the action log are the business record: never pruned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from config.settings import Settings
from domain.jobs import PRUNE, PRUNED_KINDS, NoPayload, prune_key
from storage.clock import utcnow
from storage.database import Database
from storage.models import InboxOutcome
from storage.queries import retention as queries
from storage.queries.jobs import enqueue_job, prefer_indexes

log = logging.getLogger(__name__)

# Which job kinds go is said by each kind in the catalogue, `domain.jobs`
# (`pruned_after_retention`, read into `PRUNED_KINDS`); why each is safe is argued above.
PRUNED_OUTCOMES = (InboxOutcome.ACCEPTED, InboxOutcome.DUPLICATE, InboxOutcome.IGNORED)


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    keep: timedelta = timedelta(days=30)
    interval: timedelta = timedelta(hours=1)
    # Rows per transaction: SQLite's writer is held a few milliseconds at a time.
    batch: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionSettings:
        return cls(keep=timedelta(days=settings.retention_days))


@dataclass(slots=True)
class PruneReport:
    """What one run removed (or, dry, would remove), by what it was."""

    before: datetime
    jobs: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    inbox: dict[str, int] = field(default_factory=dict)
    telegram_updates: int = 0

    @property
    def total(self) -> int:
        return sum(self.jobs.values()) + sum(self.inbox.values()) + self.telegram_updates

    def describe(self) -> str:
        jobs = ", ".join(f"{kind} {n}" for kind, n in sorted(self.jobs.items()) if n) or "none"
        inbox = ", ".join(f"{o} {n}" for o, n in sorted(self.inbox.items()) if n) or "none"
        return (
            f"older than {self.before.isoformat(timespec='seconds')}: "
            f"done jobs {sum(self.jobs.values())} ({jobs}) with {self.attempts} attempt(s); "
            f"inbox events {sum(self.inbox.values())} ({inbox}); "
            f"Telegram updates {self.telegram_updates}"
        )


async def prune(
    database: Database,
    options: RetentionSettings,
    *,
    now: datetime,
    pause: Callable[[], Any] = lambda: asyncio.sleep(0),
) -> PruneReport:
    """Delete everything past the retention, one small transaction at a time."""
    report = PruneReport(before=now - options.keep)
    for kind in sorted(PRUNED_KINDS):
        report.jobs[kind] = 0
        while True:
            async with _batch(database) as session:
                removed = await queries.prune_done_jobs(
                    session, kind=kind, before=report.before, limit=options.batch
                )
            report.jobs[kind] += removed.rows
            report.attempts += removed.attempts
            if removed.rows < options.batch:
                break
            await pause()
    for outcome in PRUNED_OUTCOMES:
        report.inbox[outcome.value] = 0
        while True:
            async with _batch(database) as session:
                removed = await queries.prune_inbox(
                    session, outcome=outcome.value, before=report.before, limit=options.batch
                )
            report.inbox[outcome.value] += removed.rows
            if removed.rows < options.batch:
                break
            await pause()
    while True:
        async with _batch(database) as session:
            removed = await queries.prune_telegram_updates(
                session, before=report.before, limit=options.batch
            )
        report.telegram_updates += removed.rows
        if removed.rows < options.batch:
            break
        await pause()
    return report


@contextlib.asynccontextmanager
async def _batch(database: Database) -> AsyncIterator[AsyncSession]:
    """One batch's transaction; on PostgreSQL its look-ups keep to their indexes even
    under a plan made when the table was small (see `prefer_indexes`)."""
    async with database.write() as session:
        if not database.is_sqlite:
            await prefer_indexes(session)
        yield session


async def count_prunable(
    database: Database, options: RetentionSettings, *, now: datetime
) -> PruneReport:
    """What `prune` would remove now (attempts are not counted)."""
    report = PruneReport(before=now - options.keep)
    async with database.read() as session:
        for kind in sorted(PRUNED_KINDS):
            report.jobs[kind] = await queries.count_done_jobs(
                session, kind=kind, before=report.before
            )
        for outcome in PRUNED_OUTCOMES:
            report.inbox[outcome.value] = await queries.count_inbox(
                session, outcome=outcome.value, before=report.before
            )
        report.telegram_updates = await queries.count_telegram_updates(
            session, before=report.before
        )
    return report


async def schedule_prune(database: Database, options: RetentionSettings, *, now: datetime) -> bool:
    """Enqueue this interval's prune; a second call in it (any process) adds nothing."""
    async with database.write() as session:
        _, created = await enqueue_job(
            session,
            PRUNE,
            NoPayload(),
            dedupe_key=prune_key(now, options.interval),
            max_attempts=3,
        )
    return created


async def run_scheduler(
    database: Database,
    options: RetentionSettings,
    stop: asyncio.Event,
    *,
    on_enqueued: Callable[[], None] | None = None,
) -> None:
    """Every interval, put the prune in the queue (any process may; one wins)."""
    while not stop.is_set():
        try:
            if await schedule_prune(database, options, now=utcnow()) and on_enqueued:
                on_enqueued()
        except Exception:  # the database may be away for a moment; try next time
            log.exception("could not schedule the retention's prune")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), options.interval.total_seconds())


class Pruner:
    def __init__(self, *, database: Database, options: RetentionSettings) -> None:
        self.database = database
        self.options = options

    async def handle(self, _job: NoPayload) -> None:
        report = await prune(self.database, self.options, now=utcnow())
        log.info("retention removed %s", report.describe())
