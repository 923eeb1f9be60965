"""SQLite's database, WAL and shared-memory files are readable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.database import Database
from storage.migrate import upgrade
from storage.models import Site


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default: files world-readable unless the service says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(path: Path) -> dict[str, int]:
    files = [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))]
    return {file.name: stat.S_IMODE(file.stat().st_mode) for file in files}


@pytest.mark.usefixtures("open_umask")
async def test_new_database_files_are_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "leadrelay.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(database)
        async with database.write() as session:
            session.add(Site(key="okna", name="Окна"))
        await database.run_in_transaction(lambda _connection: None)  # the writer thread too

        assert modes(path) == {
            "leadrelay.db": 0o600,
            "leadrelay.db-wal": 0o600,
            "leadrelay.db-shm": 0o600,
        }
    finally:
        await database.dispose()


@pytest.mark.usefixtures("open_umask")
async def test_files_left_readable_by_an_older_version_are_closed_up(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(first)
    async with first.write() as session:
        session.add(Site(key="okna", name="Окна"))
    for file in tmp_path.iterdir():
        file.chmod(0o644)
    second = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with second.read() as session:
            assert await session.get(Site, "okna") is not None

        assert set(modes(path).values()) == {0o600}
    finally:
        await first.dispose()
        await second.dispose()
