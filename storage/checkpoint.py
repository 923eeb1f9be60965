"""SQLite WAL checkpoints in a thread of their own, off the write path.

By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that
commit copies the WAL into the database file and waits for two fsyncs, 20-30 ms during
which no webhook can be stored (more on a slow disk), every few dozen batches under load.
This thread runs a PASSIVE checkpoint every `interval` instead: it waits for no reader or
writer, and the driver releases the GIL while it copies and syncs, so intake goes on.

Once a checkpoint has copied the whole WAL, the next commit starts the file over, which
needs a moment with no commit in flight: any pause in the webhooks gives one. Under writes
that never pause, the writer's own checkpoint is the backstop, at `WRITER_CHECKPOINT_PAGES`
(the writer connection's `wal_autocheckpoint`): it keeps the WAL bounded, and finds most of
its copying already done.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 0.5
WRITER_CHECKPOINT_PAGES = 8_000  # 32 MiB of 4 KiB pages


class WalCheckpointer:
    def __init__(self, engine: Engine, *, interval: float = CHECKPOINT_INTERVAL) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self.checkpoints = 0
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the checkpoint in progress, if any; closing the last connection then
        checkpoints what is left."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._engine.dispose()

    def _run(self) -> None:
        connection: Any = None
        try:
            while not self._stop.wait(self._interval):
                try:
                    if connection is None:
                        connection = self._engine.raw_connection()
                    checkpoint(connection)
                except Exception as exc:  # a locked or vanished file: try again next time
                    self._failed(exc)
                    _close_quietly(connection)
                    connection = None
                else:
                    self._succeeded()
        finally:
            _close_quietly(connection)

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        # Said once per run of failures: while they last, the WAL grows.
        if self.failures == 1:
            log.warning("SQLite WAL checkpoint failed, will retry: %s", exc)

    def _succeeded(self) -> None:
        if self.failures:
            log.info("SQLite WAL checkpoints work again after %d failures", self.failures)
            self.failures = 0
        self.checkpoints += 1


def checkpoint(connection: Any) -> tuple[int, int]:
    """One PASSIVE checkpoint through a DB-API connection: the frames in the WAL, and how
    many of them are now in the database file."""
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, frames, copied = cursor.fetchone()
    finally:
        cursor.close()
    return int(frames), int(copied)


def _close_quietly(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()
