"""A part of a name or an e-mail, found alike on SQLite and PostgreSQL.

Each searchable text is stored folded by Python (`fold`) beside the text as typed, and a
fragment is folded the same way before it is compared: the databases' own case folding
differs (SQLite's LIKE and lower() fold ASCII letters only), Python's is the one rule both
get. On PostgreSQL the folded columns carry trigram indexes (migration 0013), so a
`LIKE '%part%'` is an index search there rather than a walk through every lead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam


def fold(text: str) -> str:
    """How a searchable text is stored and compared: case-folded (Unicode, not ASCII only)."""
    return text.casefold()


def like_pattern(text: str) -> str:
    """`text` anywhere, its own `%`, `_` and `\\` taken literally (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def folded_contains(folded_column: Any, fragment: str) -> ColumnElement[bool]:
    """`folded_column` (stored through `fold`) contains `fragment` in any case."""
    # Written into the statement, not bound: PostgreSQL's generic plan for a prepared
    # `LIKE $1` cannot tell the trigram index's worth, and walked every lead (80 ms p95).
    pattern: BindParameter[str] = bindparam(
        "fragment", like_pattern(fold(fragment)), unique=True, literal_execute=True
    )
    condition: ColumnElement[bool] = folded_column.like(pattern, escape="\\")
    return condition
