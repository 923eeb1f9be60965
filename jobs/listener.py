"""LISTEN for new jobs on PostgreSQL, so a worker wakes as soon as any process enqueues.

A dedicated asyncpg connection (NOTIFY needs one that is never returned to a pool). If it
drops, the worker keeps polling and this reconnects after a pause.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from jobs.signals import CHANNEL

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 5.0


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def listen(
    url: str,
    on_notify: Callable[[], None],
    *,
    ready: asyncio.Event | None = None,
    reconnect_seconds: float = RECONNECT_SECONDS,
) -> None:
    """Call `on_notify` for each notification until cancelled. Sets `ready` once listening."""
    while True:
        closed = asyncio.Event()
        connection: Any = None
        try:
            connection = await asyncpg.connect(asyncpg_dsn(url))
            connection.add_termination_listener(functools.partial(_set, closed))
            await connection.add_listener(CHANNEL, lambda *_args: on_notify())
            if ready is not None:
                ready.set()
            # Anything committed before we listened was missed: look once.
            on_notify()
            await closed.wait()
            log.warning("job notifications connection closed; reconnecting")
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cannot listen for job notifications (%s); polling meanwhile", exc)
        finally:
            if connection is not None and not connection.is_closed():
                await connection.close()
        await asyncio.sleep(reconnect_seconds)


def _set(event: asyncio.Event, _connection: object) -> None:
    event.set()
