"""A burst summary replaces a chat's waiting first cards all or nothing, once per card
that found the backlog: a crash before its commit leaves every card waiting, a rerun
after it makes no second summary and takes no card that came since."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlmodel import col, select

from domain.jobs import BURST_SUMMARY, NOTIFY, CardPayload, new_card_key
from storage.database import Database
from storage.models import Job, JobStatus
from storage.queries.bursts import PER_MESSAGE, SUMMARISED, summarise_backlog
from storage.queries.jobs import enqueue_job

GROUP = -100777
PER_MINUTE = 20


class Crash(Exception):
    """The process dies here: the transaction never commits."""


async def _cards(database: Database, lead_ids: range) -> None:
    async with database.write() as session:
        for lead_id in lead_ids:
            card = CardPayload(lead_id=lead_id, chat_id=GROUP, reason="new")
            await enqueue_job(session, NOTIFY, card, dedupe_key=new_card_key(lead_id, GROUP))


async def _places(database: Database) -> dict[int, list[str]]:
    """Where each lead stands: a card still to send, or a summary (by its key)."""
    places: dict[int, list[str]] = defaultdict(list)
    async with database.read() as session:
        jobs = (await session.exec(select(Job).order_by(col(Job.id)))).all()
    for job in jobs:
        if job.kind == NOTIFY.name and job.status == JobStatus.PENDING.value:
            places[int(job.payload["lead_id"])].append("card")
        elif job.kind == BURST_SUMMARY.name:
            for lead_id in BURST_SUMMARY.parse(job.payload).lead_ids:
                places[lead_id].append(job.dedupe_key)
    return places


async def _summarise(database: Database, trigger: int) -> int:
    async with database.write() as session:
        return await summarise_backlog(
            session, chat_id=GROUP, trigger_lead=trigger, per_minute=PER_MINUTE
        )


async def test_a_crash_before_the_commit_leaves_every_card_waiting(database: Database) -> None:
    await _cards(database, range(1, 61))

    with pytest.raises(Crash):
        async with database.write() as session:
            taken = await summarise_backlog(
                session, chat_id=GROUP, trigger_lead=1000, per_minute=PER_MINUTE
            )
            assert taken == 60
            raise Crash

    places = await _places(database)
    assert places == {lead_id: ["card"] for lead_id in range(1, 61)}


async def test_a_summary_takes_the_backlog_once_and_a_rerun_nothing_more(
    database: Database,
) -> None:
    await _cards(database, range(1, 91))

    assert await _summarise(database, trigger=1000) == 90
    await _cards(database, range(91, 131))
    # The card that made the summary runs again (its worker died before recording it).
    assert await _summarise(database, trigger=1000) == 0

    places = await _places(database)
    assert all(len(where) == 1 for where in places.values()), "no lead in two places"
    assert {places[lead_id][0] for lead_id in range(91, 131)} == {"card"}
    summaries = sorted({places[lead_id][0] for lead_id in range(1, 91)})
    assert summaries == [f"summary:{GROUP}:1000:{part}" for part in (1, 2, 3)]
    async with database.read() as session:
        parts = (
            await session.exec(
                select(Job).where(Job.kind == BURST_SUMMARY.name).order_by(col(Job.id))
            )
        ).all()
        replaced = (
            await session.exec(select(Job).where(col(Job.status) == JobStatus.DONE.value))
        ).all()
    sizes = [len(BURST_SUMMARY.parse(p.payload).lead_ids) for p in parts]
    assert sizes == [PER_MESSAGE, PER_MESSAGE, 10]
    assert {(BURST_SUMMARY.parse(p.payload).total, p.queue) for p in parts} == {(90, f"tg:{GROUP}")}
    assert len(replaced) == 90 and {job.last_error for job in replaced} == {SUMMARISED}

    # The next card that finds a backlog summarises what came since.
    assert await _summarise(database, trigger=1001) == 40
    places = await _places(database)
    assert {places[lead_id][0] for lead_id in range(91, 131)} == {f"summary:{GROUP}:1001:1"}


async def test_a_minute_of_cards_or_fewer_is_left_to_go_out_as_cards(database: Database) -> None:
    await _cards(database, range(1, PER_MINUTE + 1))

    assert await _summarise(database, trigger=1000) == 0
    assert await _places(database) == {lead_id: ["card"] for lead_id in range(1, PER_MINUTE + 1)}
