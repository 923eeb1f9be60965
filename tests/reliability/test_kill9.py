"""kill -9 under load: the service (all roles, SQLite) takes 600 webhooks at 40/s and is
killed with SIGKILL three times and restarted. Every event answered 200 is stored once and
its cards reach the Telegram fake, all within 30 s of the burst's end; a job runs
twice, and a card goes twice, only if it was in flight at a kill."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import pytest

from testkit.service import Service, kill_test_telegram
from tests.reliability.load import CardWatch, Sender, cards_sent, takeover_delays

pytestmark = pytest.mark.slow
TOKEN = "kill9-token-0123456789abcdef"
# 1,200 cards, twice the burst of the issue this test answers (600 cards took 72 s to drain
# when a killed worker's jobs waited for their lease), at a pace that keeps webhooks coming
# through all three kills. (A chat's cards go one at a time: `bench/drain.py` measures
# a card's cost, for a burst of any size.)
EVENTS = 600
RATE = 40.0
CHATS = (-100, 42)
# Redelivery of what was refused while the service was down goes on at most this long.
SEND_SECONDS = 180
# Every card is out this soon after the burst (the bound): the takeover of the
# last kill's jobs and what the chats still had waiting. Measured: 11.7 s at a load of 1,
# 10.6 s and 13.2 s with one and two CPU-bound processes beside it on the 2 cores
# (18-33 s before a card cost less to send).
CARDS_OUT_SECONDS = 30
DRAIN_SECONDS = 90
# From the restarted worker's start: the liveness timeout (10 s) and one reaper's round
# (2.5 s), with a margin for a loaded machine: 9.7-18.8 s measured at a load of 2-6 on 2 cores; the
# lease alone took 60-90 s. A killed worker's cards are taken over this soon, so no
# chat waits longer than this for its next card.
TAKEOVER_SECONDS = 30


async def test_kill9_three_times_under_load_loses_nothing(tmp_path: Path) -> None:
    database = tmp_path / "kill9.db"
    database_url = f"sqlite+aiosqlite:///{database}"
    async with kill_test_telegram(database_url, token=TOKEN, chats=CHATS) as (telegram, env):
        service = Service(env, tmp_path)
        await service.migrate()
        await service.start()
        sender = Sender(f"{service.url}/flexbe/{TOKEN}", EVENTS, RATE)
        watch = CardWatch(telegram)
        watching = asyncio.create_task(watch.run())
        sending = asyncio.create_task(sender.run(give_up_at=time.monotonic() + SEND_SECONDS))
        kills = 0
        # When the replacement of each killed process began working: the takeover's start.
        working_at: list[float] = []
        last_kill = time.monotonic()
        try:
            for _ in range(3):
                await asyncio.sleep(2.5)
                await service.kill()
                last_kill = time.monotonic()
                kills += 1
                await service.start()
                await _worker_registered(database, service)
                working_at.append(time.time())
            await sending
            burst_end = time.monotonic()
            working_again = time.monotonic() - (time.time() - working_at[-1])
            cards_out = await watch.wait_for(EVENTS * len(CHATS), timeout=DRAIN_SECONDS)
            stall = watch.longest_stall(start=working_again, end=time.monotonic())
            await _wait_for_jobs(database, timeout=DRAIN_SECONDS)
            drained = time.monotonic()
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            if not sending.done():
                sending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sending
            await service.stop()
        cards = cards_sent(telegram)
        leaks = [line for part in [service] for line in part.log_leaks()]

    with sqlite3.connect(database) as db:
        leads = db.execute("SELECT flexbe_id, id FROM lead").fetchall()
        accepted = db.execute(
            "SELECT count(*) FROM inbox_event WHERE outcome='accepted'"
        ).fetchone()[0]
        # Card jobs only: the worker also schedules the retention's hourly prune.
        jobs = dict(
            db.execute(
                "SELECT status, count(*) FROM job WHERE kind='notify' GROUP BY status"
            ).fetchall()
        )
        card_jobs = db.execute("SELECT count(*) FROM job WHERE kind='notify'").fetchone()[0]
        # A killed worker's claimed jobs are taken over when their lease lapses ("lost"):
        # the only jobs that can run twice.
        interrupted: int = db.execute(
            "SELECT count(DISTINCT job_id) FROM job_attempt WHERE outcome = 'lost'"
        ).fetchone()[0]
        taken_over = [
            datetime.fromisoformat(row[0])
            for row in db.execute("SELECT finished_at FROM job_attempt WHERE outcome = 'lost'")
        ]
        twice = db.execute(
            "SELECT count(*) FROM (SELECT job_id FROM job_attempt GROUP BY job_id "
            "HAVING count(*) > 1)"
        ).fetchone()[0]
    stored = [flexbe_id for flexbe_id, _ in leads]
    wanted = {(chat, row) for _, row in leads for chat in CHATS}
    sent_twice = sum(1 for count in cards.values() if count > 1)
    delays = takeover_delays(working_at, taken_over)
    print(
        f"\nkill -9 x{kills}, SQLite, all roles: {EVENTS} events, {len(sender.acked)} answered "
        f"200, sends refused or cut off (offered again): {dict(sender.refused)}, "
        f"{len(stored)} stored, {card_jobs} card jobs {jobs}, {len(wanted & set(cards))} of "
        f"{len(wanted)} cards delivered, {sent_twice} sent twice, {interrupted} jobs in flight "
        f"at a kill, {twice} jobs attempted more than once; every card out {cards_out:.1f} s "
        f"after the burst ended ({burst_end - last_kill:.1f} s after the last kill), jobs "
        f"drained {drained - last_kill:.1f} s after the last kill; a killed worker's jobs "
        f"taken over {max(delays, default=0):.1f} s after its replacement started at most; "
        f"since the last one started, a chat waited {stall:.1f} s at most for its next card"
    )
    assert kills == 3
    assert not leaks, f"the service logged a secret or a client's contact: {leaks[:5]}"
    assert len(stored) == len(set(stored)), "no lead stored twice"
    assert sender.acked <= set(stored), "every event answered 200 is stored"
    assert accepted == len(stored)
    assert card_jobs == len(stored) * len(CHATS), "one card job per lead and chat"
    assert jobs == {"done": card_jobs}, "every card job ran to the end"
    assert len(sender.acked) == EVENTS, "every event was answered 200 in the end"
    assert set(cards) == wanted, "every stored lead's card reached every chat"
    assert cards_out <= CARDS_OUT_SECONDS, f"the last card went {cards_out:.1f} s after the burst"
    assert max(delays, default=0) <= TAKEOVER_SECONDS, f"taken over after {delays}"
    assert stall <= TAKEOVER_SECONDS, f"a chat waited {stall:.1f} s for its next card"
    assert twice <= interrupted, "a job runs again only if it was in flight at a kill"
    assert sent_twice <= interrupted, "a card goes twice only if its job was in flight at a kill"


async def _worker_registered(database: Path, service: Service) -> None:
    """Until the service's worker heartbeats: it is taking over and running jobs."""
    assert service.process is not None
    pattern = f"%:{service.process.pid}:%"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            if db.execute("SELECT 1 FROM worker WHERE name LIKE ?", (pattern,)).fetchone():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the restarted service's worker never began")


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
    raise AssertionError(f"{left} jobs still unfinished {timeout} s after the burst")
