"""The repeat look-up on the card's path: its cost against the card's own read of the lead.

    .venv/bin/python bench/repeats.py [--leads 200000] [--samples 2000]
        [--postgres-url URL | --no-postgres]

For each database (a fresh SQLite file; a database of its own on the PostgreSQL server),
`--leads` leads are bulk-inserted, each client writing one to five times (phones and
e-mails shared accordingly), and ANALYZEd. Then, for `--samples` random leads, in turns:
the baseline — the notifier's read of the lead by primary key — and the repeat look-up
(`storage.queries.repeats.find_repeat`, 90 days). Printed: each one's median and p99 in
ms, and the ratio of the medians. The target: the look-up within a few primary-key reads,
whatever the table holds (it seeks the phone and e-mail indexes, never the table).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pg_database import recreate_database  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Lead  # noqa: E402
from storage.queries.repeats import find_repeat  # noqa: E402
from storage.queries.sites import ensure_sites  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "leadrelay_bench_repeats"
START = datetime(2026, 6, 1, tzinfo=UTC)


def _rows(count: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    client = 0
    rng = random.Random(7)
    while len(rows) < count:
        client += 1
        for _ in range(rng.randint(1, 5)):
            n = len(rows)
            rows.append(
                {
                    "site_key": "okna" if n % 2 else "dveri",
                    "flexbe_id": n + 1,
                    "num": n + 1,
                    "created_at": START + timedelta(minutes=n),
                    "received_at": START + timedelta(minutes=n),
                    "updated_at": START + timedelta(minutes=n),
                    "client_phone_normalized": f"+7999{client:07d}",
                    "client_email_normalized": f"client{client}@example.ru",
                    "form_data": {},
                    "utm": {},
                }
            )
    return rows[:count]


async def _fill(database: Database, count: int) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна"), ("dveri", "Двери")])
    rows = _rows(count)
    for start in range(0, count, 5000):
        async with database.write() as session:
            connection = await session.connection()
            await connection.execute(insert(Lead), rows[start : start + 5000])
    async with database.write() as session:
        connection = await session.connection()
        await connection.exec_driver_sql("ANALYZE" if database.is_sqlite else "ANALYZE lead")


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


async def _measure(database: Database, count: int, samples: int) -> None:
    rng = random.Random(11)
    base: list[float] = []
    look: list[float] = []
    repeats = 0
    for _ in range(samples):
        lead_id = rng.randint(1, count)
        async with database.read() as session:
            began = time.perf_counter()
            lead = await session.get(Lead, lead_id)
            base.append(time.perf_counter() - began)
            assert lead is not None
            began = time.perf_counter()
            found = await find_repeat(session, lead=lead, window=timedelta(days=90))
            look.append(time.perf_counter() - began)
            repeats += found is not None
    ratio = statistics.median(look) / statistics.median(base)
    name = "SQLite" if database.is_sqlite else "PostgreSQL"
    print(f"{name}, {count:,} leads, {samples} cards ({repeats} repeats):")
    print(f"  baseline, the lead by primary key: {_figures(base)}")
    print(f"  repeat look-up:                    {_figures(look)}")
    print(f"  ratio of the medians: {ratio:.1f}")


async def _run(url: str, count: int, samples: int) -> None:
    database = Database(url)
    await upgrade(database)
    try:
        await _fill(database, count)
        await _measure(database, count, samples)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'repeats.db'}"
        asyncio.run(_run(url, args.leads, args.samples))
    if not args.no_postgres:
        own = asyncio.run(recreate_database(args.postgres_url, BENCH_DATABASE))
        asyncio.run(_run(own, args.leads, args.samples))


if __name__ == "__main__":
    main()
