"""With 10,000 timers pending, the claim still reads one index entry for the next due time
and none for the due jobs, whatever the database's statistics say about the table.

Everything runs in one transaction that is rolled back: the statistics an `ANALYZE` writes
there go with it, so no other test inherits them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobs.store import _NEXT_DUE, _UNQUEUED_DUE_SKIP_LOCKED, JOB
from storage.database import Database

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TIMERS = 10_000
KINDS = ["lead.remind", "lead.escalate"]


def _rows(count: int, *, status: str, first: datetime, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": KINDS[n % 2],
            "payload": {},
            "dedupe_key": f"{prefix}:{n}",
            "status": status,
            "run_at": first + timedelta(seconds=n),
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(count)
    ]


async def _add_timers(connection: AsyncConnection) -> None:
    """10,000 pending timers without a queue, due from an hour on."""
    rows = _rows(TIMERS, status="pending", first=NOW + timedelta(hours=1), prefix="timer")
    await connection.execute(insert(JOB), rows)


async def _never_analyzed(connection: AsyncConnection) -> None:
    await _add_timers(connection)


async def _analyzed_when_nothing_was_pending(connection: AsyncConnection) -> None:
    # The worst staleness: the statistics say every job is done, so "pending" looks rare.
    done = _rows(TIMERS, status="done", first=NOW - timedelta(days=1), prefix="done")
    await connection.execute(insert(JOB), done)
    await connection.exec_driver_sql("ANALYZE job")
    await _add_timers(connection)


async def _analyzed_after(connection: AsyncConnection) -> None:
    await _add_timers(connection)
    await connection.exec_driver_sql("ANALYZE job")


STATISTICS: dict[str, Callable[[AsyncConnection], Any]] = {
    "never analyzed": _never_analyzed,
    "analyzed when nothing was pending": _analyzed_when_nothing_was_pending,
    "analyzed after the timers came": _analyzed_after,
}


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def _postgres_plan(
    connection: AsyncConnection, statement: Any, params: dict[str, Any], *, generic: bool
) -> list[dict[str, Any]]:
    """The plan PostgreSQL runs for the statement as the driver sends it (asyncpg prepares
    it: after five runs PostgreSQL may switch to a generic plan, blind to the values)."""
    sql, values = _compiled(connection, statement, params)
    await connection.exec_driver_sql(
        "SET LOCAL plan_cache_mode = " + ("force_generic_plan" if generic else "force_custom_plan")
    )
    await connection.exec_driver_sql(f"PREPARE probe AS {sql}")
    try:
        arguments = ", ".join(_literal(value) for value in values)
        result = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE probe({arguments})"
        )
        document = result.scalar_one()
    finally:
        await connection.exec_driver_sql("DEALLOCATE probe")
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return _nodes(plan)


def _compiled(
    connection: AsyncConnection, statement: Any, params: dict[str, Any]
) -> tuple[str, list[Any]]:
    """The SQL the driver gets, and its parameters in order."""
    state = statement.compile(dialect=connection.dialect).construct_expanded_state(params)
    return state.statement, [state.parameters[name] for name in state.positiontup or []]


def _literal(value: Any) -> str:
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _scans(nodes: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [
        (node["Node Type"], node.get("Index Name")) for node in nodes if "Scan" in node["Node Type"]
    ]


@pytest.mark.parametrize("statistics", list(STATISTICS))
async def test_next_due_time_is_one_index_entry_with_10000_timers_pending(
    database: Database, statistics: str
) -> None:
    async with database.writer.connect() as connection:
        transaction = await connection.begin()
        try:
            await STATISTICS[statistics](connection)
            if database.is_sqlite:
                sql, values = _compiled(connection, _NEXT_DUE, {"b_now": NOW})
                plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(values))
                assert [row[-1] for row in plan] == [
                    "SEARCH job USING COVERING INDEX ix_job_due (status=? AND run_at>?)"
                ]
            else:
                for generic in (False, True):
                    nodes = await _postgres_plan(
                        connection, _NEXT_DUE, {"b_now": NOW}, generic=generic
                    )
                    scans = [node for node in nodes if "Scan" in node["Node Type"]]
                    assert _scans(nodes) == [("Index Only Scan", "ix_job_due")], generic
                    assert [node["Node Type"] for node in nodes] == ["Limit", "Index Only Scan"]
                    assert scans[0]["Actual Rows"] == 1  # one entry read, not 10,000
            answer = (await connection.execute(_NEXT_DUE, {"b_now": NOW})).scalar_one()
            assert answer == NOW + timedelta(hours=1)
        finally:
            await transaction.rollback()


@pytest.mark.parametrize("statistics", list(STATISTICS))
async def test_claim_reads_no_timer_that_is_not_due(database: Database, statistics: str) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite is told its index (INDEXED BY): tests/jobs/test_order.py")
    params = {"b_now": NOW, "b_kinds": KINDS, "b_limit": 100}
    async with database.writer.connect() as connection:
        transaction = await connection.begin()
        try:
            await STATISTICS[statistics](connection)
            for generic in (False, True):
                nodes = await _postgres_plan(
                    connection, _UNQUEUED_DUE_SKIP_LOCKED, params, generic=generic
                )
                scans = [node for node in nodes if "Scan" in node["Node Type"]]
                assert _scans(nodes) == [("Index Scan", "ix_job_unqueued_due")], generic
                assert scans[0]["Actual Rows"] == 0
        finally:
            await transaction.rollback()
