"""Durations as people write them in settings: `90s`, `15m`, `2h`, `90d`."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Beyond ten years a duration is a typo, not a setting.
MAX_DURATION = timedelta(days=3650)


def parse_duration(value: object) -> timedelta:
    """A `timedelta` from `90s`, `15m`, `2h` or `90d` (or one already built).

    Raises `ValueError` in words a person can act on; the caller names the setting."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match is None:
            raise ValueError(
                f"{value[:40]!r} is not a duration: write a number and s, m, h or d, e.g. 90d"
            )
        duration = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    else:
        raise ValueError("must be a duration such as 90d, 12h or 15m")
    if duration <= timedelta(0) or duration > MAX_DURATION:
        raise ValueError("must be more than 0 and at most 3650d")
    return duration
