"""Named periods (`today`, `week`, …) as UTC bounds, in the team's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime | None
    until: datetime | None


def window(name: str, *, now: datetime, zone: tzinfo) -> Window | None:
    """None for a name we do not know."""
    local_midnight = datetime.combine(now.astimezone(zone).date(), time(), zone)
    day = timedelta(days=1)
    bounds = {
        "today": (local_midnight, None),
        "yesterday": (local_midnight - day, local_midnight),
        "week": (local_midnight - 6 * day, None),
        "month": (local_midnight - 29 * day, None),
    }
    if name not in bounds:
        return None
    since, until = bounds[name]
    return Window(since.astimezone(UTC), until.astimezone(UTC) if until else None)
