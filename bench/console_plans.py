"""Every SQL statement each console page runs, with its plan and its time, at 100,000 leads.

    .venv/bin/python bench/console_plans.py [--leads 100000] [--postgres-url URL]

Fills a fresh database as `bench/console.py` does (on PostgreSQL a database of its own,
dropped at the end), serves the console in-process (httpx over ASGI), logs in, fetches each
page of `bench.console.pages` once to warm up and once more while recording the statements
the database receives; then shows, per page, how many statements it ran (a number that grows
with the rows shown is an N+1) and, for each, its plan (`EXPLAIN QUERY PLAN` on SQLite,
`EXPLAIN ANALYZE` on PostgreSQL) and the best of three timed runs. A line with a plan that
reads a whole table of leads, events or jobs is marked `SCAN`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datetime import UTC, datetime  # noqa: E402

from bench.console import (  # noqa: E402
    ADMIN_TOKEN,
    BENCH_DATABASE,
    WEBHOOK_TOKEN,
    fill,
    log_in_async,
    pages,
)
from bench.pg_database import drop_database, recreate_database  # noqa: E402
from config.settings import Settings  # noqa: E402
from config.sites import SiteConfig  # noqa: E402
from leadrelay.web import create_app  # noqa: E402
from storage.database import Database  # noqa: E402

# A plan step that reads a big table whole: SQLite's `SCAN lead` (not `SCAN … USING
# COVERING INDEX`, which is a range when bounded), PostgreSQL's `Seq Scan on lead`.
_SCAN = re.compile(
    r"(\bSCAN (lead|inbox_event|job)\b(?! USING)|Seq Scan on (lead|inbox_event|job)\b)"
)


@contextmanager
def recording(database: Database) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _m: bool) -> None:
        statements.append((statement, parameters))

    engines = {id(e.sync_engine): e.sync_engine for e in (database.reader, database.writer)}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", record)


async def plan_and_time(database: Database, statement: str, parameters: Any) -> tuple[str, float]:
    postgres = database.dialect == "postgresql"
    explain = "EXPLAIN ANALYZE " if postgres else "EXPLAIN QUERY PLAN "
    async with database.reader.connect() as connection:
        rows = (await connection.exec_driver_sql(explain + statement, parameters)).all()
        lines = [tuple(row) for row in rows]
        plan = "\n".join(
            str(line[0]) if postgres else f"{'  ' * (line[1] > 0)}{line[-1]}" for line in lines
        )
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            (await connection.exec_driver_sql(statement, parameters)).all()
            best = min(best, time.perf_counter() - started)
        await connection.rollback()
    return plan, best * 1000


async def survey(url: str, label: str, leads: int) -> None:
    seconds = await fill(url, leads)
    print(f"\n=== {label}: {leads:,} leads filled in {seconds:.1f} s")
    settings = Settings(
        _env_file=None,
        database_url=url,
        admin_token=SecretStr(ADMIN_TOKEN),
        webhook_token=SecretStr(WEBHOOK_TOKEN),
        sites=(SiteConfig(key="dveri", name="Двери", webhook_token=SecretStr(WEBHOOK_TOKEN * 2)),),
    )
    database = Database(url)
    app = create_app(settings=settings, database=database)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
            await log_in_async(client)
            for path in pages(leads // 2, datetime.now(UTC).date()):
                await client.get(path)
                with recording(database) as statements:
                    response = await client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                print(f"\n--- {path}: {len(statements)} statements")
                for statement, parameters in statements:
                    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                        print(f"  (not timed) {statement.split()[0]}")
                        continue
                    plan, took = await plan_and_time(database, statement, parameters)
                    mark = "SCAN " if _SCAN.search(plan) else ""
                    print(f"  {mark}{took:7.2f} ms  {' '.join(statement.split())[:160]}")
                    for line in plan.splitlines():
                        print(f"      {line}")
    finally:
        await app.state.intake.aclose()
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--postgres-url", help="also survey PostgreSQL (server URL)")
    parser.add_argument("--skip-sqlite", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadrelay-console-plans-") as folder:
        if not options.skip_sqlite:
            url = f"sqlite+aiosqlite:///{Path(folder)}/plans.db"
            asyncio.run(survey(url, "SQLite", options.leads))
        if options.postgres_url:
            pg = asyncio.run(recreate_database(options.postgres_url, BENCH_DATABASE))
            try:
                asyncio.run(survey(pg, "PostgreSQL", options.leads))
            finally:
                asyncio.run(drop_database(options.postgres_url, BENCH_DATABASE))


if __name__ == "__main__":
    main()
