"""Take-back and offer timers waiting in the job table: what they cost ordinary jobs.

    .venv/bin/python bench/timers.py [--timers 10000] [--due 2000] [--samples 300]
        [--postgres-url URL | --no-postgres]

On each database (a fresh SQLite file; a fresh PostgreSQL database of its own), in the same
run, first without timers (the baseline), then with `--timers` take-back timers (kind
`take_back`, payload and dedupe key as `bot.owners` enqueues them: no queue, due in 30 min
to 2 h) and as many more timers of the same shape standing in for offers (kind
`bench.offer`), all of kinds the worker runs:

1. claim: the worker's claim transaction (`jobs.store.claim`, as `Worker` calls it) with
   10 ordinary due jobs waiting, timed from the call to its commit; p50 / p99 / max.
2. wake-up: enqueue one ordinary job, commit, `notify_enqueued()`, until its handler
   starts, with the worker idle; p50 / p99 / max.
3. lateness (with the timers only): `--due` take-back timers come due over 10 s while the
   others stay pending, the worker running; how late each handler starts after its
   `run_at` (target: none later than 2 s).

The ratios with / without are printed for 1 and 2 (target: p99 unchanged, within noise).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.jobs import TAKE_BACK, TakeBackPayload, take_back_key  # noqa: E402
from jobs import signals, store  # noqa: E402
from jobs.ratelimit import RateTable  # noqa: E402
from jobs.registry import HandlerRegistry, RawKind  # noqa: E402
from jobs.store import ATTEMPT, JOB  # noqa: E402
from jobs.worker import Worker  # noqa: E402
from storage.clock import utcnow  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.queries.jobs import enqueue, job_row  # noqa: E402

KIND = "bench.noop"
OFFER_KIND = "bench.offer"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "leadrelay_bench_timers"
LATE_TARGET_SECONDS = 2.0


class Runs:
    """What the handlers saw: when each ordinary job started, how late each timer did."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.starts: list[float] = []
        self.due: dict[int, datetime] = {}  # a due take-back's lead → its run_at
        self.lateness: list[float] = []

    def registry(self) -> HandlerRegistry:
        registry = HandlerRegistry()

        @registry.handler(RawKind(KIND))
        async def noop(_payload: dict[str, Any]) -> None:
            self.starts.append(time.perf_counter())
            self.started.set()

        @registry.handler(RawKind(TAKE_BACK.name))
        async def take_back(payload: dict[str, Any]) -> None:
            due = self.due.get(int(payload["lead_id"]))
            if due is not None:
                self.lateness.append((utcnow() - due).total_seconds())

        @registry.handler(RawKind(OFFER_KIND))
        async def offer(_payload: dict[str, Any]) -> None:
            return None

        return registry


async def add_timers(
    database: Database, count: int, *, first: datetime, spread: float, lead_base: int
) -> dict[int, datetime]:
    """`count` take-back timers and `count` offer stand-ins, no queue, due from `first`
    over `spread` seconds; returns each take-back's lead and due time."""
    now = utcnow()
    rows, due_of = [], {}
    for n in range(count):
        lead, taking = lead_base + n, 10 * (lead_base + n)
        due = first + timedelta(seconds=spread * n / count)
        payload = TakeBackPayload(lead_id=lead, owner_id=1000 + n % 7, taking=taking).dump()
        key = take_back_key(lead, taking)
        rows.append({**job_row(TAKE_BACK.name, payload, key, None, now), "run_at": due})
        offer = {"lead_id": lead, "manager_id": 1000 + n % 7, "round": 1}
        rows.append({**job_row(OFFER_KIND, offer, f"offer:{lead}:1", None, now), "run_at": due})
        due_of[lead] = due
    async with database.writer.begin() as connection:
        for start in range(0, len(rows), 5000):
            await connection.execute(insert(JOB), rows[start : start + 5000])
    return due_of


async def clear_kind(database: Database, *kinds: str) -> None:
    async with database.writer.begin() as connection:
        ids = select(JOB.c.id).where(JOB.c.kind.in_(kinds)).scalar_subquery()
        await connection.execute(ATTEMPT.delete().where(ATTEMPT.c.job_id.in_(ids)))
        await connection.execute(JOB.delete().where(JOB.c.kind.in_(kinds)))


def spread(values: list[float]) -> tuple[float, float, float]:
    """(p50, p99, max)."""
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.99) - 1)], values[-1]


async def claim_latency(database: Database, samples: int) -> tuple[float, float, float]:
    """ms per claim transaction, 10 ordinary jobs due each time (claimed, then removed)."""
    registry = Runs().registry()
    claim = functools.partial(
        store.claim,
        worker="bench-claim",
        limit=32,
        lease=timedelta(seconds=30),
        kinds=registry.kinds,
        limit_keys=registry.limit_keys,
        limits=RateTable(),
    )
    timings = []
    for n in range(samples):
        now = utcnow()
        rows = [job_row(KIND, {}, f"claim:{n}:{k}:{now.timestamp()}", None, now) for k in range(10)]
        async with database.writer.begin() as connection:
            await connection.execute(insert(JOB), rows)
        began = time.perf_counter()
        result = await database.run_in_transaction(functools.partial(claim, now=utcnow()))
        timings.append((time.perf_counter() - began) * 1000)
        assert len(result.jobs) == 10, f"claimed {len(result.jobs)} of 10"
        await clear_kind(database, KIND)
    return spread(timings)


async def wake_up_latency(database: Database, samples: int) -> tuple[float, float, float]:
    """ms from an ordinary job's commit to its handler's start, the worker idle."""
    runs = Runs()
    worker = Worker(database, runs.registry(), poll_interval=30.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.5)
    latencies = []
    for n in range(samples):
        runs.started.clear()
        async with database.write() as session:
            await enqueue(session, kind=KIND, payload={}, dedupe_key=f"idle:{n}:{time.time()}")
        committed = time.perf_counter()
        signals.notify_enqueued()
        await asyncio.wait_for(runs.started.wait(), 10)
        latencies.append((runs.starts[-1] - committed) * 1000)
        await asyncio.sleep(0.01)  # let it go idle again
    stop.set()
    await task
    await clear_kind(database, KIND)
    return spread(latencies)


async def lateness(database: Database, due: int) -> tuple[float, float, float]:
    """Seconds late, for `due` take-back timers (and as many offers) due over 10 s."""
    runs = Runs()
    runs.due = await add_timers(
        database, due, first=utcnow() + timedelta(seconds=3), spread=10.0, lead_base=10_000_000
    )
    worker = Worker(database, runs.registry(), concurrency=100)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 120
    while len(runs.lateness) < due and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.set()
    await task
    assert len(runs.lateness) == due, f"{due - len(runs.lateness)} timers never ran"
    return spread(runs.lateness)


def ratio_line(label: str, without: tuple[float, ...], with_: tuple[float, ...]) -> str:
    return (
        f"  {label}: p50 {without[0]:.2f} → {with_[0]:.2f} ms, "
        f"p99 {without[1]:.2f} → {with_[1]:.2f} ms (ratio {with_[1] / without[1]:.2f}), "
        f"max {without[2]:.2f} → {with_[2]:.2f} ms"
    )


async def report(database: Database, label: str, arguments: argparse.Namespace) -> None:
    samples, timers = arguments.samples, arguments.timers
    claim_without = await claim_latency(database, samples)
    wake_without = await wake_up_latency(database, samples)
    await add_timers(
        database, timers, first=utcnow() + timedelta(minutes=30), spread=5400.0, lead_base=1
    )
    claim_with = await claim_latency(database, samples)
    wake_with = await wake_up_latency(database, samples)
    print(f"{label}: none → {timers:,} take-back + {timers:,} offer timers pending")
    print(ratio_line("claim", claim_without, claim_with))
    print(ratio_line("wake-up", wake_without, wake_with))
    p50, p99, worst = await lateness(database, arguments.due)
    verdict = "met" if worst <= LATE_TARGET_SECONDS else "NOT met"
    print(
        f"  {arguments.due:,} take-back timers due over 10 s (with the others pending), "
        f"late by: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms "
        f"(target max ≤ {LATE_TARGET_SECONDS * 1000:.0f} ms: {verdict})"
    )


async def admin_execute(url: str, statement: str) -> None:
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def migrated(url: str) -> Database:
    database = Database(url)
    await upgrade(database)
    return database


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        sqlite = await migrated(f"sqlite+aiosqlite:///{directory}/bench.db")
        try:
            await report(sqlite, "SQLite", arguments)
        finally:
            await sqlite.dispose()
    if arguments.no_postgres:
        return
    url = arguments.postgres_url
    await admin_execute(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    await admin_execute(url, f'CREATE DATABASE "{BENCH_DATABASE}"')
    postgres = await migrated(url.rsplit("/", 1)[0] + "/" + BENCH_DATABASE)
    try:
        await report(postgres, "PostgreSQL", arguments)
    finally:
        await postgres.dispose()
        await admin_execute(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timers", type=int, default=10_000, help="take-back timers (and offers)")
    parser.add_argument("--due", type=int, default=2_000, help="take-back timers due in the run")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
