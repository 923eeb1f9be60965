"""Durations as people write them in settings: `90s`, `15m`, `2h`, `1h30m`, `90d`."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^(?:(?P<d>\d{1,5})d)?(?:(?P<h>\d{1,6})h)?(?:(?P<m>\d{1,7})m)?(?:(?P<s>\d{1,9})s)?$"
)
# Beyond ten years a duration is a typo, not a setting.
MAX_DURATION = timedelta(days=3650)


def parse_duration(value: object, *, at_most: timedelta = MAX_DURATION) -> timedelta:
    """A `timedelta` from `90s`, `15m`, `2h`, `1h30m` or `90d` (or one already built), more
    than zero and at most `at_most`.

    Raises `ValueError` in words a person can act on; the caller names the setting."""
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str):
        text = value.strip().lower()
        match = _DURATION.fullmatch(text)
        if not text or match is None:
            raise ValueError(
                f"{value[:40]!r} is not a duration: write numbers with d, h, m or s, "
                "e.g. 90s, 15m, 1h30m or 90d"
            )
        parts = {unit: int(number or 0) for unit, number in match.groupdict().items()}
        duration = timedelta(
            days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]
        )
    else:
        raise ValueError("must be a duration such as 90d, 2h, 15m or 90s")
    if not timedelta(0) < duration <= at_most:
        raise ValueError(f"must be more than 0 and at most {_written(at_most)}")
    return duration


def _written(duration: timedelta) -> str:
    if duration.seconds == 0 and duration.microseconds == 0:
        return f"{duration.days}d"
    return f"{int(duration.total_seconds())}s"
