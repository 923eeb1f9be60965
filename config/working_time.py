"""Working time: a site's weekly hours, its holidays and its zone, and the three questions
every timer asks of them (is this moment working time, when does working time next start,
when is this much working time from that moment).

Hours are wall-clock times in the zone, so on the day a clock changes an interval is an
hour shorter or longer in real time, and the questions are answered in real time: a
reminder due after 15 working minutes comes after 15 real minutes inside the hours,
however the clock jumps. Pure functions of their arguments; no clock is read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 24 * 60
# How far the search for working time looks ahead: hours with a year of holidays in a row
# are a mistake, and the answer must not loop for ever.
_HORIZON_DAYS = 400
# The longest timer a setting may ask for.
# The longest wait an SLA timer takes: a month of working time is already no SLA.
MAX_WAIT = timedelta(days=30)

_GROUP = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<spans>\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}"
    r"(?:\s+\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})*)$"
)
_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")

Span = tuple[int, int]  # minutes from local midnight, start < end <= 24:00


def parse_week(text: str) -> dict[int, tuple[Span, ...]]:
    """`Mon-Fri 09:00-19:00, Sat 10:00-16:00` → weekday (0 = Monday) → its spans.

    A day may have several spans (`Mon-Fri 09:00-13:00 14:00-18:00`); a night shift is
    written as two spans split at midnight. Raises ValueError saying what is wrong.
    """
    week: dict[int, list[Span]] = {}
    groups = [part.strip().lower() for part in text.split(",")]
    if not any(groups):
        raise ValueError("is empty; write e.g. 'Mon-Fri 09:00-19:00, Sat 10:00-16:00'")
    for group in groups:
        match = _GROUP.fullmatch(group)
        if match is None:
            raise ValueError(
                f"cannot read {group[:40]!r}; write e.g. 'Mon-Fri 09:00-19:00, Sat 10:00-16:00'"
            )
        for day in _days(match["first"], match["last"]):
            for span in _SPAN.finditer(match["spans"]):
                week.setdefault(day, []).append(_span(span))
    for day, spans in week.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ValueError(f"two spans of {DAY_NAMES[day].title()} overlap")
    return {day: tuple(spans) for day, spans in week.items()}


def _days(first: str, last: str | None) -> list[int]:
    for name in (first, last):
        if name is not None and name not in DAY_NAMES:
            raise ValueError(f"unknown day {name!r}; days are {', '.join(DAY_NAMES)}")
    start = DAY_NAMES.index(first)
    end = DAY_NAMES.index(last) if last is not None else start
    if end < start:
        raise ValueError(f"{first}-{last} runs backwards; write the days from Monday on")
    return list(range(start, end + 1))


def _span(match: re.Match[str]) -> Span:
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_m > 59 or end_m > 59 or start >= MINUTES_A_DAY or end > MINUTES_A_DAY:
        raise ValueError(f"{match.group(0)!r} is not a time of day (00:00-24:00)")
    if end <= start:
        raise ValueError(f"{match.group(0)!r} ends before it starts; split a night shift at 24:00")
    return start, end


def parse_holidays(values: Iterable[str]) -> frozenset[date]:
    days = set()
    for value in values:
        try:
            days.add(date.fromisoformat(value.strip()))
        except ValueError:
            raise ValueError(f"{value[:20]!r} is not a date such as 2026-01-01") from None
    return frozenset(days)


def parse_clock(text: str) -> time:
    """`09:00` → time(9, 0)."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"cannot read {text[:20]!r}; write a time of day such as 09:00")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """One site's working time. `week` None: every day all day (holidays still off)."""

    zone: ZoneInfo
    week: Mapping[int, tuple[Span, ...]] | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str | None, *, zone: str, holidays: Iterable[str] = ()) -> WorkingHours:
        return cls(
            zone=ZoneInfo(zone),
            week=parse_week(text) if text else None,
            holidays=parse_holidays(holidays),
        )

    @property
    def always(self) -> bool:
        return self.week is None and not self.holidays

    def is_working_day(self, day: date) -> bool:
        return day not in self.holidays and bool(self._spans_of(day))

    def is_working(self, moment: datetime) -> bool:
        if self.always:
            return True
        return any(start <= moment < end for start, end in self._intervals(moment))

    def next_working_start(self, moment: datetime) -> datetime:
        """`moment` itself if it is working time, else the next minute working time starts."""
        return self.add_working(moment, timedelta(0))

    def add_working(self, moment: datetime, duration: timedelta) -> datetime:
        """The moment by which `duration` of working time has passed since `moment`."""
        if self.always:
            return moment + duration
        left = duration
        for start, end in self._intervals(moment):
            begin = max(start, moment)
            if begin >= end:
                continue
            if left <= end - begin:
                return begin + left
            left -= end - begin
        raise ValueError("no working time within a year; check the hours and holidays")

    def working_between(self, since: datetime, until: datetime) -> timedelta:
        """How much working time lies between two moments."""
        if until <= since:
            return timedelta(0)
        if self.always:
            return until - since
        total = timedelta(0)
        for start, end in self._intervals(since):
            if start >= until:
                break
            total += max(timedelta(0), min(end, until) - max(start, since))
        return total

    def working_day_before(self, day: date) -> date:
        """The last working day before `day` (for a digest: the day it reports)."""
        for back in range(1, _HORIZON_DAYS):
            candidate = day - timedelta(days=back)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("no working day within a year; check the hours and holidays")

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def at(self, day: date, clock: time) -> datetime:
        """`clock` on local `day`, in UTC (a time the clock skips is read as after the jump)."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """A local day's first and last moments, in UTC: 23 or 25 hours on a clock change."""
        return self.at(day, time(0)), self.at(day + timedelta(days=1), time(0))

    def _spans_of(self, day: date) -> tuple[Span, ...]:
        if day in self.holidays:
            return ()
        if self.week is None:
            return ((0, MINUTES_A_DAY),)
        return self.week.get(day.weekday(), ())

    def _intervals(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals in UTC, from the local day before `moment` on, merged
        where one ends as the next begins (24:00 and the next day's 00:00)."""
        first = self.local_date(moment) - timedelta(days=1)
        pending: tuple[datetime, datetime] | None = None
        for offset in range(_HORIZON_DAYS):
            day = first + timedelta(days=offset)
            for start_minute, end_minute in self._spans_of(day):
                start, end = self._moment(day, start_minute), self._moment(day, end_minute)
                if pending is not None and pending[1] >= start:
                    pending = (pending[0], max(pending[1], end))
                    continue
                if pending is not None:
                    yield pending
                pending = (start, end)
        if pending is not None:
            yield pending

    def _moment(self, day: date, minute: int) -> datetime:
        if minute >= MINUTES_A_DAY:
            return self.at(day + timedelta(days=1), time(0))
        return self.at(day, time(minute // 60, minute % 60))
