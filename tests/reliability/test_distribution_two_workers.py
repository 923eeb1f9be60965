"""Two worker processes on one PostgreSQL database, beside a web front, hand 500 leads out
in turn over four managers (weights 1, 1, 1, 2): no lead with two owners, and the turns,
in the order taken, are the round-robin's own sequence: nobody skipped out of turn."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import col, select

from storage.database import Database
from storage.models import Job, JobAttempt
from testkit.service import Service, kill_test_telegram
from tests.conftest import ON_POSTGRESQL_ONLY
from tests.reliability.load import Sender
from tests.reliability.turns import (
    WEIGHTS,
    check_once_each,
    expected_turns,
    handed_out,
    rules_file,
    seed_team,
    until_assigned,
)
from tests.reliability.waits import worker_registered

pytestmark = [pytest.mark.slow, *ON_POSTGRESQL_ONLY]
TOKEN = "turns-two-token-0123456789ab"
LEADS = 500
GROUP = -100


async def test_two_workers_hand_each_lead_out_once_in_turn(
    tmp_path: Path, database: Database
) -> None:
    await seed_team(database)
    async with kill_test_telegram(database.url, token=TOKEN, chats=(GROUP,)) as (telegram, env):
        env["LEADRELAY_CONFIG"] = rules_file(tmp_path)
        web = Service(env, tmp_path, "--role", "web")
        workers = [Service(env, tmp_path, "--role", "worker") for _ in range(2)]
        try:
            # One after the other: two first starts at once race to insert the site rows.
            for worker in workers:
                await worker.start(serves_http=False)
            await web.start(timeout=180)
            for worker in workers:
                await worker_registered(database, worker)
            started = time.monotonic()
            sender = Sender(f"{web.url}/flexbe/{TOKEN}", LEADS, 100.0)
            await sender.run(give_up_at=time.monotonic() + 30)
            await until_assigned(database, LEADS, timeout=60)
            took = time.monotonic() - started
        finally:
            for part in (web, *workers):
                await part.stop()

    handed = await handed_out(database)
    async with database.read() as session:
        rules = (
            select(JobAttempt.worker)
            .join(Job, col(Job.id) == col(JobAttempt.job_id))
            .where(col(Job.kind) == "rules.apply")
        )
        runners = Counter((await session.exec(rules)).all())
    counts = check_once_each(handed, LEADS)
    print(  # noqa: T201  (the figures this test reports)
        f"\n{LEADS} leads, 2 workers, handed out in {took:.1f} s: per manager {dict(counts)}; "
        f"rules run by {dict(runners)}"
    )
    assert len(runners) == 2, "both workers handed leads out"
    unit = LEADS // sum(WEIGHTS.values())
    assert counts == {manager: weight * unit for manager, weight in WEIGHTS.items()}
    assert [turn.manager_id for turn in handed.turns] == expected_turns(LEADS)
    assert [turn.number for turn in handed.turns] == list(range(1, LEADS + 1))
