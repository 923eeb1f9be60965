"""One source of the current time, timezone-aware UTC, so tests can reason about it."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
