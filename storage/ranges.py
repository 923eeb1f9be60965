"""The integer ranges of our columns, as types to check input against before it is stored.

An `Integer` column is 32 bits on PostgreSQL; SQLite stores 64 bits in any integer column;
a `BigInteger` is 64 bits on both. A value past its column's range fails only at the
commit, differently on each database (and on SQLite the driver's `OverflowError` is not
even a database error), so input is checked where it is read: `Int32` for a field that
lands in an `Integer` column (status codes, our own row ids), `Int64` for a `BigInteger`
one (Flexbe's lead ids and numbers, Telegram's ids). Both databases then refuse alike.
"""

from __future__ import annotations

from typing import Annotated

from asyncpg.exceptions import DataError as PostgresDataError
from pydantic import Field

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


def is_unstorable_value(error: BaseException) -> bool:
    """The database refused a value itself (past its column's range, a NUL in text), not
    the connection: sending it again cannot help. The backstop behind the checks above.
    SQLite's driver raises a bare `OverflowError` before the statement runs; asyncpg a
    `DataError`, under SQLAlchemy's wrapper."""
    seen: BaseException | None = error
    for _ in range(4):  # the wrapper, its DBAPI error, and what that was raised from
        if seen is None:
            return False
        if isinstance(seen, OverflowError | PostgresDataError):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False
