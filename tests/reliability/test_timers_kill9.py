"""kill -9 with timers set: leads arrive, the service is killed before their reminders
and alerts are due, stays down while they fall due, and is started again. Each reminder
goes out once under its card, and each admin's alert once, after the restart."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from testkit.service import Service, kill_test_telegram
from tests.reliability.load import Sender, alerts_sent, reminders_sent
from tests.reliability.waits import until

pytestmark = pytest.mark.slow
TOKEN = "timers-kill9-token-0123456789"
LEADS = 40
GROUP = -100
ADMIN = 7
REMIND_SECONDS, ESCALATE_SECONDS = 6, 9
DOWN_SECONDS = 12  # longer than both waits: every timer falls due while the service is down


async def test_timers_due_while_killed_are_sent_once_after_the_restart(tmp_path: Path) -> None:
    database = tmp_path / "timers.db"
    async with kill_test_telegram(
        f"sqlite+aiosqlite:///{database}", token=TOKEN, chats=(GROUP,), admins=(ADMIN,)
    ) as (telegram, env):
        env |= {
            "LEADRELAY_SLA_REMIND_AFTER": f"{REMIND_SECONDS}s",
            "LEADRELAY_SLA_ESCALATE_AFTER": f"{ESCALATE_SECONDS}s",
        }
        service = Service(env, tmp_path)
        await service.migrate()
        await service.start()
        try:
            sender = Sender(f"{service.url}/flexbe/{TOKEN}", LEADS, 100.0)
            await sender.run(give_up_at=time.monotonic() + 30)
            await until(lambda: _count(database, "sla.escalate") == LEADS, timeout=30)
            await service.kill()
            killed = time.monotonic()
            assert (
                reminders_sent(telegram, GROUP) == Counter() and alerts_sent(telegram, ADMIN) == []
            )

            await asyncio.sleep(DOWN_SECONDS)
            await service.start()
            restarted = time.monotonic()
            await until(
                lambda: (
                    sum(reminders_sent(telegram, GROUP).values()) >= LEADS
                    and len(alerts_sent(telegram, ADMIN)) >= LEADS
                ),
                timeout=60,
            )
            out = time.monotonic() - restarted
            await until(lambda: _unfinished(database) == 0, timeout=60)
        finally:
            await service.stop()

    with sqlite3.connect(database) as db:
        cards = dict(db.execute("SELECT message_id, lead_id FROM card WHERE chat_id = ?", (GROUP,)))
    reminders, alerts = reminders_sent(telegram, GROUP), alerts_sent(telegram, ADMIN)
    print(  # noqa: T201  (the figures this test reports)
        f"\n{LEADS} leads, killed before any timer was due, back (started) "
        f"{restarted - killed:.1f} s later: {sum(reminders.values())} reminders and "
        f"{len(alerts)} alerts, all out {out:.1f} s after the restart"
    )
    assert set(reminders) == set(cards), "a reminder under each card"
    assert set(reminders.values()) == {1}, "never two under one card"
    assert len(alerts) == LEADS, "one alert per lead to the one admin"
    assert len(set(alerts)) == LEADS


def _count(database: Path, kind: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM job WHERE kind = ?", (kind,)).fetchone()[0])


def _unfinished(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(
            db.execute(
                "SELECT count(*) FROM job WHERE status IN ('pending', 'running')"
            ).fetchone()[0]
        )
