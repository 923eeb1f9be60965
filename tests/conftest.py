"""Shared fixtures: a fresh, migrated database on SQLite and on PostgreSQL for each test."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table on the metadata)
from storage.database import Database
from storage.migrate import upgrade
from testkit.logs import FORBIDDEN_IN_LOGS

POSTGRES_URL = os.environ.get(
    "LEADRELAY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("LEADRELAY_TEST_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]
# A module's `pytestmark` for tests of PostgreSQL alone: marked at collection, so that
# `-m "not postgres"` leaves them out before the database fixture runs.
ON_POSTGRESQL_ONLY = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy, which is far cheaper than migrating."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test session on the local server, dropped at the end."""
    name = f"leadrelay_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def create() -> str | None:
        try:
            connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}"
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return None

    async def drop() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=3)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    problem = asyncio.run(create())
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(problem)
        pytest.skip(problem)
    url = _with_database(POSTGRES_URL, name)
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(drop())


async def _truncate_all(url: str) -> None:
    """Empty every table of the schema, and drop tables some test made for itself."""
    database = Database(url)
    ours = ", ".join(f"'{name}'" for name in SQLModel.metadata.tables)
    try:
        async with database.write() as session:
            strays = await session.exec(  # type: ignore[call-overload]
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    f"AND tablename <> 'alembic_version' AND tablename NOT IN ({ours})"
                )
            )
            for (stray,) in list(strays):
                await session.exec(text(f'DROP TABLE "{stray}" CASCADE'))  # type: ignore[call-overload]
            rows = await session.exec(  # type: ignore[call-overload]
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename <> 'alembic_version'"
                )
            )
            tables = ", ".join(f'"{row[0]}"' for row in rows)
            if tables:
                await session.exec(  # type: ignore[call-overload]
                    text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                )
    finally:
        await database.dispose()


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "leadrelay.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    request.applymarker(pytest.mark.postgres)
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate_all(url))
    yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


# --- Every log line the suite produces is scanned for secrets and clients' data ----------
# Leadrelay must never write a token, a key, a client's phone number or e-mail into a log;
# these are the ones the tests use. A test that logs one on purpose (to check masking)
# carries the `writes_secrets` marker. The list is testkit's: the service runner scans for it too.


class _LogScan(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.current_test = ""
        self.skip = False
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # httpx's request lines are the tests' own clients posting to webhook URLs; the
        # service silences them (leadrelay.logs), and tests/integrations checks they mask keys.
        if self.skip or record.name == "httpx":
            return
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to judge here
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + str(record.exc_info[1])
        for needle in FORBIDDEN_IN_LOGS:
            if needle in text:
                self.leaks.append(f"{self.current_test}: {record.name}: {text[:200]}")


_scan = _LogScan()


# Loggers `configure_logging` (run by every CLI command) changes.
_CONFIGURED_LOGGERS = ("", "alembic", "httpx", "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """A test that runs a CLI command reconfigures logging: put it back, so the scan's
    handler stays on the root logger and the next test's log lines reach it."""
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate)
        for logger in map(logging.getLogger, _CONFIGURED_LOGGERS)
    ]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "writes_secrets: logs a secret on purpose")
    root = logging.getLogger()
    root.addHandler(_scan)
    # INFO and up reach the scan (leadrelay logs at INFO; DEBUG is libraries' chatter).
    root.setLevel(min(root.level, logging.INFO) if root.level else logging.INFO)


def pytest_runtest_setup(item: pytest.Item) -> None:
    _scan.current_test = item.nodeid
    _scan.skip = item.get_closest_marker("writes_secrets") is not None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_scan)
    if _scan.leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["log lines carry a secret or a client's personal data:", *_scan.leaks[:20]]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
