"""What the multi-process tests wait for, in real time (the services run apart from the
test's loop): a condition, and a service's worker at work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlmodel import col, select

from storage.database import Database
from storage.models import JobWorker
from testkit.service import Service


async def until(check: Callable[[], bool], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.1)


async def worker_registered(database: Database, service: Service) -> None:
    """Until the service's worker heartbeats: it is taking over and running jobs."""
    assert service.process is not None
    pattern = f"%:{service.process.pid}:%"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        async with database.read() as session:
            found = (
                await session.exec(select(JobWorker.name).where(col(JobWorker.name).like(pattern)))
            ).first()
        if found is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the worker of {service.process.pid} never began")
