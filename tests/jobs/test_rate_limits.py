"""Rate limits hold across workers: two workers on one database keep each key's pace."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from jobs.ratelimit import Rate
from jobs.registry import HandlerRegistry, RawKind
from jobs.worker import Worker
from leadrelay.limits import ServiceRates
from leadrelay.notify import register_notify
from storage.database import Database
from tests.jobs.conftest import START, FakeClock, add_job, attempts_of, make_worker

STEP = 0.1  # seconds the fake clock moves between claim rounds


class Sends:
    """A notifier that notes when (by the fake clock) and by whom each card went out."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.worker = ""
        self.log: list[tuple[float, int, str]] = []

    async def notify(self, *, lead_id: int, chat_id: int, reason: str) -> None:
        self.log.append(((self.clock() - START).total_seconds(), chat_id, self.worker))

    def times(self, chat_id: int) -> list[float]:
        return [at for at, chat, _ in self.log if chat == chat_id]


@pytest.fixture
async def second_database(database: Database) -> AsyncIterator[Database]:
    """The same database through connections of its own, as another process would have."""
    other = Database(database.url)
    yield other
    await other.dispose()


async def _drive(workers: list[Worker], sends: Sends, clock: FakeClock, *, jobs: int) -> None:
    """Let the workers take turns, a short step of the clock apart, until all jobs ran."""
    for step in range(10_000):
        for worker in workers[step % 2 :] + workers[: step % 2]:  # each goes first in turn
            sends.worker = worker.name
            await worker.run_once()
        if len(sends.log) == jobs:
            return
        clock.advance(STEP)
    raise AssertionError(f"only {len(sends.log)} of {jobs} jobs ran")


def _card_workers(
    databases: list[Database], sends: Sends, limits: ServiceRates | None = None
) -> list[Worker]:
    """A worker per database, named "one", "two"…, sending cards to `sends` within the
    Telegram limits (by default, the documented ones)."""
    registry = HandlerRegistry()
    register_notify(registry, sends)
    names = ("one", "two")
    rates = limits or ServiceRates()
    return [
        make_worker(database, registry, sends.clock, name=name, rate_limits=rates)
        for database, name in zip(databases, names, strict=False)
    ]


def _gaps(times: list[float]) -> list[float]:
    return [round(later - earlier, 6) for earlier, later in zip(times, times[1:], strict=False)]


async def _notify_jobs(database: Database, chats: list[int], per_chat: int) -> list[int]:
    ids = []
    for n in range(per_chat):
        for chat in chats:
            # No queue: only the rate limit spaces them, not the queue order.
            payload = {"lead_id": n, "chat_id": chat, "reason": "new"}
            ids.append(await add_job(database, "notify", payload, key=f"notify:{n}:{chat}"))
    return ids


async def test_two_workers_keep_one_message_a_second_per_chat(
    database: Database, second_database: Database
) -> None:
    clock = FakeClock()
    sends = Sends(clock)
    ids = await _notify_jobs(database, [101, 202], per_chat=6)
    workers = _card_workers([database, second_database], sends)

    await _drive(workers, sends, clock, jobs=12)

    for chat in (101, 202):
        gaps = _gaps(sends.times(chat))
        assert len(gaps) == 5
        assert min(gaps) >= 1.0
        assert max(gaps) <= 1.0 + 2 * STEP  # waited for its turn, not much longer
    assert {worker for _, _, worker in sends.log} == {"one", "two"}
    for job_id in ids:  # waiting for a turn is not an attempt
        assert [a.outcome for a in await attempts_of(database, job_id)] == ["done"]


async def test_group_chats_get_twenty_a_minute(
    database: Database, second_database: Database
) -> None:
    clock = FakeClock()
    sends = Sends(clock)
    await _notify_jobs(database, [-1001234], per_chat=4)
    workers = _card_workers([database, second_database], sends)

    await _drive(workers, sends, clock, jobs=4)

    assert min(_gaps(sends.times(-1001234))) >= 3.0


async def test_the_bots_overall_limit_spans_all_chats(
    database: Database, second_database: Database
) -> None:
    clock = FakeClock()
    sends = Sends(clock)
    await _notify_jobs(database, list(range(1, 21)), per_chat=1)
    limits = ServiceRates(telegram_global=Rate(5, 1.0))
    workers = _card_workers([database, second_database], sends, limits)

    await _drive(workers, sends, clock, jobs=20)

    times = sorted(at for at, _, _ in sends.log)
    assert min(_gaps(times)) >= 0.2 - 1e-6
    per_second: dict[int, int] = defaultdict(int)
    for at in times:
        per_second[int(at)] += 1
    assert max(per_second.values()) <= 5


async def test_a_payload_can_name_the_keys_it_consumes(database: Database) -> None:
    clock = FakeClock()
    ran: list[float] = []
    registry = HandlerRegistry()

    @registry.handler(RawKind("flexbe.change"))
    async def change(payload: dict[str, Any]) -> None:
        ran.append((clock() - START).total_seconds())

    for n in range(3):
        payload = {"limits": ["flexbe:okna"]}
        await add_job(database, "flexbe.change", payload, key=f"c{n}")
    limits = ServiceRates(flexbe_site=Rate(100, 60.0))
    worker = make_worker(database, registry, clock, rate_limits=limits)

    for _ in range(20):
        await worker.run_once()
        clock.advance(STEP)

    assert len(ran) == 3
    assert min(_gaps(ran)) >= 0.6 - 1e-6


async def test_a_job_waiting_for_its_turn_is_not_claimed_again_early(database: Database) -> None:
    clock = FakeClock()
    sends = Sends(clock)
    await _notify_jobs(database, [101], per_chat=2)
    [worker] = _card_workers([database], sends)

    assert await worker.run_once() == 1
    # The second card is rescheduled to its turn: claiming again now finds nothing due.
    assert await worker.run_once() == 0
    assert await worker.run_once() == 0
    clock.advance(1.0)
    assert await worker.run_once() == 1
