"""When a call asked for later should ring. The dialler takes a delay in seconds (`delays`);
the choices a manager has are counted from the tap, and the job turns the moment back into
seconds when it runs, so a retried job still rings at the moment asked for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo

# The delays a manager picks on the card, in seconds; "the next working morning" is the
# fourth choice, a moment rather than a delay (`next_working_morning`).
DELAY_NOW = 0
DELAY_TEN_MINUTES = 10 * 60
DELAY_AN_HOUR = 60 * 60

# The action log names a call by its delay (`call:600`) or, for a moment, by that moment in
# Unix seconds after this mark (`call:@1767340800`).
CALL_AT_MARK = "@"

# Monday to Friday (`datetime.weekday()`), for a site with no working hours set: a call asked
# for on Friday evening rings on Monday. The hour is a setting (`call_morning_hour`).
WORKING_DAYS = frozenset(range(5))


def weekday(day: date) -> bool:
    return day.weekday() in WORKING_DAYS


def next_working_morning(
    now: datetime, zone: tzinfo, hour: int, is_working_day: Callable[[date], bool] = weekday
) -> datetime:
    """The first `hour`:00 in `zone` after `now` that falls on a working day (the site's
    working hours' days, holidays off; else Monday to Friday).

    Before that hour on a working day it is today's; otherwise the next working day's."""
    if not 0 <= hour <= 23:
        raise ValueError(f"a morning hour is 0-23, not {hour}")
    local = now.astimezone(zone)
    day = local.date()
    # A year ahead at most: hours that name no working day at all fall back to weekdays.
    for _ in range(367):
        # Built from the wall clock, so a change of daylight saving time keeps the hour.
        candidate = datetime.combine(day, time(hour), tzinfo=zone)
        if candidate > local and is_working_day(day):
            return candidate
        day += timedelta(days=1)
    return next_working_morning(now, zone, hour)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from `now` to `moment`; never negative (a late job calls at once)."""
    return max(0, int((moment - now).total_seconds()))


def call_action(delay: int) -> str:
    return f"call:{delay}"


def call_at_action(moment: datetime) -> str:
    return f"call:{CALL_AT_MARK}{int(moment.timestamp())}"


def is_call_action(kind: str) -> bool:
    """Whether an action log's kind is a call queued (`call_action`, `call_at_action`)."""
    return kind.startswith("call:")
