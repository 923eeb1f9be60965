"""kill -9 during a distribution: 200 leads handed out in turn over four managers (weights
1, 1, 1, 2); the service is killed while the rules run and started again. Each lead ends
with one owner, its one recorded turn's, and the counts are as even as the weights say."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from storage.database import Database
from testkit.service import Service, kill_test_telegram
from tests.reliability.load import Sender
from tests.reliability.turns import (
    assigned,
    check_even,
    check_once_each,
    handed_out,
    rules_file,
    seed_team,
    until_assigned,
)

pytestmark = pytest.mark.slow
TOKEN = "turns-kill9-token-0123456789"
LEADS = 200
GROUP = -100


async def test_each_lead_is_handed_out_once_through_a_kill(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}"
    database = Database(url)
    try:
        async with kill_test_telegram(url, token=TOKEN, chats=(GROUP,)) as (telegram, env):
            env["LEADRELAY_CONFIG"] = rules_file(tmp_path)
            service = Service(env, tmp_path)
            await service.migrate()
            await seed_team(database)
            await service.start()
            try:
                sender = Sender(f"{service.url}/flexbe/{TOKEN}", LEADS, 100.0)
                await sender.run(give_up_at=time.monotonic() + 30)
                # Killed with the distribution under way: some leads handed out, not all.
                await until_assigned(database, LEADS // 4, timeout=30)
                await service.kill()
                killed_at = await assigned(database)

                await service.start()
                await until_assigned(database, LEADS, timeout=60)
            finally:
                await service.stop()
        handed = await handed_out(database)
    finally:
        await database.dispose()

    counts = check_once_each(handed, LEADS)
    print(  # noqa: T201  (the figures this test reports)
        f"\n{LEADS} leads, killed with {killed_at} handed out: per manager {dict(counts)}"
    )
    assert killed_at < LEADS, "killed before the distribution ended"
    check_even(counts)
