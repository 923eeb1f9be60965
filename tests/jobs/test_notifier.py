"""`notify` jobs, as intake writes them, reach the notifier."""

from __future__ import annotations

from domain.jobs import NOTIFY
from jobs.registry import HandlerRegistry
from leadrelay.notify import register_notify
from storage.database import Database
from tests.jobs.conftest import FakeClock, add_job, get_job, make_worker


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int, str]] = []

    async def notify(self, *, lead_id: int, chat_id: int, reason: str) -> None:
        self.calls.append((lead_id, chat_id, reason))


async def test_a_notify_job_reaches_the_notifier(database: Database) -> None:
    recorder = Recorder()
    registry = HandlerRegistry()
    register_notify(registry, recorder)
    payload = {"lead_id": 7, "chat_id": -100123, "reason": "paid"}
    job_id = await add_job(database, NOTIFY.name, payload, key="notify:7:-100123:pay")

    await make_worker(database, registry, FakeClock()).run_until_idle()

    assert recorder.calls == [(7, -100123, "paid")]
    assert (await get_job(database, job_id)).status == "done"
    assert registry.limit_keys(NOTIFY.name, payload) == ["tg:chat:-100123", "tg:global"]
