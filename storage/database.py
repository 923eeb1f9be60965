"""Engine and sessions. SQLite runs in WAL mode with one writer connection; PostgreSQL pools."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.checkpoint import CHECKPOINT_INTERVAL, WRITER_CHECKPOINT_PAGES, WalCheckpointer
from storage.file_modes import private_sqlite_files
from storage.types import dump_json

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A unique key taken by another process between our look-up and our insert: the next
# attempt's look-up sees it committed. More than a few in a row means something else is wrong.
CONFLICT_ATTEMPTS = 3
T = TypeVar("T")
log = logging.getLogger(__name__)


class Database:
    """Owns the engines. `write()` is a transaction that commits on success, rolls back on error.

    On SQLite every write goes through a single connection that opens its transactions with
    `BEGIN IMMEDIATE`: in-process writers queue on it instead of failing with "database is
    locked", and a second process waits on the busy timeout. The WAL is checkpointed by a
    thread of its own (`storage.checkpoint`), not by whichever commit fills it.
    """

    def __init__(
        self, url: str, *, pool_size: int = 10, checkpoint_interval: float = CHECKPOINT_INTERVAL
    ) -> None:
        self.url = url
        self._checkpoint_interval = checkpoint_interval
        self.is_sqlite = url.startswith("sqlite")
        self._sync_writer: Engine | None = None
        self._sync_thread: ThreadPoolExecutor | None = None
        self._checkpointer: WalCheckpointer | None = None
        if self.is_sqlite:
            private_sqlite_files(url)
            self.writer = _sqlite_engine(url, immediate=True, pool_size=1)
            self.reader = _sqlite_engine(url, immediate=False, pool_size=pool_size)
        else:
            self.writer = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                json_serializer=dump_json,
            )
            self.reader = self.writer
        self._write_sessions = async_sessionmaker(
            self.writer, class_=AsyncSession, expire_on_commit=False
        )
        self._read_sessions = async_sessionmaker(
            self.reader, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @property
    def checkpointer(self) -> WalCheckpointer | None:
        """SQLite's WAL checkpoint thread, once the first write through the writer thread
        has started it."""
        return self._checkpointer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session:
            yield session

    async def run_in_transaction(self, work: Callable[[Connection], T]) -> T:
        """Run synchronous `work` in one write transaction, committed when it returns.

        On SQLite it runs whole in a dedicated writer thread: one hop from the event loop
        for the transaction instead of one per statement, which under load is the
        difference between a few and tens of milliseconds.
        """
        if not self.is_sqlite:
            async with self.writer.begin() as connection:
                return await connection.run_sync(work)
        if self._sync_thread is None:
            self._sync_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._sync_writer = _sqlite_sync_engine(self.url)
            self._checkpointer = WalCheckpointer(
                _sqlite_checkpoint_engine(self.url), interval=self._checkpoint_interval
            )
            self._checkpointer.start()
        engine = self._sync_writer
        assert engine is not None

        def transaction() -> T:
            with engine.begin() as connection:
                return work(connection)

        return await asyncio.get_running_loop().run_in_executor(self._sync_thread, transaction)

    async def ping(self) -> None:
        async with self.reader.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
            self._checkpointer = None
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
        if self._sync_thread is not None and self._sync_writer is not None:
            engine, self._sync_writer = self._sync_writer, None
            await asyncio.get_running_loop().run_in_executor(self._sync_thread, engine.dispose)
            self._sync_thread.shutdown(wait=True)
            self._sync_thread = None


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        connect_args={"timeout": 30},
        json_serializer=dump_json,
    )
    _configure_sqlite(engine.sync_engine, immediate=immediate)
    return engine


def _sqlite_sync_engine(url: str) -> Engine:
    # Used from the one writer thread only; WalCheckpointer does its checkpoints.
    engine = create_engine(
        _sync_url(url),
        pool_size=1,
        max_overflow=0,
        connect_args={"check_same_thread": False},
        json_serializer=dump_json,
    )
    _configure_sqlite(engine, immediate=True, checkpoint_backstop=True)
    return engine


def _sqlite_checkpoint_engine(url: str) -> Engine:
    # One connection, opened and closed by the checkpoint thread itself.
    engine = create_engine(_sync_url(url), poolclass=NullPool)
    _configure_sqlite(engine, immediate=False)
    return engine


def _sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite+pysqlite://", 1)


def _configure_sqlite(
    engine: Engine, *, immediate: bool, checkpoint_backstop: bool = False
) -> None:
    url = str(engine.url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Files left readable to others by an older version or a copy are closed up too.
        private_sqlite_files(url)
        # Take transaction control from the driver so BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if checkpoint_backstop:
            cursor.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


async def run_retrying_conflicts(
    database: Database, work: Callable[[Connection], T], *, attempts: int = CONFLICT_ATTEMPTS
) -> T:
    """`database.run_in_transaction`, run again (up to `attempts` in all) when another process
    inserted one of the same unique keys first: `work` looks up before it inserts, so
    the next attempt finds that row and takes it into account."""
    for attempt in range(1, attempts + 1):
        try:
            return await database.run_in_transaction(work)
        except IntegrityError:
            if attempt == attempts:
                raise
            log.info("write conflict with another process, retrying (%d)", attempt)
    raise AssertionError("unreachable")
