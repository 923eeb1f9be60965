"""A process that runs the job worker (`leadrelay serve --role worker`), until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from jobs.ratelimit import RateLimits
from jobs.registry import HandlerRegistry
from jobs.worker import Worker
from storage.database import Database

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set `stop` on SIGTERM or SIGINT; returns a function that puts the old handlers back."""
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)

    def restore() -> None:
        for signum in STOP_SIGNALS:
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)

    return restore


async def run_worker_process(
    database_url: str,
    registry: HandlerRegistry,
    *,
    concurrency: int = 32,
    lease: float = 60.0,
    poll_interval: float | None = None,
    shutdown_timeout: float = 20.0,
    rate_limits: RateLimits | None = None,
    name: str | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run a worker on its own database connections until SIGTERM/SIGINT (or `stop`).

    On the signal it stops claiming, lets running jobs finish within `shutdown_timeout`
    and hands the rest back (pending, due now) before returning.
    """
    stop = stop or asyncio.Event()
    restore = install_stop_signals(stop)
    database = Database(database_url)
    try:
        worker = Worker(
            database,
            registry,
            concurrency=concurrency,
            lease=lease,
            poll_interval=poll_interval,
            shutdown_timeout=shutdown_timeout,
            rate_limits=rate_limits,
            name=name,
        )
        await worker.run(stop)
    finally:
        restore()
        await database.dispose()
