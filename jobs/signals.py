"""Waking workers when there is work, instead of polling on a timer.

In the same process, whoever commits new jobs calls `notify_enqueued()` (or a worker's own
`wakeup.notify`) after the commit. Across processes PostgreSQL delivers a NOTIFY from the
`job` table's insert trigger (jobs.listener); SQLite workers poll briefly instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from sqlalchemy import text

from storage.database import Database

CHANNEL = "leadrelay_jobs"


class Wakeup:
    """A latch a worker waits on; `notify()` may be called from any thread."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def notify(self) -> None:
        loop = self._loop
        if loop is None or _running_loop() is loop:
            self._event.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._event.set)

    def clear(self) -> None:
        self._event.clear()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, timeout: float | None) -> bool:
        """Until notified or `timeout` seconds pass; True if notified."""
        self._loop = asyncio.get_running_loop()
        if self._event.is_set():
            await asyncio.sleep(0)  # never return without letting others run
            return True
        if timeout is not None and timeout <= 0:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._event.wait()
        return self._event.is_set()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_active: set[Wakeup] = set()
_active_lock = threading.Lock()


def register(wakeup: Wakeup) -> None:
    with _active_lock:
        _active.add(wakeup)


def unregister(wakeup: Wakeup) -> None:
    with _active_lock:
        _active.discard(wakeup)


def notify_enqueued() -> None:
    """Wake every worker running in this process: call it after committing new jobs."""
    with _active_lock:
        targets = list(_active)
    for wakeup in targets:
        wakeup.notify()


async def publish(database: Database) -> None:
    """Wake workers in other processes too, where an insert trigger does not (a retry)."""
    notify_enqueued()
    if not database.is_sqlite:
        async with database.writer.begin() as connection:
            await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
