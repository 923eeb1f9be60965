"""SQLite's WAL is checkpointed by a thread of its own, not inside the commits of intake."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from storage.checkpoint import WalCheckpointer, checkpoint
from storage.database import Database

PAGE = 4096
# SQLite's own default: a commit that takes the WAL past this many pages checkpoints it.
AUTOCHECKPOINT_PAGES = 1000
ROW = b"x" * (2 * PAGE)


def _insert_rows(count: int) -> Callable[[Connection], None]:
    def work(connection: Connection) -> None:
        connection.execute(text("CREATE TABLE IF NOT EXISTS blob (data BLOB)"))
        connection.execute(text("INSERT INTO blob (data) VALUES (:data)"), [{"data": ROW}] * count)

    return work


def _wal_pages(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // PAGE if wal.exists() else 0


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.005)


async def test_intake_commits_leave_the_wal_to_the_checkpoint_thread(tmp_path: Path) -> None:
    path = tmp_path / "leadrelay.db"
    # An hour between checkpoints: none runs during the test.
    database = Database(f"sqlite+aiosqlite:///{path}", checkpoint_interval=3600)
    try:
        for _ in range(10):
            await database.run_in_transaction(_insert_rows(80))  # ~160 pages each

        with sqlite3.connect(path) as connection:
            frames, copied = checkpoint(connection)
        # Had a commit checkpointed, the commits after it would have started the WAL over.
        assert frames > AUTOCHECKPOINT_PAGES
        assert copied == frames, "nothing held the checkpoint back"
    finally:
        await database.dispose()


async def test_the_checkpoint_thread_keeps_the_wal_small_under_writes(tmp_path: Path) -> None:
    path = tmp_path / "leadrelay.db"
    database = Database(f"sqlite+aiosqlite:///{path}", checkpoint_interval=0.01)
    try:
        largest = 0
        for _ in range(40):
            await database.run_in_transaction(_insert_rows(40))  # ~80 pages each
            checkpointer = database.checkpointer
            assert checkpointer is not None
            done = checkpointer.checkpoints
            await _until(lambda: checkpointer.checkpoints > done)  # noqa: B023
            largest = max(largest, _wal_pages(path))
        # 3,200 pages were written; each checkpoint lets the next commit start the WAL over.
        assert largest < 400, f"the WAL grew to {largest} pages"
        async with database.reader.connect() as connection:
            stored = (await connection.execute(text("SELECT count(*) FROM blob"))).scalar_one()
        assert stored == 40 * 40
    finally:
        await database.dispose()
    assert database.checkpointer is None, "dispose stops the thread"


async def test_under_writes_that_never_pause_the_writer_bounds_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "leadrelay.db"
    # No pause lets the WAL start over, and the thread does not run: the writer's own
    # checkpoint, far less often than SQLite's default, must still keep the file bounded.
    database = Database(f"sqlite+aiosqlite:///{path}", checkpoint_interval=3600)
    try:
        largest = 0
        for _ in range(150):  # 12,000 pages, one commit straight after another
            await database.run_in_transaction(_insert_rows(40))
            largest = max(largest, _wal_pages(path))
    finally:
        await database.dispose()
    assert 4 * AUTOCHECKPOINT_PAGES < largest < 9_000


def test_a_failing_checkpoint_is_said_once_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = tmp_path / "no-such-directory" / "leadrelay.db"
    checkpointer = WalCheckpointer(create_engine(f"sqlite:///{unreachable}"), interval=0.005)
    with caplog.at_level(logging.WARNING, logger="storage.checkpoint"):
        checkpointer.start()
        try:
            asyncio.run(_until(lambda: checkpointer.failures >= 3))
        finally:
            checkpointer.stop()
    warnings = [r.getMessage() for r in caplog.records if r.name == "storage.checkpoint"]
    assert len(warnings) == 1
    assert "SQLite WAL checkpoint failed, will retry" in warnings[0]
    assert checkpointer.checkpoints == 0
