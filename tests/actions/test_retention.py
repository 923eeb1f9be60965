"""Retention, on SQLite and PostgreSQL: old history goes in small batches, as a job of the
engine; what a repeat could still need, and the business record, stay."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from actions.retention import Pruner, RetentionSettings, count_prunable, schedule_prune
from domain.jobs import (
    ALL_KINDS,
    CALL,
    CANCEL_CALL,
    CRM5_DEAL,
    FLEXBE_STATUS,
    KEPT_KINDS,
    PRUNE,
    PRUNED_KINDS,
    TELEGRAM_KINDS,
)
from jobs.registry import HandlerRegistry
from leadrelay.handlers import build_registry
from leadrelay.web import create_app
from storage.clock import utcnow
from storage.database import Database
from storage.models import InboxEvent, Job, JobAttempt, Lead, TelegramUpdate
from storage.queries.jobs import enqueue
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from tests.jobs.conftest import FakeClock, make_worker
from tests.webhooks.conftest import CHATS, TOKEN, make_settings
from webhooks.forms import encode_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
KEEP = timedelta(days=30)
OLD = timedelta(days=31)
RECENT = timedelta(days=29)


@pytest.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings()
    async with database.write() as session:
        await ensure_sites(session, [(s.key, s.display_name) for s in settings.sites])
    app = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        yield http
    await app.state.intake.aclose()


async def _post(client: httpx.AsyncClient, body: bytes | str) -> httpx.Response:
    return await client.post(f"/flexbe/{TOKEN}", content=body, headers=FORM)


async def _age_inbox(database: Database, by: timedelta, *ids: int) -> None:
    async with database.write() as session:
        await session.exec(
            update(InboxEvent).where(col(InboxEvent.id).in_(ids)).values(received_at=utcnow() - by)
        )


async def _finish(database: Database, by: timedelta, *keys: str, status: str = "done") -> None:
    """Mark jobs finished `by` ago, each with an attempt, as the worker leaves them."""
    finished = utcnow() - by
    async with database.write() as session:
        jobs = (await session.exec(select(Job).where(col(Job.dedupe_key).in_(keys)))).all()
        for job in jobs:
            assert job.id is not None
            job.status, job.finished_at, job.attempts = status, finished, 1
            session.add(job)
            session.add(
                JobAttempt(job_id=job.id, attempt=1, started_at=finished, finished_at=finished)
            )


async def _add_job(database: Database, kind: str, key: str) -> None:
    async with database.write() as session:
        await enqueue(session, kind=kind, payload={}, dedupe_key=key, run_at=utcnow() - OLD)


async def _column(database: Database, column: Any) -> list[Any]:
    async with database.read() as session:
        return sorted((await session.exec(select(column))).all())


async def test_old_history_goes_and_everything_a_repeat_needs_stays(
    database: Database, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    old_lead, recent_lead = encode_form(lead_event(1)), encode_form(lead_event(2))
    first = (await _post(client, old_lead)).json()
    repeat = (await _post(client, old_lead)).json()
    ignored = (await _post(client, b"event=unknown_event&data%5Bid%5D=9")).json()
    rejected = await _post(client, b"data%5Bid%5D=1")
    recent = (await _post(client, recent_lead)).json()
    assert (repeat["status"], ignored["status"], rejected.status_code) == (
        "duplicate",
        "ignored",
        422,
    )
    old_id, recent_id = first["lead_id"], recent["lead_id"]
    async with database.read() as session:
        rejected_id = (
            await session.exec(select(InboxEvent.id).where(InboxEvent.outcome == "rejected"))
        ).one()
    assert rejected_id is not None
    await _age_inbox(
        database, OLD, first["event_id"], repeat["event_id"], ignored["event_id"], rejected_id
    )
    await _age_inbox(database, RECENT, recent["event_id"])
    old_cards = [f"notify:{old_id}:{chat}" for chat in CHATS]
    recent_cards = [f"notify:{recent_id}:{chat}" for chat in CHATS]
    await _finish(database, OLD, *old_cards)
    await _finish(database, RECENT, *recent_cards)
    # A button's job, whatever its age, and a kind nobody classified: their keys stay.
    await _add_job(database, "crm5.deal", f"crm5.deal:{old_id}")
    await _add_job(database, "mystery", "mystery:1")
    await _finish(database, OLD, f"crm5.deal:{old_id}", "mystery:1")
    # Dead jobs wait for an admin; pending and running ones are live.
    for key in ("dead", "pending", "running"):
        await _add_job(database, "notify", f"notify:{key}")
    await _finish(database, OLD, "notify:dead", status="dead")
    async with database.write() as session:
        await session.exec(
            update(Job).where(col(Job.dedupe_key) == "notify:running").values(status="running")
        )
        for update_id, handled in ((1, utcnow() - OLD), (2, None), (3, utcnow() - RECENT)):
            session.add(
                TelegramUpdate(
                    update_id=update_id, payload={}, received_at=utcnow() - OLD, handled_at=handled
                )
            )
    options = RetentionSettings(keep=KEEP, batch=1)  # one row per transaction: many batches
    dry = await count_prunable(database, options, now=utcnow())
    assert (dry.jobs["notify"], dry.inbox, dry.telegram_updates) == (
        len(CHATS),
        {"accepted": 1, "duplicate": 1, "ignored": 1},
        1,
    )

    # Run as a job of the engine, scheduled once however often the scheduler is asked.
    assert await schedule_prune(database, options, now=utcnow())
    assert not await schedule_prune(database, options, now=utcnow())
    registry = HandlerRegistry()
    registry.register(PRUNE, Pruner(database=database, options=options).handle)
    with caplog.at_level(logging.INFO, logger="actions.retention"):
        await make_worker(
            database, registry, FakeClock(utcnow() + timedelta(seconds=1))
        ).run_until_idle()

    assert sorted(await _column(database, Job.dedupe_key)) == sorted(
        [
            *recent_cards,
            f"crm5.deal:{old_id}",
            "mystery:1",
            "notify:dead",
            "notify:pending",
            "notify:running",
            f"prune:{int(utcnow().timestamp() // 3600)}",
        ]
    )
    async with database.read() as session:
        kept_ids = [j.id for j in (await session.exec(select(Job))).all()]
        attempt_jobs = (await session.exec(select(JobAttempt.job_id))).all()
    assert set(attempt_jobs) <= set(kept_ids), "a pruned job's attempts go with it"
    assert len([j for j in attempt_jobs if j is not None]) == len(CHATS) + 4  # +1 the prune's
    async with database.read() as session:
        inbox = (await session.exec(select(InboxEvent.outcome, InboxEvent.lead_id))).all()
    assert sorted(inbox, key=str) == sorted([("accepted", recent_id), ("rejected", None)], key=str)
    assert await _column(database, TelegramUpdate.update_id) == [2, 3]
    assert await _column(database, Lead.id) == sorted([old_id, recent_id]), "leads stay"
    [line] = [r.getMessage() for r in caplog.records if r.name == "actions.retention"]
    assert f"done jobs {len(CHATS)} (notify {len(CHATS)})" in line
    assert "inbox events 3 (accepted 1, duplicate 1, ignored 1)" in line
    assert "Telegram updates 1" in line

    # Within the window a repeat is still a duplicate, and makes no card.
    jobs_before = await _column(database, Job.dedupe_key)
    again = (await _post(client, recent_lead)).json()
    assert again["status"] == "duplicate"
    # Past it, the event's key is gone and the repeat is stored again, but the lead is
    # known: no second card, though the card jobs' keys were pruned.
    late = (await _post(client, old_lead)).json()
    assert (late["status"], late["lead_id"]) == ("accepted", old_id)
    assert await _column(database, Job.dedupe_key) == jobs_before
    # A tap on the old card's 5CRM button still finds its job: no second deal.
    async with database.write() as session:
        _, created = await enqueue(
            session, kind="crm5.deal", payload={}, dedupe_key=f"crm5.deal:{old_id}"
        )
    assert created is False


def test_every_job_kind_is_pruned_or_kept_on_purpose(database: Database) -> None:
    # A new kind must be placed: its dedupe key either cannot come again after the
    # retention (pruned) or guards a call out that a button can repeat (kept).
    registry = build_registry(settings=make_settings(), database=database, telegram=None)
    catalogue = {kind.name for kind in ALL_KINDS}
    telegram_only = {kind.name for kind in TELEGRAM_KINDS}

    assert PRUNE.name in registry.kinds, "the worker runs the prune"
    # Every kind the worker runs is in the catalogue, where it says pruned or kept, and
    # the catalogue names no kind that nothing runs.
    assert registry.kinds | telegram_only == catalogue
    assert not registry.kinds & telegram_only, "without the bot, none of the bot's kinds"
    assert not PRUNED_KINDS & KEPT_KINDS
    assert catalogue == PRUNED_KINDS | KEPT_KINDS
    # The buttons' calls out stay for ever: a pruned key would let a tap repeat the call.
    buttons = {FLEXBE_STATUS.name, CRM5_DEAL.name, CALL.name, CANCEL_CALL.name}
    assert buttons <= KEPT_KINDS
