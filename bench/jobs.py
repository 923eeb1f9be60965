"""Job engine throughput and latency.

    .venv/bin/python bench/jobs.py [--jobs 20000] [--postgres-url URL | --no-postgres]

1. SQLite, one process: no-op jobs/s of the real worker, against a bare queue in the same
   file (the same claim/finish statements in batches of 100, without the engine) — the
   database's own ceiling for this pattern, as the baseline.
2. PostgreSQL: no-op jobs/s with one and with three worker processes (`--worker` below,
   which runs `jobs.runner.run_worker_process`); the one-process figure is the baseline.
   The database shares the machine's cores, so each phase also reports where the CPU went,
   from psutil over the phase's wall time. A phase is timed from the commit that inserts
   its jobs (all in one transaction, which no worker can see before it commits) until all
   are done: the engine's drain rate, without the bench's own set-up.
   - CPU per job, in µs: the worker processes' (all threads), and the PostgreSQL server's
     (postmaster, background processes and this database's backends; other databases'
     sessions are left out, as someone else's load);
   - cores busy: the same two as CPU seconds per wall second, this driver's (it polls for
     done), and the whole machine's (psutil.cpu_times: all but idle and iowait), whose rest
     is others' load;
   - ceiling 3/1: cores / (cores the workers and PostgreSQL used in the 1-process phase) —
     how many times the one-process rate the machine could give if every core did only
     this work at the one-process cost per job. The measured 3/1 is printed beside it, and
     CPU per job 3/1 (3-process phase over 1-process phase) is what contention costs; the
     measured ratio is at most ceiling / contention cost.
   Backends that exit during a phase are lost from the count; the report says how many.
3. Idle latency in-process: enqueue one job, commit, `notify_enqueued()`, and time until
   its handler starts; p50/p99 over a few hundred jobs, on each database.
4. Timers (`--timers`, 10,000 by default), on each database: the idle latency of 3 again
   with that many timers pending (unqueued, due in an hour, of a kind the worker runs)
   beside its figure without them measured just before, and on SQLite the engine's
   throughput with and without them; then as many timers due over 20 seconds, and how
   late each one's handler started after its `run_at` (p50, p99, max; target max ≤ 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy import Connection, func, insert, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jobs import signals  # noqa: E402
from jobs.registry import HandlerRegistry, RawKind  # noqa: E402
from jobs.runner import run_worker_process  # noqa: E402
from jobs.store import ATTEMPT, JOB  # noqa: E402
from jobs.worker import Worker  # noqa: E402
from storage.clock import utcnow  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.queries.jobs import enqueue, job_row  # noqa: E402

KIND = "bench.noop"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "leadrelay_bench_jobs"


def noop_registry(
    on_run: Callable[[], None] | None = None, *, work_seconds: float = 0.0
) -> HandlerRegistry:
    registry = HandlerRegistry()

    @registry.handler(RawKind(KIND))
    async def noop(_payload: dict[str, Any]) -> None:
        if on_run is not None:
            on_run()
        if work_seconds:
            await asyncio.sleep(work_seconds)  # a stand-in for an API call

    return registry


async def add_jobs(database: Database, count: int) -> None:
    now = utcnow()
    rows = [
        job_row(KIND, {"n": n}, f"bench:{n}:{now.timestamp()}", None, now) for n in range(count)
    ]
    async with database.writer.begin() as connection:
        for start in range(0, count, 5000):
            await connection.execute(insert(JOB), rows[start : start + 5000])


async def done_count(database: Database) -> int:
    async with database.reader.connect() as connection:
        query = select(func.count()).select_from(JOB).where(JOB.c.status == "done")
        return (await connection.execute(query)).scalar_one()


async def wait_done(database: Database, target: int) -> None:
    while await done_count(database) < target:
        await asyncio.sleep(0.02)


async def clear_jobs(database: Database) -> None:
    async with database.writer.begin() as connection:
        await connection.execute(ATTEMPT.delete())
        await connection.execute(JOB.delete())


# 1. SQLite


def bare_claim(connection: Connection, *, worker: str) -> list[int]:
    """What the engine must do per batch, as plain statements: claim 100 ..."""
    query = select(JOB.c.id).where(JOB.c.status == "pending").order_by(JOB.c.id).limit(100)
    ids = list(connection.execute(query).scalars())
    if ids:
        connection.execute(
            update(JOB)
            .where(JOB.c.id.in_(ids))
            .values(
                status="running", locked_by=worker, attempts=JOB.c.attempts + 1, updated_at=utcnow()
            )
        )
    return ids


def bare_finish(connection: Connection, *, ids: list[int], worker: str) -> None:
    """... then mark them done and write their attempts."""
    now = utcnow()
    connection.execute(
        update(JOB).where(JOB.c.id.in_(ids)).values(status="done", finished_at=now, locked_by=None)
    )
    connection.execute(
        insert(ATTEMPT),
        [
            {
                "job_id": job_id,
                "attempt": 1,
                "worker": worker,
                "started_at": now,
                "finished_at": now,
                "outcome": "done",
            }
            for job_id in ids
        ],
    )


async def bare_queue(database: Database, jobs: int) -> float:
    await add_jobs(database, jobs)
    began = time.perf_counter()
    while ids := await database.run_in_transaction(functools.partial(bare_claim, worker="bare")):
        await database.run_in_transaction(functools.partial(bare_finish, ids=ids, worker="bare"))
    elapsed = time.perf_counter() - began
    await clear_jobs(database)
    return jobs / elapsed


async def in_process_throughput(database: Database, jobs: int) -> float:
    await add_jobs(database, jobs)
    worker = Worker(database, noop_registry(), concurrency=100, batch_size=100)
    stop = asyncio.Event()
    began = time.perf_counter()
    task = asyncio.create_task(worker.run(stop))
    await wait_done(database, jobs)
    elapsed = time.perf_counter() - began
    stop.set()
    await task
    await clear_jobs(database)
    return jobs / elapsed


# 2. PostgreSQL, several processes

# A client backend's title: "postgres: [cluster: ]user database host(port) activity".
CLIENT_BACKEND = re.compile(r"^postgres: (?:\S+: )?\S+ (\S+) (?:\[local\]|\S+\(\d+\)) ")

ProcessKey = tuple[int, float]  # pid and create time, so a reused pid is a new process


def cpu_seconds(process: psutil.Process) -> float | None:
    """User + system seconds of all its threads; None once it has gone or is hidden."""
    try:
        times = process.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return times.user + times.system


def is_bench_server_process(process: psutil.Process) -> bool:
    """A PostgreSQL server process that works for this bench: not another database's session."""
    try:
        name = process.name()
        title = " ".join(process.cmdline()).strip()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    if name != "postgres" and not title.startswith("postgres:"):
        return False
    client = CLIENT_BACKEND.match(title)
    return client is None or client.group(1) == BENCH_DATABASE


def read_cpu(processes: Iterable[psutil.Process]) -> dict[ProcessKey, float]:
    readings = {}
    for process in processes:
        try:
            key = (process.pid, process.create_time())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        seconds = cpu_seconds(process)
        if seconds is not None:
            readings[key] = seconds
    return readings


def server_processes() -> list[psutil.Process]:
    return [process for process in psutil.process_iter() if is_bench_server_process(process)]


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot: everything but idle and iowait."""
    times = psutil.cpu_times()
    # Linux counts guest time inside user already; adding it again would double it.
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    return sum(times) - guest - times.idle - getattr(times, "iowait", 0.0)


@dataclass(frozen=True)
class CpuSnapshot:
    workers: dict[ProcessKey, float]
    server: dict[ProcessKey, float]
    driver: float
    machine_busy: float

    @classmethod
    def take(cls, workers: list[psutil.Process]) -> CpuSnapshot:
        return cls(
            workers=read_cpu(workers),
            server=read_cpu(server_processes()),
            driver=time.process_time(),
            machine_busy=machine_busy_seconds(),
        )


def cpu_used(start: dict[ProcessKey, float], end: dict[ProcessKey, float]) -> float:
    """CPU seconds between the readings; a process that started in between counts whole."""
    return sum(seconds - start.get(key, 0.0) for key, seconds in end.items())


@dataclass(frozen=True)
class Phase:
    """One throughput phase: its rate and where the machine's CPU went meanwhile."""

    jobs: int
    wall: float
    worker_cpu: float
    server_cpu: float
    driver_cpu: float
    machine_busy: float
    lost_backends: int

    @classmethod
    def between(cls, jobs: int, *, wall: float, start: CpuSnapshot, end: CpuSnapshot) -> Phase:
        return cls(
            jobs=jobs,
            wall=wall,
            worker_cpu=cpu_used(start.workers, end.workers),
            server_cpu=cpu_used(start.server, end.server),
            driver_cpu=end.driver - start.driver,
            machine_busy=end.machine_busy - start.machine_busy,
            lost_backends=len(start.server.keys() - end.server.keys()),
        )

    @property
    def rate(self) -> float:
        return self.jobs / self.wall

    @property
    def worker_cpu_per_job(self) -> float:
        return self.worker_cpu / self.jobs

    @property
    def server_cpu_per_job(self) -> float:
        return self.server_cpu / self.jobs

    @property
    def cpu_per_job(self) -> float:
        return self.worker_cpu_per_job + self.server_cpu_per_job

    @property
    def cores_used(self) -> float:
        """Cores the workers and PostgreSQL kept busy, on average over the phase."""
        return (self.worker_cpu + self.server_cpu) / self.wall

    @property
    def ceiling_ratio(self) -> float:
        return (os.cpu_count() or 1) / self.cores_used

    def describe(self, label: str) -> str:
        lost = f"; {self.lost_backends} backends exited, uncounted" if self.lost_backends else ""
        return (
            f"  {label}: {self.rate:,.0f} jobs/s; CPU per job: workers "
            f"{self.worker_cpu_per_job * 1e6:,.0f} µs, PostgreSQL "
            f"{self.server_cpu_per_job * 1e6:,.0f} µs; cores busy: workers "
            f"{self.worker_cpu / self.wall:.2f}, PostgreSQL {self.server_cpu / self.wall:.2f}, "
            f"this driver {self.driver_cpu / self.wall:.2f}, "
            f"machine {self.machine_busy / self.wall:.2f} of {os.cpu_count()}{lost}"
        )


def describe_ceiling(one: Phase, three: Phase) -> list[str]:
    """Each phase's CPU, then what the machine allows against what three processes got."""
    return [
        one.describe("1 process"),
        three.describe("3 processes"),
        f"  ceiling 3/1 on {os.cpu_count()} cores at the 1-process cost: "
        f"{one.ceiling_ratio:.2f}; measured 3/1: {three.rate / one.rate:.2f}",
        f"  CPU per job 3/1 (contention cost): {three.cpu_per_job / one.cpu_per_job:.2f} "
        f"(workers {three.worker_cpu_per_job / one.worker_cpu_per_job:.2f}, "
        f"PostgreSQL {three.server_cpu_per_job / one.server_cpu_per_job:.2f})",
    ]


async def process_throughput(
    url: str, jobs: int, processes: int, *, work_ms: float = 0.0, concurrency: int = 100
) -> Phase:
    database = Database(url)
    try:
        options = ["--work-ms", str(work_ms), "--concurrency", str(concurrency)]
        workers = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", url, *options],
                stdout=subprocess.PIPE,
                cwd=ROOT,
            )
            for _ in range(processes)
        ]
        for process in workers:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == b"ready"
        await asyncio.sleep(0.5)  # listeners connect
        watched = [psutil.Process(process.pid) for process in workers]
        await add_jobs(database, jobs)
        began = time.perf_counter()
        start = CpuSnapshot.take(watched)
        await wait_done(database, jobs)
        done = time.perf_counter()
        # Before the workers stop, while their backends still exist to be read.
        end = CpuSnapshot.take(watched)
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(30)
        await clear_jobs(database)
    finally:
        await database.dispose()
    return Phase.between(jobs, wall=done - began, start=start, end=end)


async def serve_worker(url: str, *, work_ms: float, concurrency: int) -> None:
    print("ready", flush=True)
    registry = noop_registry(work_seconds=work_ms / 1000)
    await run_worker_process(url, registry, concurrency=concurrency)


# 3. Idle latency


async def idle_latency(database: Database, samples: int) -> tuple[float, float, float]:
    """(p50, p99, max) in ms from commit to handler start, with the worker idle."""
    started = asyncio.Event()
    starts: list[float] = []

    def on_run() -> None:
        starts.append(time.perf_counter())
        started.set()

    worker = Worker(database, with_timers(noop_registry(on_run), []), poll_interval=30.0)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.5)
    latencies = []
    for n in range(samples):
        started.clear()
        async with database.write() as session:
            await enqueue(session, kind=KIND, payload={}, dedupe_key=f"idle:{n}:{time.time()}")
        committed = time.perf_counter()
        signals.notify_enqueued()
        await asyncio.wait_for(started.wait(), 5)
        latencies.append((starts[-1] - committed) * 1000)
        await asyncio.sleep(0.01)  # let it go idle again
    stop.set()
    await task
    await clear_kind(database, KIND)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return statistics.median(latencies), p99, latencies[-1]


# 4. Timers

TIMER_KIND = "bench.timer"


def with_timers(registry: HandlerRegistry, lateness: list[float]) -> HandlerRegistry:
    """Adds the timers' kind: each records how late it started after its due time."""

    @registry.handler(RawKind(TIMER_KIND))
    async def timer(payload: dict[str, Any]) -> None:
        due = datetime.fromisoformat(payload["due"])
        lateness.append((utcnow() - due).total_seconds())

    return registry


async def add_timers(database: Database, count: int, *, first: datetime, spread: float) -> None:
    """`count` pending timers without a queue, due from `first` over `spread` seconds."""
    now = utcnow()
    rows = []
    for n in range(count):
        due = first + timedelta(seconds=spread * n / count)
        row = job_row(
            TIMER_KIND, {"due": due.isoformat()}, f"timer:{n}:{now.timestamp()}", None, now
        )
        rows.append({**row, "run_at": due})
    async with database.writer.begin() as connection:
        for start in range(0, count, 5000):
            await connection.execute(insert(JOB), rows[start : start + 5000])


async def clear_kind(database: Database, kind: str) -> None:
    async with database.writer.begin() as connection:
        ids = select(JOB.c.id).where(JOB.c.kind == kind).scalar_subquery()
        await connection.execute(ATTEMPT.delete().where(ATTEMPT.c.job_id.in_(ids)))
        await connection.execute(JOB.delete().where(JOB.c.kind == kind))


async def timer_lateness(database: Database, count: int) -> tuple[float, float, float]:
    """(p50, p99, max) seconds from each timer's due time to its handler's start, for
    `count` timers due over 20 seconds, with the worker running from before the first."""
    lateness: list[float] = []
    await add_timers(database, count, first=utcnow() + timedelta(seconds=3), spread=20.0)
    worker = Worker(database, with_timers(noop_registry(), lateness), concurrency=100)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 120
    while len(lateness) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.set()
    await task
    await clear_jobs(database)
    assert len(lateness) == count, f"{count - len(lateness)} timers never ran"
    lateness.sort()
    return statistics.median(lateness), lateness[int(count * 0.99) - 1], lateness[-1]


async def timers_report(database: Database, label: str, samples: int, timers: int) -> None:
    p50, p99, worst = await idle_latency(database, samples)
    print(
        f"{label} idle enqueue→start, no timers: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"max {worst:.2f}"
    )
    await add_timers(database, timers, first=utcnow() + timedelta(hours=1), spread=3600.0)
    p50, p99, worst = await idle_latency(database, samples)
    print(
        f"{label} idle enqueue→start, {timers:,} timers pending: p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max {worst:.2f}"
    )
    await clear_jobs(database)
    p50, p99, worst = await timer_lateness(database, timers)
    print(
        f"{label} {timers:,} timers due over 20 s, late by: p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms (target max ≤ 2000 ms)"
    )


async def throughput_with_timers(database: Database, jobs: int, timers: int) -> float:
    await add_timers(database, timers, first=utcnow() + timedelta(hours=1), spread=3600.0)
    return await in_process_throughput(database, jobs)  # clears the timers too


async def fresh_postgres(url: str) -> str:
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await admin.close()
    return url.rsplit("/", 1)[0] + "/" + BENCH_DATABASE


async def drop_postgres(url: str) -> None:
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    finally:
        await admin.close()


async def migrated(url: str) -> Database:
    database = Database(url)
    await upgrade(database)
    return database


async def main(arguments: argparse.Namespace) -> None:
    jobs = arguments.jobs
    with tempfile.TemporaryDirectory() as directory:
        sqlite = await migrated(f"sqlite+aiosqlite:///{directory}/bench.db")
        try:
            bare = await bare_queue(sqlite, jobs)
            engine = await in_process_throughput(sqlite, jobs)
            print(f"SQLite, 1 process: bare queue {bare:,.0f} jobs/s, engine {engine:,.0f} jobs/s")
            print(f"  ratio engine/bare: {engine / bare:.2f}")
            p50, p99, worst = await idle_latency(sqlite, arguments.samples)
            print(f"SQLite idle enqueue→start: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f}")
            if arguments.timers:
                timers = arguments.timers
                with_pending = await throughput_with_timers(sqlite, jobs, timers)
                without = await in_process_throughput(sqlite, jobs)
                print(
                    f"SQLite engine, {timers:,} timers pending: {with_pending:,.0f} jobs/s, "
                    f"none: {without:,.0f} jobs/s, ratio {with_pending / without:.2f}"
                )
                await timers_report(sqlite, "SQLite", arguments.samples, timers)
        finally:
            await sqlite.dispose()
    if arguments.no_postgres:
        return
    url = await fresh_postgres(arguments.postgres_url)
    postgres = await migrated(url)
    try:
        p50, p99, worst = await idle_latency(postgres, arguments.samples)
        print(f"PostgreSQL idle enqueue→start: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f}")
        if arguments.timers:
            await timers_report(postgres, "PostgreSQL", arguments.samples, arguments.timers)
        if arguments.timers_only:
            return
        one = await process_throughput(url, jobs, 1)
        three = await process_throughput(url, jobs, 3)
        print(f"PostgreSQL: 1 process {one.rate:,.0f} jobs/s, 3 processes {three.rate:,.0f} jobs/s")
        print(f"  ratio 3/1: {three.rate / one.rate:.2f}")
        print("\n".join(describe_ceiling(one, three)))
        # Real jobs wait on an API; then one process is bound by its concurrency, not CPU.
        one = await process_throughput(url, jobs // 4, 1, work_ms=5, concurrency=16)
        three = await process_throughput(url, jobs // 4, 3, work_ms=5, concurrency=16)
        print(
            f"PostgreSQL, 5 ms of I/O per job, 16 at a time per process: "
            f"1 process {one.rate:,.0f} jobs/s, 3 processes {three.rate:,.0f} jobs/s"
        )
        print(f"  ratio 3/1: {three.rate / one.rate:.2f}")
        print("\n".join(describe_ceiling(one, three)))
    finally:
        await postgres.dispose()
        await drop_postgres(arguments.postgres_url)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--timers", type=int, default=10_000, help="0: skip the timers' part")
    parser.add_argument(
        "--timers-only", action="store_true", help="on PostgreSQL, stop after the timers"
    )
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--work-ms", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=100, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    options = parse()
    if options.worker:
        asyncio.run(
            serve_worker(options.worker, work_ms=options.work_ms, concurrency=options.concurrency)
        )
    else:
        asyncio.run(main(options))
