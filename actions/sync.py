"""Pulling leads from Flexbe's `getLeads` into storage: the `sync` command's engine.

Pages are applied as they arrive (memory stays flat however many leads), each in one
transaction through the same path as webhooks, so a lead that also came by webhook is one
lead and a re-run after an interruption neither duplicates nor loses anything. New leads
created within `card_window` get cards like any new lead; older ones are stored quietly
and show in `/leads`, `/lead` and the API. A lead Flexbe sends that does not parse costs
only itself: it is kept raw as a rejected inbox event (`/api/inbox?outcome=rejected`, the
reason naming its Flexbe id and the field), counted as failed, and the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from actions.normalize import snapshot_from_lead
from config.regions import DEFAULT_REGION
from integrations.flexbe import FlexbeClient, UnreadableLead
from integrations.flexbe_models import LeadData
from storage.clock import utcnow
from storage.database import Database
from storage.models import LeadOrigin
from storage.queries.inbox import Unreadable, keep_unreadable
from storage.queries.ingest import IncomingEvent, store

log = logging.getLogger(__name__)
# Reasons listed in a summary; past this many, only a count (each is in the inbox anyway).
MAX_ERRORS_LISTED = 20


@dataclass(slots=True)
class SyncSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    pages: int = 0
    oldest: datetime | None = None
    errors: list[str] = field(default_factory=list)
    new_lead_ids: list[int] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.unchanged + self.failed


Progress = Callable[[SyncSummary], None]


async def sync_site(
    *,
    database: Database,
    client: FlexbeClient,
    site_key: str,
    chats: Sequence[int],
    since: datetime | None = None,
    status: int | None = None,
    card_window: timedelta = timedelta(hours=24),
    announce_new: bool = True,
    origin: LeadOrigin = LeadOrigin.SYNC,
    progress: Progress | None = None,
    region: str = DEFAULT_REGION,
    apply_rules: bool = False,
) -> SyncSummary:
    """`chats` see cards of new leads within `card_window` (when `announce_new`) and
    edits of changed ones. `region`: the site's, in which national phone numbers are read.
    `apply_rules`: new leads get the site's speed-to-lead rule, if `origin` is live (a
    backfill's never do: `LeadOrigin.is_live`)."""
    summary = SyncSummary()
    cards_from = utcnow() - card_window
    async for page in client.iter_leads(date_from=since, status=status):
        summary.pages += 1
        if page.unreadable:
            await _keep_unreadable(database, site_key, page.unreadable, summary)
        events = [
            _event(lead, site_key, chats, cards_from, origin, announce_new, region, apply_rules)
            for lead in page.leads
        ]
        try:
            stored = await store(database, events)
        except Exception as exc:  # one page's failure must not stop the rest
            summary.failed += len(events)
            _note(summary, f"page {summary.pages}: {type(exc).__name__}")
        else:
            for result in stored:
                if result.change == "new":
                    summary.new += 1
                    if result.lead_id is not None:
                        summary.new_lead_ids.append(result.lead_id)
                elif result.change:
                    summary.updated += 1
                else:
                    summary.unchanged += 1
        times = [lead.time for lead in page.leads if lead.time is not None]
        if times:
            oldest = min(times)
            summary.oldest = oldest if summary.oldest is None else min(summary.oldest, oldest)
        if progress is not None:
            progress(summary)
    return summary


async def _keep_unreadable(
    database: Database, site_key: str, leads: list[UnreadableLead], summary: SyncSummary
) -> None:
    """Count each lead that does not parse as failed and keep it raw where admins look."""
    summary.failed += len(leads)
    for lead in leads:
        _note(summary, lead.reason)
    rows = [_unreadable_row(site_key, lead) for lead in leads]
    try:
        await keep_unreadable(database, rows)
    except Exception as exc:  # the leads that parse are stored all the same
        _note(summary, f"page {summary.pages}: unreadable leads not kept: {type(exc).__name__}")
    log.warning(
        "%d lead(s) of site %s from getLeads do not parse; kept as rejected: Flexbe ids %s",
        len(leads),
        site_key,
        ", ".join(lead.flexbe_id for lead in leads[:MAX_ERRORS_LISTED]),
    )


def _unreadable_row(site_key: str, lead: UnreadableLead) -> Unreadable:
    body = json.dumps(lead.raw, ensure_ascii=False, default=str).encode()
    # The same raw lead read again (every reconcile) is listed once; a changed one again.
    digest = hashlib.sha256(body).hexdigest()[:40]
    return Unreadable(
        site_key=site_key,
        event="getLeads",
        content_type="application/json",
        body=body,
        error=lead.reason,
        dedupe_key=f"getLeads:{site_key}:{digest}",
    )


def _note(summary: SyncSummary, error: str) -> None:
    if len(summary.errors) < MAX_ERRORS_LISTED:
        summary.errors.append(error)
    elif len(summary.errors) == MAX_ERRORS_LISTED:
        summary.errors.append("… more in /api/inbox?outcome=rejected and the log")


def _event(
    lead: LeadData,
    site_key: str,
    chats: Sequence[int],
    cards_from: datetime,
    origin: LeadOrigin,
    announce_new: bool,
    region: str,
    apply_rules: bool,
) -> IncomingEvent:
    recent = lead.time is not None and lead.time >= cards_from
    return IncomingEvent(
        site_key=site_key,
        chats=tuple(chats),
        # Old leads are stored without cards: a backfill must not bury the managers.
        announce_new=announce_new and recent,
        event="sync",
        content_type="",
        body=None,
        dedupe_key=f"sync:{uuid.uuid4().hex}",
        snapshot=snapshot_from_lead(lead, region=region),
        origin=origin,
        apply_rules=apply_rules,
    )


def parse_since(value: str, *, now: datetime) -> datetime:
    """`7d`, `12h`, `30m` ago, or a date / date-time (UTC unless it names a zone)."""
    text = value.strip().lower()
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[:-1].isdigit() and text[-1:] in units:
        return now - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"--since takes 7d, 12h, 30m or a date like 2026-01-31, not {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)
