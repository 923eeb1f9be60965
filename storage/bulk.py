"""Bulk inserts for the hot path of webhook intake.

SQLAlchemy's insert does several layers of Python work per row (parameter dicts, bind
processing, batching into multi-row statements) that cost more than SQLite's own insert of
that row. On SQLite, `BulkInsert` hands the rows straight to the driver: the SQL is built
once per column list, each value goes through its column type's own bind processor (so
what is stored is exactly what SQLAlchemy would store), and new ids come from the cursor.
Other databases get SQLAlchemy's insert, whose per-row cost is small beside the round trip.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.schema import ScalarElementColumnDefault

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    columns: tuple[str, ...]
    # (position, processor) of the columns whose type converts values: few of them.
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, row: Row, defaults: Mapping[str, Any]) -> list[Any]:
        if len(row) != len(self.columns):  # a column left to its default
            row = {**defaults, **row}
        values = [row[name] for name in self.columns]
        for position, process in self.processors:
            values[position] = process(values[position])
        return values


class BulkInsert:
    """Inserts rows into one table; every row of a call has the same keys."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._column_names = frozenset(table.columns.keys())
        # Python-side defaults, as SQLAlchemy would fill them for a column a row leaves out.
        self._defaults = {
            column.name: column.default.arg
            for column in table.columns
            if isinstance(column.default, ScalarElementColumnDefault)
        }
        self._plans: weakref.WeakKeyDictionary[Dialect, dict[frozenset[str], _Plan]] = (
            weakref.WeakKeyDictionary()
        )
        self._insert = insert(table)
        id_column = table.c.get("id")
        self._insert_returning_ids = (
            None
            if id_column is None
            else insert(table).returning(id_column, sort_by_parameter_order=True)
        )

    def rows(self, connection: Connection, rows: Sequence[Row]) -> None:
        if not rows:
            return
        self._check_columns(rows[0])
        if connection.dialect.name != "sqlite":
            connection.execute(self._insert, list(rows))
            return
        plan = self._plan(connection.dialect, rows[0])
        parameters = [plan.parameters(row, self._defaults) for row in rows]
        with _driver_errors(plan.sql):
            cursor = _driver_cursor(connection)
            try:
                cursor.executemany(plan.sql, parameters)
            finally:
                cursor.close()

    def rows_returning_ids(self, connection: Connection, rows: Sequence[Row]) -> list[int]:
        """Inserts the rows and gives their new ids, in the order of `rows`."""
        if self._insert_returning_ids is None:
            raise TypeError(f"{self.table.name} has no id column to return")
        if not rows:
            return []
        self._check_columns(rows[0])
        if connection.dialect.name != "sqlite":
            result = connection.execute(self._insert_returning_ids, list(rows))
            return [row_id for (row_id,) in result.all()]
        plan = self._plan(connection.dialect, rows[0])
        ids = []
        with _driver_errors(plan.sql):
            cursor = _driver_cursor(connection)
            try:
                # One statement per row: SQLite gives each its id, in order, and the
                # statement is prepared once.
                for row in rows:
                    cursor.execute(plan.sql, plan.parameters(row, self._defaults))
                    assert cursor.lastrowid is not None
                    ids.append(cursor.lastrowid)
            finally:
                cursor.close()
        return ids

    def _check_columns(self, row: Row) -> None:
        # SQLAlchemy ignores unknown keys in a multi-row insert: a misspelt column would
        # silently store its default.
        unknown = row.keys() - self._column_names
        if unknown:
            raise KeyError(f"{self.table.name} has no column {sorted(unknown)}")

    def _plan(self, dialect: Dialect, first_row: Row) -> _Plan:
        by_columns = self._plans.setdefault(dialect, {})
        key = frozenset(first_row).union(self._defaults)
        plan = by_columns.get(key)
        if plan is None:
            plan = by_columns[key] = self._build_plan(dialect, key)
        return plan

    def _build_plan(self, dialect: Dialect, names: frozenset[str]) -> _Plan:
        columns = tuple(column for column in self.table.columns if column.name in names)
        quote = dialect.identifier_preparer.quote
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(self.table.name),
            ", ".join(quote(column.name) for column in columns),
            ", ".join("?" for _ in columns),
        )
        processors = (
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns
        )
        return _Plan(
            sql,
            tuple(column.name for column in columns),
            tuple((position, process) for position, process in enumerate(processors) if process),
        )


def _driver_cursor(connection: Connection) -> sqlite3.Cursor:
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver.cursor()


@contextmanager
def _driver_errors(sql: str) -> Iterator[None]:
    """The driver's errors as SQLAlchemy's, which every caller already handles
    (a unique-key conflict is retried; a storage failure is a 503)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc
