"""A worker process for the crash and multi-process tests (test-only code).

    python -m tests.jobs.testing_worker DATABASE_URL [--lease S] [--concurrency N] ...

Runs jobs of kind `probe`: each execution is written to the `job_execution` table (which
the tests create; it is not part of the schema) and then sleeps `--work-ms`. Prints
"ready" once running. Stops cleanly on SIGTERM, like `leadrelay serve --role worker`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert

from jobs.registry import HandlerRegistry, RawKind, current_job
from jobs.runner import install_stop_signals
from jobs.worker import Worker
from storage.database import Database

KIND = "probe"
PROBE = RawKind(KIND)
EXECUTION = Table(
    "job_execution",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, nullable=False),
    Column("worker", String(128), nullable=False),
)


def _record(connection: Connection, *, job_id: int, worker: str) -> None:
    connection.execute(insert(EXECUTION), {"job_id": job_id, "worker": worker})


def build_registry(database: Database, *, work_seconds: float) -> HandlerRegistry:
    registry = HandlerRegistry()

    @registry.handler(PROBE)
    async def probe(payload: dict[str, Any]) -> None:
        record = functools.partial(
            _record, job_id=current_job().job_id, worker=current_job().worker
        )
        await database.run_in_transaction(record)
        if work_seconds:
            await asyncio.sleep(work_seconds)

    return registry


async def main(arguments: argparse.Namespace) -> None:
    database = Database(arguments.database_url)
    stop = asyncio.Event()
    restore = install_stop_signals(stop)
    try:
        worker = Worker(
            database,
            build_registry(database, work_seconds=arguments.work_ms / 1000),
            concurrency=arguments.concurrency,
            batch_size=arguments.batch_size,
            lease=arguments.lease,
            poll_interval=arguments.poll,
            name=arguments.name or f"worker-{os.getpid()}",
        )
        print("ready", flush=True)  # noqa: T201  (the parent test waits for it)
        await worker.run(stop)
    finally:
        restore()
        await database.dispose()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url")
    parser.add_argument("--name", default="")
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--poll", type=float, default=None)
    parser.add_argument("--work-ms", type=float, default=0.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main(parse()))
