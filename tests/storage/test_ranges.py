"""What each database does with a value past its column, and how the backstop knows it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.database import Database
from storage.models import Lead, TelegramUpdate
from storage.queries.sites import ensure_sites
from storage.ranges import INT32_MAX, INT64_MAX, is_unstorable_value


async def refusal(database: Database, row: Any) -> BaseException:
    with pytest.raises(Exception) as caught:  # which exception, is what is tested
        async with database.write() as session:
            session.add(row)
    return caught.value


async def test_value_past_a_64_bit_column_is_unstorable_and_the_next_write_works(
    database: Database,
) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])

    error = await refusal(database, Lead(site_key="okna", flexbe_id=INT64_MAX + 1))

    assert is_unstorable_value(error), repr(error)
    async with database.write() as session:
        session.add(Lead(site_key="okna", flexbe_id=INT64_MAX))
    async with database.read() as session:
        [lead] = (await session.exec(select(Lead))).all()
    assert lead.flexbe_id == INT64_MAX


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_an_integer_column_is_32_bits(database: Database) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])

    error = await refusal(database, Lead(site_key="okna", flexbe_id=1, status_code=INT32_MAX + 1))

    assert is_unstorable_value(error), repr(error)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_a_nul_in_json_is_unstorable(database: Database) -> None:
    error = await refusal(database, TelegramUpdate(update_id=1, payload={"text": "a\x00b"}))

    assert is_unstorable_value(error), repr(error)


async def test_a_conflict_is_no_unstorable_value(database: Database) -> None:
    async with database.write() as session:
        session.add(TelegramUpdate(update_id=1, payload={}))

    error = await refusal(database, TelegramUpdate(update_id=1, payload={}))

    assert isinstance(error, IntegrityError)
    assert not is_unstorable_value(error)
