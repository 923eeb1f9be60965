"""Bulk inserts store exactly what SQLAlchemy's insert stores, and fail the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.exc import IntegrityError

from storage.bulk import BulkInsert
from storage.database import Database
from storage.models import InboxEvent, Job, Lead, Site
from storage.tables import table_of

LEAD: Table = table_of(Lead)
JOB: Table = table_of(Job)
INBOX: Table = table_of(InboxEvent)
SITE: Table = table_of(Site)
NOW = datetime(2026, 11, 23, 14, 5, 6, 789012, tzinfo=UTC)


def lead_row(flexbe_id: int) -> dict[str, Any]:
    # Every kind of value a lead has: text with markup and Cyrillic, JSON, times, a
    # boolean, NULLs, and the columns with defaults (status_code, version…) left out.
    return {
        "site_key": "main",
        "flexbe_id": flexbe_id,
        "num": None,
        "created_at": NOW,
        "client_name": "Иван <b>&amp;</b> Пётр",
        "form_data": {"f1": {"name": "Комментарий", "value": ["a", None, "ё"]}},
        "utm": {"utm_source": "yandex", "cookies": {"_ga": "GA1.2"}},
        "pay_test": True,
        "pay_time_done": None,
        "received_at": NOW,
        "updated_at": NOW,
    }


def stored(connection: Connection, table: Table, ids: list[int]) -> list[dict[str, Any]]:
    rows = connection.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.id))
    return [{k: v for k, v in row.items() if k != "id"} for row in rows.mappings()]


async def test_rows_read_back_the_same_as_through_sqlalchemy(database: Database) -> None:
    def work(connection: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        connection.execute(
            insert(SITE), [{"key": "main", "name": "Main", "created_at": NOW, "updated_at": NOW}]
        )
        through_sqlalchemy = [
            row_id
            for (row_id,) in connection.execute(
                insert(LEAD).returning(LEAD.c.id, sort_by_parameter_order=True),
                [lead_row(1), lead_row(2)],
            )
        ]
        through_bulk = BulkInsert(LEAD).rows_returning_ids(connection, [lead_row(3), lead_row(4)])
        expected = stored(connection, LEAD, through_sqlalchemy)
        got = stored(connection, LEAD, through_bulk)
        for row in expected + got:
            row.pop("flexbe_id")
        return expected, got

    expected, got = await database.run_in_transaction(work)

    assert got == expected
    assert got[0]["client_name"] == "Иван <b>&amp;</b> Пётр"
    assert got[0]["form_data"]["f1"]["value"] == ["a", None, "ё"]
    assert got[0]["created_at"] == NOW and got[0]["status_code"] == 0 and got[0]["version"] == 1


async def test_ids_come_back_in_the_order_of_the_rows(database: Database) -> None:
    rows = [
        {"site_key": "main", "event": f"e{n}", "body": f"body {n}".encode(), "outcome": "accepted"}
        | {"received_at": NOW}
        for n in (5, 1, 4, 2, 3)
    ]

    def work(connection: Connection) -> tuple[list[int], list[tuple[int, str, bytes]]]:
        ids = BulkInsert(INBOX).rows_returning_ids(connection, rows)
        found = connection.execute(select(INBOX.c.id, INBOX.c.event, INBOX.c.body)).all()
        return ids, [tuple(row) for row in found]

    ids, found = await database.run_in_transaction(work)

    by_id = {row_id: (event, body) for row_id, event, body in found}
    assert [by_id[row_id] for row_id in ids] == [(r["event"], r["body"]) for r in rows]


async def test_a_duplicate_key_is_sqlalchemys_integrity_error(database: Database) -> None:
    def job(key: str) -> dict[str, Any]:
        return {
            "kind": "notify",
            "payload": {"chat_id": -100},
            "dedupe_key": key,
            "queue": "tg:-100",
            "run_at": NOW,
            "created_at": NOW,
            "updated_at": NOW,
        }

    # The batch writer retries an IntegrityError and answers 503 for other storage errors:
    # the driver's own exception types would escape both as a 500.
    with pytest.raises(IntegrityError):
        await database.run_in_transaction(
            lambda connection: BulkInsert(JOB).rows(connection, [job("a"), job("b"), job("a")])
        )

    async with database.reader.connect() as connection:
        left = (await connection.execute(select(JOB.c.id))).all()
    assert left == []  # the failed transaction left nothing


async def test_an_unknown_column_is_named(database: Database) -> None:
    with pytest.raises(KeyError, match="colour"):
        await database.run_in_transaction(
            lambda connection: BulkInsert(SITE).rows(connection, [{"key": "x", "colour": 1}])
        )
