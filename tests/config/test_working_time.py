"""Working time: the hours read from a setting, and the questions timers ask, across
midnight, holidays and the days a clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from config.durations import parse_duration
from config.working_time import (
    MAX_WAIT,
    WorkingHours,
    parse_clock,
    parse_week,
)

BERLIN = "Europe/Berlin"


def local(hours: WorkingHours, *args: int) -> datetime:
    """A wall-clock moment in the hours' zone."""
    return datetime(*args, tzinfo=hours.zone)  # type: ignore[arg-type, misc]


OFFICE = WorkingHours.parse(
    "Mon-Fri 09:00-19:00, Sat 10:00-16:00", zone=BERLIN, holidays=["2026-12-31"]
)


def test_reads_days_and_spans() -> None:
    week = parse_week("Mon-Fri 09:00-13:00 14:00-18:00, Sat 10:00-16:00")

    assert week[0] == ((540, 780), (840, 1080))
    assert week[5] == ((600, 960),)
    assert 6 not in week


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("Mon-Fri", "cannot read"),
        ("Mon-Fri 9-19", "cannot read"),
        ("Mon-Fry 09:00-19:00", "unknown day"),
        ("Fri-Mon 09:00-19:00", "backwards"),
        ("Mon 19:00-09:00", "night shift"),
        ("Mon 09:00-25:00", "time of day"),
        ("Mon 09:00-12:00 11:00-13:00", "overlap"),
    ],
)
def test_refuses_malformed_hours(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_week(text)


def test_durations_and_times() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_clock("09:00") == time(9, 0)
    for bad in ("", "15", "15 min", "0m", "-5m", "3651d"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError, match="at most 30d"):
        parse_duration("31d", at_most=MAX_WAIT)
    for bad in ("9", "24:00", "09:60", "nine"):
        with pytest.raises(ValueError):
            parse_clock(bad)


def test_inside_and_outside_hours() -> None:
    assert OFFICE.is_working(local(OFFICE, 2026, 12, 2, 9, 0))  # Wednesday
    assert not OFFICE.is_working(local(OFFICE, 2026, 12, 2, 19, 0))  # closing time
    assert not OFFICE.is_working(local(OFFICE, 2026, 12, 6, 12, 0))  # Sunday
    assert OFFICE.is_working(local(OFFICE, 2026, 12, 5, 15, 59))  # Saturday
    assert not OFFICE.is_working(local(OFFICE, 2026, 12, 31, 12, 0))  # holiday


def test_adding_inside_one_day() -> None:
    start = local(OFFICE, 2026, 12, 2, 10, 0)

    assert OFFICE.add_working(start, timedelta(minutes=15)) == local(OFFICE, 2026, 12, 2, 10, 15)


def test_adding_carries_over_the_night_and_the_weekend() -> None:
    friday_evening = local(OFFICE, 2026, 12, 4, 18, 50)
    saturday_evening = local(OFFICE, 2026, 12, 5, 15, 55)

    assert OFFICE.add_working(friday_evening, timedelta(minutes=15)) == local(
        OFFICE, 2026, 12, 5, 10, 5
    )
    # Sunday is off: from Saturday's last five minutes to Monday morning.
    assert OFFICE.add_working(saturday_evening, timedelta(minutes=15)) == local(
        OFFICE, 2026, 12, 7, 9, 10
    )


def test_a_lead_at_night_waits_for_the_morning() -> None:
    night = local(OFFICE, 2026, 12, 2, 23, 30)

    assert OFFICE.next_working_start(night) == local(OFFICE, 2026, 12, 3, 9, 0)
    assert OFFICE.add_working(night, timedelta(minutes=15)) == local(OFFICE, 2026, 12, 3, 9, 15)
    inside = local(OFFICE, 2026, 12, 3, 11, 0)
    assert OFFICE.next_working_start(inside) == inside


def test_holidays_are_skipped() -> None:
    before = local(OFFICE, 2026, 12, 30, 18, 55)

    # 31 December is a holiday; 1 January a Friday.
    assert OFFICE.add_working(before, timedelta(minutes=10)) == local(OFFICE, 2027, 1, 1, 9, 5)
    assert OFFICE.working_day_before(date(2027, 1, 1)) == date(2026, 12, 30)
    assert OFFICE.working_day_before(date(2026, 12, 7)) == date(2026, 12, 5)


def test_midnight_between_two_all_day_days_is_no_gap() -> None:
    always_weekend = WorkingHours.parse("Sat-Sun 00:00-24:00", zone=BERLIN)
    before_midnight = local(always_weekend, 2026, 12, 5, 23, 50)

    assert always_weekend.add_working(before_midnight, timedelta(minutes=20)) == local(
        always_weekend, 2026, 12, 6, 0, 10
    )
    # Sunday's end runs to Saturday's start.
    assert always_weekend.add_working(
        local(always_weekend, 2026, 12, 6, 23, 50), timedelta(minutes=20)
    ) == local(always_weekend, 2026, 12, 12, 0, 10)


def test_spring_forward_counts_real_time() -> None:
    """29 March 2026: Berlin's clocks go from 02:00 to 03:00."""
    every_day = WorkingHours.parse("Mon-Sun 00:00-24:00", zone=BERLIN)
    before = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 local, CET

    after = every_day.add_working(before, timedelta(hours=1))

    assert after == before + timedelta(hours=1)
    assert after.astimezone(every_day.zone).hour == 3  # 03:30 CEST
    assert every_day.working_between(*every_day.day_bounds(date(2026, 3, 29))) == timedelta(
        hours=23
    )


def test_fall_back_counts_the_repeated_hour_once() -> None:
    """25 October 2026: Berlin's clocks go from 03:00 back to 02:00."""
    every_day = WorkingHours.parse("Mon-Sun 00:00-24:00", zone=BERLIN)
    bounds = every_day.day_bounds(date(2026, 10, 25))

    assert bounds[1] - bounds[0] == timedelta(hours=25)
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert every_day.add_working(start, timedelta(hours=1)) == start + timedelta(hours=1)


def test_office_hours_keep_wall_clock_across_a_change() -> None:
    # Friday before the autumn change, then Monday after it: still 09:00 local.
    friday = local(OFFICE, 2026, 10, 23, 18, 55)

    # Five minutes on Friday (CEST), Saturday's six hours, five on Monday (CET).
    monday = OFFICE.add_working(friday, timedelta(hours=6, minutes=10))

    assert monday == local(OFFICE, 2026, 10, 26, 9, 5)
    assert monday == datetime(2026, 10, 26, 8, 5, tzinfo=UTC)
    assert friday.astimezone(UTC).hour == 16


def test_waited_counts_only_working_time() -> None:
    friday = local(OFFICE, 2026, 12, 4, 18, 0)
    monday = local(OFFICE, 2026, 12, 7, 9, 30)

    # An hour on Friday, six on Saturday, half an hour on Monday.
    assert OFFICE.working_between(friday, monday) == timedelta(hours=7, minutes=30)


def test_unset_hours_are_always_working() -> None:
    always = WorkingHours.parse(None, zone="UTC")
    moment = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

    assert always.is_working(moment)
    assert always.add_working(moment, timedelta(minutes=15)) == moment + timedelta(minutes=15)
    assert always.working_day_before(date(2026, 12, 7)) == date(2026, 12, 6)
