"""Two worker processes on one PostgreSQL database, beside a web front: both set the
digest at start and both claim the timers, yet each reminder, each alert and the digest
go out exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from storage.database import Database
from storage.models import Card, Job, JobAttempt
from testkit.service import Service, kill_test_telegram
from tests.conftest import ON_POSTGRESQL_ONLY
from tests.reliability.load import Sender, alerts_sent, reminders_sent
from tests.reliability.waits import until, worker_registered

pytestmark = [pytest.mark.slow, *ON_POSTGRESQL_ONLY]
TOKEN = "timers-two-token-0123456789ab"
LEADS = 60
GROUP = -100
ADMIN = 7


async def test_two_workers_send_each_reminder_alert_and_digest_once(
    tmp_path: Path, database: Database, database_url: str
) -> None:
    async with kill_test_telegram(
        database.url,
        token=TOKEN,
        chats=(GROUP,),
        admins=(ADMIN,),
    ) as (telegram, env):
        env |= {
            "LEADRELAY_SLA_REMIND_AFTER": "3s",
            "LEADRELAY_SLA_ESCALATE_AFTER": "5s",
            # Today's time has passed: each worker, at its start, sets today's digest.
            "LEADRELAY_DIGEST_AT": "00:00",
        }
        web = Service(env, tmp_path, "--role", "web")
        workers = [Service(env, tmp_path, "--role", "worker") for _ in range(2)]
        try:
            # One after the other: two first starts at once race to insert the site rows.
            for worker in workers:
                await worker.start(serves_http=False)
            await web.start(timeout=180)
            for worker in workers:
                await worker_registered(database, worker)
            sender = Sender(f"{web.url}/flexbe/{TOKEN}", LEADS, 50.0)
            await sender.run(give_up_at=time.monotonic() + 60)
            try:
                await until(
                    lambda: (
                        sum(reminders_sent(telegram, GROUP).values()) >= LEADS
                        and len(alerts_sent(telegram, ADMIN)) >= LEADS
                    ),
                    timeout=90,
                )
            except AssertionError:
                async with database.read() as session:
                    query = select(Job.kind, Job.status, func.count()).group_by(
                        col(Job.kind), col(Job.status)
                    )
                    states = (await session.exec(query)).all()
                raise AssertionError(
                    f"{len(sender.acked)} leads in, {len(telegram.chat(GROUP))} messages in the "
                    f"group, {len(alerts_sent(telegram, ADMIN))} alerts; jobs: {states}"
                ) from None
            # A worker restarted sets the digest again: the key keeps it one.
            await workers[0].stop()
            await workers[0].start(serves_http=False)
            await asyncio.sleep(3)
        finally:
            for part in (web, *workers):
                await part.stop()

    async with database.read() as session:
        cards = set(
            (await session.exec(select(Card.message_id).where(Card.chat_id == GROUP))).all()
        )
        timers = (
            select(JobAttempt.worker)
            .join(Job, col(Job.id) == col(JobAttempt.job_id))
            .where(col(Job.kind).in_(["sla.remind", "sla.escalate", "digest"]))
        )
        runners = Counter((await session.exec(timers)).all())
    reminders, alerts = reminders_sent(telegram, GROUP), alerts_sent(telegram, ADMIN)
    digests = [m for m in telegram.chat(GROUP) if m["text"].startswith("<b>Digest of")]
    print(  # noqa: T201  (the figures this test reports)
        f"\n{LEADS} leads, 2 workers: {sum(reminders.values())} reminders, "
        f"{len(alerts)} alerts, {len(digests)} digest; timers run by {dict(runners)}"
    )
    assert set(reminders) == cards and set(reminders.values()) == {1}
    assert len(alerts) == LEADS
    assert len(digests) == 1
