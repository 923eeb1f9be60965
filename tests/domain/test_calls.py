"""The next working morning: the site's hour on the next weekday, in the team's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from config.working_time import WorkingHours
from domain.calls import next_working_morning, seconds_until

MOSCOW = ZoneInfo("Europe/Moscow")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Wednesday before 9: today; at 9 or after: Thursday.
        (datetime(2026, 12, 2, 8, 59, tzinfo=MOSCOW), datetime(2026, 12, 2, 9, tzinfo=MOSCOW)),
        (datetime(2026, 12, 2, 9, 0, tzinfo=MOSCOW), datetime(2026, 12, 3, 9, tzinfo=MOSCOW)),
        (datetime(2026, 12, 2, 18, 0, tzinfo=MOSCOW), datetime(2026, 12, 3, 9, tzinfo=MOSCOW)),
        # Friday evening, Saturday, Sunday: Monday.
        (datetime(2026, 12, 4, 18, 0, tzinfo=MOSCOW), datetime(2026, 12, 7, 9, tzinfo=MOSCOW)),
        (datetime(2026, 12, 5, 7, 0, tzinfo=MOSCOW), datetime(2026, 12, 7, 9, tzinfo=MOSCOW)),
        (datetime(2026, 12, 6, 23, 0, tzinfo=MOSCOW), datetime(2026, 12, 7, 9, tzinfo=MOSCOW)),
    ],
)
def test_the_next_working_morning(now: datetime, expected: datetime) -> None:
    assert next_working_morning(now, MOSCOW, 9) == expected


def test_the_hour_is_in_the_teams_zone_whatever_the_clock_says() -> None:
    # 22:00 UTC on Thursday is already Friday 01:00 in Moscow: Friday 09:00 there.
    now = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)

    morning = next_working_morning(now, MOSCOW, 9)

    assert morning == datetime(2026, 12, 4, 9, tzinfo=MOSCOW)
    assert seconds_until(morning, now) == 8 * 3600


def test_across_a_change_of_clocks_the_hour_stays() -> None:
    # London goes back an hour on Sunday 25 October 2026: Monday 09:00 is still 09:00.
    friday = datetime(2026, 10, 23, 17, 0, tzinfo=LONDON)

    morning = next_working_morning(friday, LONDON, 9)

    assert morning.astimezone(LONDON).hour == 9 and morning.weekday() == 0
    assert morning.utcoffset() == datetime(2026, 10, 26, 9, tzinfo=LONDON).utcoffset()


def test_a_late_job_calls_at_once_and_an_hour_out_of_range_is_refused() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert seconds_until(datetime(2026, 12, 2, 11, 0, tzinfo=UTC), now) == 0
    with pytest.raises(ValueError, match="0-23"):
        next_working_morning(now, UTC, 24)


def test_the_next_working_morning_follows_the_sites_working_days_and_holidays() -> None:
    hours = WorkingHours.parse("Tue-Sat 10:00-18:00", zone="Europe/Moscow", holidays=["2026-12-08"])
    friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=MOSCOW)
    saturday = datetime(2026, 12, 5, 9, tzinfo=MOSCOW)
    assert next_working_morning(friday_evening, MOSCOW, 9, hours.is_working_day) == saturday
    # Saturday evening: Sunday and Monday are off, Tuesday the 8th a holiday: Wednesday.
    saturday_evening = datetime(2026, 12, 5, 19, 0, tzinfo=MOSCOW)
    wednesday = datetime(2026, 12, 9, 9, tzinfo=MOSCOW)
    assert next_working_morning(saturday_evening, MOSCOW, 9, hours.is_working_day) == wednesday
