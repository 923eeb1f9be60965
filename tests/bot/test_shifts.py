"""Who is on shift, and what `/away` reads: pure functions of the manager, the hours and
the moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.shifts import AwayProblem, AwayRefused, ShiftState, away_until, shift_of
from config.working_time import WorkingHours
from storage.models import Manager

MOSCOW = ZoneInfo("Europe/Moscow")
# Monday 7 December 2026, 12:00 in Moscow.
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("", None),
        ("3d", NOW + timedelta(days=3)),
        ("4h", NOW + timedelta(hours=4)),
        ("1h30m", NOW + timedelta(hours=1, minutes=30)),
        ("until 14.12", datetime(2026, 12, 14, tzinfo=MOSCOW)),
        # A day without a year is the next one.
        ("until 05.01", datetime(2027, 1, 5, tzinfo=MOSCOW)),
        ("UNTIL 8.12.2026", datetime(2026, 12, 8, tzinfo=MOSCOW)),
        ("until 08.12.27", datetime(2027, 12, 8, tzinfo=MOSCOW)),
    ],
)
def test_away_reads_a_duration_or_a_day(words: str, expected: datetime | None) -> None:
    assert away_until(words, now=NOW, zone=MOSCOW) == expected


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ("until 07.12.2026", AwayProblem.PAST),  # today: back already
        ("until 01.12.2026", AwayProblem.PAST),
        ("until 31.02", AwayProblem.UNREADABLE),
        ("until tomorrow", AwayProblem.UNREADABLE),
        ("tomorrow", AwayProblem.UNREADABLE),
        ("-3d", AwayProblem.UNREADABLE),
        ("0h", AwayProblem.UNREADABLE),
        ("400d", AwayProblem.TOO_FAR),
        ("until 01.01.2030", AwayProblem.TOO_FAR),
    ],
)
def test_away_refuses_what_it_cannot_use(words: str, problem: AwayProblem) -> None:
    with pytest.raises(AwayRefused) as refused:
        away_until(words, now=NOW, zone=MOSCOW)
    assert refused.value.problem is problem


def manager(
    *,
    away_from: datetime | None = None,
    away_until: datetime | None = None,
    working_hours: str | None = None,
) -> Manager:
    return Manager(
        telegram_id=22,
        name="Max",
        away_from=away_from,
        away_until=away_until,
        working_hours=working_hours,
    )


OFFICE = WorkingHours.parse("Mon-Fri 09:00-18:00", zone="Europe/Moscow")


def test_a_manager_is_on_shift_in_the_sites_hours_unless_away() -> None:
    assert shift_of(manager(), OFFICE, NOW).state is ShiftState.ON
    evening = NOW + timedelta(hours=8)  # 20:00 in Moscow
    assert shift_of(manager(), OFFICE, evening).state is ShiftState.OFF

    until = NOW + timedelta(days=2)
    away = manager(away_from=NOW - timedelta(hours=1), away_until=until)
    assert shift_of(away, OFFICE, NOW).state is ShiftState.AWAY
    assert shift_of(away, OFFICE, NOW).until == until
    assert shift_of(away, OFFICE, until).state is ShiftState.ON  # back that moment

    for_good = manager(away_from=NOW - timedelta(days=30))
    assert shift_of(for_good, OFFICE, NOW + timedelta(days=300)).state is ShiftState.AWAY


def test_a_managers_own_week_wins_over_the_sites() -> None:
    night = manager(working_hours="Mon-Sun 00:00-08:00 20:00-24:00")
    assert shift_of(night, OFFICE, NOW).state is ShiftState.OFF
    assert shift_of(night, OFFICE, NOW + timedelta(hours=8)).state is ShiftState.ON
    # The site's holidays hold for them too.
    holiday = WorkingHours.parse(
        "Mon-Fri 09:00-18:00", zone="Europe/Moscow", holidays=["2026-12-07"]
    )
    assert shift_of(manager(working_hours="Mon-Sun 00:00-24:00"), holiday, NOW).state is (
        ShiftState.OFF
    )
