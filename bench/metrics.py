"""`/metrics` with a million done jobs, and the retention's prune of them.

    .venv/bin/python bench/metrics.py [--done 1000000] [--postgres-url URL | --no-postgres]

For each database (a fresh SQLite file; a database of its own on the PostgreSQL server):
the real service (`leadrelay serve --role web`, a subprocess on loopback) is scraped over
HTTP, `--scrapes` times for each figure, and the median is reported:

1. baseline: `/metrics` with a small live queue (300 pending, 20 running, 20 dead jobs of
   a few kinds) and no done job; `/healthz` (one trivial query) beside it;
2. the same scrape after `--done` done jobs are bulk-inserted (INSERT … SELECT from a
   recursive CTE on SQLite, generate_series on PostgreSQL), each with one attempt; on
   PostgreSQL once straight after the insert and once after ANALYZE (what autovacuum
   does soon after);
3. for scale: the old depth query (every job grouped by kind and state) timed directly;
4. the prune of all of them (finished 40 days ago, retention 30), in-process, in batches
   of 500: rows/s, and the longest batch (how long the writer is held at a time).

The target: the scrape with ≥ 1,000,000 done jobs under 50 ms on both databases, and
about the baseline (the ratio is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.retention import RetentionSettings, prune  # noqa: E402
from bench.pg_database import drop_database, recreate_database  # noqa: E402
from domain.jobs import (  # noqa: E402
    CRM5_DEAL,
    FLEXBE_STATUS,
    NOTIFY,
    TELEGRAM_QUEUE_PREFIX,
    TELEGRAM_UPDATE,
)
from storage.clock import utcnow  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from testkit.service import Service, service_environment  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "leadrelay_bench_metrics"
LIVE_KINDS = tuple(kind.name for kind in (NOTIFY, FLEXBE_STATUS, CRM5_DEAL, TELEGRAM_UPDATE))
OLD_DEPTH_QUERY = "SELECT kind, status, count(*) FROM job GROUP BY kind, status"


def _fill_sql(postgres: bool, count: int) -> list[str]:
    """Done jobs `notify` finished 40 days ago, one attempt each, ids after the live ones."""
    kind, queue = f"'{NOTIFY.name}'", f"'{TELEGRAM_QUEUE_PREFIX}' || (n % 50)"
    if postgres:
        old = "now() - interval '40 days'"
        series = f"generate_series(1, {count}) AS s(n)"
        return [
            "INSERT INTO job (kind, payload, dedupe_key, queue, status, attempts, max_attempts,"
            " run_at, created_at, updated_at, finished_at, postponements)"
            f" SELECT {kind}, '{{}}', 'bench:' || n, {queue}, 'done', 1, 8,"
            f" {old}, {old}, {old}, {old}, 0 FROM {series}",
            "INSERT INTO job_attempt (job_id, attempt, worker, started_at, finished_at, outcome)"
            f" SELECT id, 1, 'bench', {old}, {old}, 'done' FROM job WHERE status = 'done'",
        ]
    old = "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-40 days')"
    series = f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count})"
    return [
        f"{series} INSERT INTO job (kind, payload, dedupe_key, queue, status, attempts,"
        " max_attempts, run_at, created_at, updated_at, finished_at, postponements)"
        f" SELECT {kind}, '{{}}', 'bench:' || n, {queue}, 'done', 1, 8,"
        f" {old}, {old}, {old}, {old}, 0 FROM s",
        "INSERT INTO job_attempt (job_id, attempt, worker, started_at, finished_at, outcome)"
        f" SELECT id, 1, 'bench', {old}, {old}, 'done' FROM job WHERE status = 'done'",
    ]


async def add_live_jobs(database: Database) -> None:
    now = utcnow()
    rows = []
    for n in range(340):
        status = "pending" if n < 300 else "running" if n < 320 else "dead"
        rows.append(
            {
                "kind": LIVE_KINDS[n % len(LIVE_KINDS)],
                "key": f"live:{n}",
                "status": status,
                "run_at": now - timedelta(seconds=n),
            }
        )
    async with database.write() as session:
        await session.exec(  # type: ignore[call-overload]
            text(
                "INSERT INTO job (kind, payload, dedupe_key, status, attempts, max_attempts,"
                " run_at, created_at, updated_at, postponements)"
                " VALUES (:kind, '{}', :key, :status, 0, 8, :run_at, :run_at, :run_at, 0)"
            ),
            params=rows,
        )


async def fill(database: Database, count: int) -> float:
    started = time.perf_counter()
    async with database.write() as session:
        for statement in _fill_sql(not database.is_sqlite, count):
            await session.exec(text(statement))  # type: ignore[call-overload]
    return time.perf_counter() - started


async def timed_sql(database: Database, sql: str, runs: int = 5) -> float:
    times = []
    async with database.reader.connect() as connection:
        for _ in range(runs):
            started = time.perf_counter()
            (await connection.exec_driver_sql(sql)).all()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def median_ms(client: httpx.AsyncClient, url: str, scrapes: int) -> float:
    for _ in range(10):  # warm: the pool's connections, their prepared statements
        await client.get(url)
    times = []
    for _ in range(scrapes):
        started = time.perf_counter()
        response = await client.get(url)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return statistics.median(times) * 1000


async def timed_prune(database: Database) -> tuple[int, float, float, float]:
    """All old rows pruned: (rows, seconds, median and longest batch in ms)."""
    batches: list[float] = []
    mark = time.perf_counter()

    async def pause() -> None:
        nonlocal mark
        now = time.perf_counter()
        batches.append(now - mark)
        await asyncio.sleep(0)
        mark = time.perf_counter()

    started = time.perf_counter()
    report = await prune(database, RetentionSettings(), now=utcnow(), pause=pause)
    seconds = time.perf_counter() - started
    return (
        report.total,
        seconds,
        statistics.median(batches or [0.0]) * 1000,
        max(batches, default=0.0) * 1000,
    )


async def bench(name: str, url: str, args: argparse.Namespace) -> None:
    database = Database(url)
    await upgrade(database)
    await add_live_jobs(database)
    workdir = tempfile.TemporaryDirectory(prefix="leadrelay-bench-metrics-")
    env = service_environment(LEADRELAY_DATABASE_URL=url, LEADRELAY_LOG_LEVEL="WARNING")
    service = Service(env, Path(workdir.name), "--role", "web")
    try:
        await service.start()
        async with httpx.AsyncClient(timeout=60) as client:
            metrics, health = f"{service.url}/metrics", f"{service.url}/healthz"
            base = await median_ms(client, metrics, args.scrapes)
            trivial = await median_ms(client, health, args.scrapes)
            seconds = await fill(database, args.done)
            print(f"{name}: {args.done:,} done jobs (+ attempts) inserted in {seconds:.1f} s")
            rows = [("0 done (baseline)", base)]
            full = await median_ms(client, metrics, args.scrapes)
            rows.append((f"{args.done:,} done", full))
            if not database.is_sqlite:
                async with database.writer.connect() as connection:
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await connection.exec_driver_sql("ANALYZE job")
                analysed = await median_ms(client, metrics, args.scrapes)
                rows.append((f"{args.done:,} done, after ANALYZE", analysed))
            old = await timed_sql(database, OLD_DEPTH_QUERY)
    finally:
        await service.stop()
        workdir.cleanup()
    print(f"  /healthz median {trivial:.1f} ms (a trivial endpoint, for scale)")
    for label, value in rows:
        print(f"  /metrics median {value:6.1f} ms  ratio {value / base:4.2f}  [{label}]")
    print(f"  the old depth query (every job grouped) alone: {old:.0f} ms")
    verdict = "met" if max(v for _, v in rows) < 50 else "MISSED"
    print(f"  target < 50 ms with {args.done:,} done jobs: {verdict}")
    if args.prune:
        removed, seconds, median, longest = await timed_prune(database)
        print(
            f"  prune: {removed:,} rows (jobs with their attempts) in {seconds:.1f} s, "
            f"{removed / seconds:,.0f} jobs/s; a batch of 500 holds the writer "
            f"{median:.0f} ms (median), {longest:.0f} ms at most"
        )
    await database.dispose()


async def with_postgres(url: str, args: argparse.Namespace) -> None:
    own = await recreate_database(url, BENCH_DATABASE)
    try:
        await bench("PostgreSQL", own, args)
    finally:
        await drop_database(url, BENCH_DATABASE)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--done", type=int, default=1_000_000, help="done jobs to insert")
    parser.add_argument("--scrapes", type=int, default=31, help="scrapes per median")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-prune", dest="prune", action="store_false")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as directory:
            await bench("SQLite", f"sqlite+aiosqlite:///{directory}/bench.db", args)
    if not args.no_postgres:
        await with_postgres(args.postgres_url, args)


if __name__ == "__main__":
    asyncio.run(main())
