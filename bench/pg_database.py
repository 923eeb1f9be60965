"""A PostgreSQL database of a benchmark's own, made and dropped beside the others on the
server (from the database the URL names, whose tables are never touched)."""

from __future__ import annotations

import asyncpg


async def _on_server(url: str, *statements: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def recreate_database(url: str, name: str) -> str:
    """The database `name` made anew, empty, on the server of `url`; the URL of it."""
    await drop_database(url, name)
    await _on_server(url, f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str, name: str) -> None:
    await _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
