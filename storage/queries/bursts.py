"""Burst summaries: when more first cards wait for one chat than it can receive in a
minute, the waiting ones become summary messages, in one transaction.

The waiting cards are `notify` jobs with reason `new` in the chat's queue. They are read
from `ix_job_queue_unfinished` (queue, id), whose WHERE the query repeats, so however many
jobs the table holds the look-up walks one chat's backlog only. Replacing them marks them
done (their dedupe keys stay, so no card of theirs comes later) and enqueues the summary
parts, all or nothing: a crash before the commit leaves the cards waiting, one after it
leaves the summaries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.jobs import BURST_SUMMARY, NOTIFY, BurstSummaryPayload, burst_summary_key
from domain.jobs import telegram_queue as queue_of
from storage.clock import utcnow
from storage.models import UNFINISHED_SQL, Job, JobStatus, Lead
from storage.queries.jobs import enqueue_job

# Leads one summary round takes at most (a longer backlog is summarised again by the next
# card that finds it), and leads per message: 8 rows of 5 buttons, and lines that fit
# Telegram's 4096 characters whatever the leads hold.
MAX_SUMMARISED = 500
PER_MESSAGE = 40
# What a summarised card's job says it became, for whoever reads the jobs.
SUMMARISED = "sent in a summary"


class BacklogChanged(Exception):
    """A waiting card changed state while it was being summarised: try again."""


async def waiting_new_cards(session: AsyncSession, *, chat_id: int, limit: int) -> list[Job]:
    """Up to `limit` first cards waiting (not running) for `chat_id`, oldest first."""
    query = (
        select(Job)
        .where(
            col(Job.queue) == queue_of(chat_id),
            text(UNFINISHED_SQL),
            col(Job.status) == JobStatus.PENDING.value,
            col(Job.kind) == NOTIFY.name,
        )
        .order_by(col(Job.id))
        .limit(limit)
    )
    jobs = (await session.exec(query)).all()
    return [job for job in jobs if job.payload.get("reason") == "new"]


async def summarise_backlog(
    session: AsyncSession, *, chat_id: int, trigger_lead: int, per_minute: int
) -> int:
    """If more than `per_minute` first cards wait for `chat_id`, replace them with summary
    jobs and return how many leads they hold; else 0.

    `trigger_lead`: the lead whose card is being sent now. Its first card is one job ever,
    so the summary keys built from it make a rerun of that job (after a crash) find the
    summary made, and neither make another nor take cards that came since."""
    if await _made_by(session, chat_id=chat_id, trigger_lead=trigger_lead):
        return 0
    waiting = await waiting_new_cards(session, chat_id=chat_id, limit=MAX_SUMMARISED)
    if len(waiting) <= per_minute:
        return 0
    now = utcnow()
    ids = [job.id for job in waiting if job.id is not None]
    # Compare-and-set: only cards still waiting are taken; one that moved on fails it.
    replaced = await session.exec(
        update(Job)
        .where(col(Job.id).in_(ids), col(Job.status) == JobStatus.PENDING.value)
        .values(
            status=JobStatus.DONE.value,
            finished_at=now,
            updated_at=now,
            last_error=SUMMARISED,
        )
    )
    if replaced.rowcount != len(ids):
        raise BacklogChanged(f"{len(ids) - replaced.rowcount} waiting cards moved on")
    lead_ids = [int(job.payload["lead_id"]) for job in waiting]
    await enqueue_summaries(
        session,
        chat_id=chat_id,
        lead_ids=lead_ids,
        key_of=lambda number: burst_summary_key(chat_id, trigger_lead, number),
    )
    return len(lead_ids)


async def enqueue_summaries(
    session: AsyncSession,
    *,
    chat_id: int,
    lead_ids: Sequence[int],
    key_of: Callable[[int], str],
) -> None:
    """The summary of these leads for `chat_id`, as messages of `PER_MESSAGE` leads each;
    `key_of(number)` is the dedupe key of the message numbered from 1."""
    parts = [lead_ids[i : i + PER_MESSAGE] for i in range(0, len(lead_ids), PER_MESSAGE)]
    for number, part in enumerate(parts, start=1):
        payload = BurstSummaryPayload(
            chat_id=chat_id,
            lead_ids=tuple(part),
            part=number,
            parts=len(parts),
            total=len(lead_ids),
        )
        await enqueue_job(session, BURST_SUMMARY, payload, dedupe_key=key_of(number))


async def _made_by(session: AsyncSession, *, chat_id: int, trigger_lead: int) -> bool:
    key = burst_summary_key(chat_id, trigger_lead, 1)
    found = await session.exec(select(Job.id).where(col(Job.dedupe_key) == key))
    return found.first() is not None


async def leads_by_ids(session: AsyncSession, lead_ids: tuple[int, ...]) -> list[Lead]:
    """The leads of a summary still stored, in the summary's order."""
    if not lead_ids:
        return []
    found = await session.exec(select(Lead).where(col(Lead.id).in_(lead_ids)))
    by_id = {lead.id: lead for lead in found.all()}
    return [by_id[lead_id] for lead_id in lead_ids if lead_id in by_id]
