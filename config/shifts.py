"""Who is on shift: a manager not away (`/away`, `/back`) and inside their working hours
(their own week, else the site's). Only a manager on shift gets a new lead's card in
private, or a lead assigned.

Pure functions of the manager, the hours and the moment; no clock is read here. Here in
config, beside working time, so that the bot and the console both tell it the same way;
a manager is whatever has the three fields (`storage.models.Manager` does).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Protocol

from config.durations import parse_duration
from config.working_time import Span, WorkingHours, parse_week

# Away for longer than this is no longer "away": disable the manager instead.
MAX_AWAY = timedelta(days=366)
_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4}))?$")


class Member(Protocol):
    """What a shift is read from: a team member's row."""

    @property
    def away_from(self) -> datetime | None: ...
    @property
    def away_until(self) -> datetime | None: ...
    @property
    def working_hours(self) -> str | None: ...


class ShiftState(StrEnum):
    ON = "on"
    AWAY = "away"
    OFF = "off"  # outside their working hours


@dataclass(frozen=True, slots=True)
class Shift:
    state: ShiftState
    # Away: until when (None: until /back).
    until: datetime | None = None

    @property
    def on(self) -> bool:
        return self.state is ShiftState.ON


def is_away(manager: Member, now: datetime) -> bool:
    if manager.away_from is None or manager.away_from > now:
        return False
    return manager.away_until is None or now < manager.away_until


def own_hours(manager: Member, site_hours: WorkingHours) -> WorkingHours:
    """The manager's own week in the site's zone and holidays; the site's hours if none."""
    if not manager.working_hours:
        return site_hours
    return WorkingHours(
        zone=site_hours.zone, week=_week(manager.working_hours), holidays=site_hours.holidays
    )


@functools.lru_cache(maxsize=256)
def _week(text: str) -> dict[int, tuple[Span, ...]]:
    return parse_week(text)


def shift_of(manager: Member, site_hours: WorkingHours, now: datetime) -> Shift:
    if is_away(manager, now):
        return Shift(ShiftState.AWAY, manager.away_until)
    if not own_hours(manager, site_hours).is_working(now):
        return Shift(ShiftState.OFF)
    return Shift(ShiftState.ON)


class AwayProblem(StrEnum):
    UNREADABLE = "unreadable"
    PAST = "past"
    TOO_FAR = "too_far"


class AwayRefused(ValueError):
    """What is wrong with the words after `/away` (the handler says it in words)."""

    def __init__(self, problem: AwayProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def away_until(words: str, *, now: datetime, zone: tzinfo) -> datetime | None:
    """When `/away <words>` ends: `""` until /back (None); `3d`, `4h`, `1h30m` from now;
    `until 14.12` (the next 14 December) or `until 14.12.2027`: back at the start of that
    day in `zone`. Raises `AwayRefused`."""
    text = words.strip().lower()
    if not text:
        return None
    if text.startswith("until "):
        return _until_date(text.removeprefix("until ").strip(), now=now, zone=zone)
    try:
        duration = parse_duration(text)
    except ValueError:
        raise AwayRefused(AwayProblem.UNREADABLE) from None
    if duration > MAX_AWAY:
        raise AwayRefused(AwayProblem.TOO_FAR)
    return now + duration


def _until_date(text: str, *, now: datetime, zone: tzinfo) -> datetime:
    found = _DATE.fullmatch(text)
    if found is None:
        raise AwayRefused(AwayProblem.UNREADABLE)
    day, month, year = int(found.group(1)), int(found.group(2)), found.group(3)
    today = now.astimezone(zone).date()
    try:
        if year is None:
            # A day without a year is the next one: `until 05.01` in December is January.
            back = date(today.year, month, day)
            if back <= today:
                back = date(today.year + 1, month, day)
        else:
            back = date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    except ValueError:
        raise AwayRefused(AwayProblem.UNREADABLE) from None
    if back <= today:
        raise AwayRefused(AwayProblem.PAST)
    moment = datetime.combine(back, time(0), tzinfo=zone)
    if moment - now > MAX_AWAY:
        raise AwayRefused(AwayProblem.TOO_FAR)
    return moment
