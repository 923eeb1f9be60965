"""Worker subprocesses for the crash and multi-process tests, and bulk job setup."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import func, insert, select

from jobs.store import JOB
from storage.clock import utcnow
from storage.database import Database
from storage.queries.jobs import job_row
from tests.jobs.testing_worker import EXECUTION, KIND

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name

    @classmethod
    async def start(cls, url: str, name: str, log: Path, *options: str) -> WorkerProcess:
        with log.open("ab") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.jobs.testing_worker",
                url,
                "--name",
                name,
                *options,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.strip() == b"ready", f"worker {name} did not start: see {log}"
        return cls(process, name)

    async def stop(self, timeout: float = 30) -> int:
        self.process.terminate()
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        self.process.kill()
        await self.process.wait()


async def create_execution_table(database: Database) -> None:
    async with database.writer.begin() as connection:
        await connection.run_sync(EXECUTION.metadata.create_all)


async def add_probe_jobs(database: Database, count: int, *, queues: int = 0) -> None:
    now = utcnow()
    rows = [
        job_row(KIND, {}, f"probe:{n}", f"q{n % queues}" if queues else None, now)
        for n in range(count)
    ]
    async with database.writer.begin() as connection:
        await connection.execute(insert(JOB), rows)


async def count_status(database: Database, status: str) -> int:
    async with database.reader.connect() as connection:
        query = select(func.count()).select_from(JOB).where(JOB.c.status == status)
        return (await connection.execute(query)).scalar_one()


async def wait_for_done(database: Database, at_least: int, *, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while await count_status(database, "done") < at_least:
            await asyncio.sleep(0.02)
