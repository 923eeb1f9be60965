"""kill -9 under load: the service (all roles, SQLite) takes 2,000 webhooks at about 200/s
and is killed with SIGKILL three times and restarted. Every event answered 200 is stored
once and its card jobs run; a job runs twice only if it was in flight at a kill."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import lead_event
from tests.reliability.service import Service, service_environment
from webhooks.forms import encode_form

pytestmark = pytest.mark.slow
TOKEN = "kill9-token-0123456789abcdef"
EVENTS = 2000
RATE = 200.0
CHATS = (-100, 42)


async def send_paced(service: Service, acked: set[int], stop_at: float) -> int:
    """Offer every event at RATE per second, then, as a sender that redelivers does, offer
    again whatever was not answered 200 until all are; returns how many requests failed."""
    failures = 0
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=10) as http:

        async def one(lead_id: int) -> None:
            nonlocal failures
            try:
                response = await http.post(
                    f"{service.url}/flexbe/{TOKEN}",
                    content=encode_form(lead_event(lead_id)),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            except httpx.TransportError:
                failures += 1
                return
            if response.status_code == 200:
                acked.add(lead_id)
            else:
                failures += 1

        tasks = []
        for index in range(EVENTS):
            delay = started + index / RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index + 1)))
        await asyncio.gather(*tasks)
        while len(acked) < EVENTS and time.monotonic() < stop_at:
            await asyncio.sleep(0.5)
            missing = [lead_id for lead_id in range(1, EVENTS + 1) if lead_id not in acked]
            await asyncio.gather(*(one(lead_id) for lead_id in missing[:200]))
    return failures


async def test_kill9_three_times_under_load_loses_nothing(tmp_path: Path) -> None:
    database = tmp_path / "kill9.db"
    env = service_environment(
        LEADRELAY_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        LEADRELAY_WEBHOOK_TOKEN=TOKEN,
        LEADRELAY_TELEGRAM_CHATS=",".join(str(c) for c in CHATS),
        LEADRELAY_JOB_LEASE_SECONDS="2",
        # Telegram is off here (cards are logged): only the queue's own pace matters.
        LEADRELAY_TELEGRAM_CHAT_PER_SECOND="1000",
        LEADRELAY_TELEGRAM_GROUP_PER_MINUTE="60000",
        LEADRELAY_TELEGRAM_PER_SECOND="5000",
        LEADRELAY_LOG_LEVEL="WARNING",
    )
    service = Service(env, tmp_path)
    await service.migrate()
    await service.start()
    acked: set[int] = set()
    sender = asyncio.create_task(send_paced(service, acked, time.monotonic() + 60))
    kills = 0
    try:
        for _ in range(3):
            await asyncio.sleep(2.5)
            await service.kill()
            kills += 1
            await service.start()
        failures = await sender
        await _wait_for_jobs(database, timeout=60)
    finally:
        if not sender.done():
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        await service.stop()

    with sqlite3.connect(database) as db:
        stored = [row[0] for row in db.execute("SELECT flexbe_id FROM lead")]
        accepted = db.execute(
            "SELECT count(*) FROM inbox_event WHERE outcome='accepted'"
        ).fetchone()[0]
        jobs = dict(db.execute("SELECT status, count(*) FROM job GROUP BY status").fetchall())
        cards = db.execute("SELECT count(*) FROM job WHERE kind='notify'").fetchone()[0]
        # A killed worker's claimed jobs are taken over when their lease lapses ("lost"):
        # the only jobs that can run twice.
        interrupted = db.execute(
            "SELECT count(DISTINCT job_id) FROM job_attempt WHERE outcome = 'lost'"
        ).fetchone()[0]
        twice = db.execute(
            "SELECT count(*) FROM (SELECT job_id FROM job_attempt GROUP BY job_id "
            "HAVING count(*) > 1)"
        ).fetchone()[0]
    print(
        f"\nkill -9 x{kills}: {EVENTS} events, {len(acked)} answered 200, {failures} sends "
        f"refused or cut off (offered again), {len(stored)} stored, {cards} card jobs {jobs}, "
        f"{interrupted} jobs in flight at a kill, {twice} jobs attempted more than once"
    )
    assert kills == 3
    assert len(stored) == len(set(stored)), "no lead stored twice"
    assert acked <= set(stored), "every event answered 200 is stored"
    assert accepted == len(stored)
    assert cards == len(stored) * len(CHATS), "one card job per lead and chat"
    assert jobs == {"done": cards}, "every card job ran to the end"
    assert len(acked) == EVENTS, "every event was answered 200 in the end"
    assert twice <= interrupted, "a job runs again only if it was in flight at a kill"


async def _wait_for_jobs(database: Path, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            left = db.execute(
                "SELECT count(*) FROM job WHERE status IN ('pending', 'running')"
            ).fetchone()[0]
        if left == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{left} jobs still unfinished after {timeout} s")
