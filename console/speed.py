"""The overview's speed-to-lead table and its CSV: the figures of `storage.queries.speed`
(the same as `/stats` and the digest), over the last days, working time only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.settings import Settings
from config.working_time import WorkingHours
from console.export import cell
from storage.database import Database
from storage.queries.reports import leads_between
from storage.queries.speed import SpeedFigures, SpeedRow, WorkingBetween, speed_figures, take_backs

# The period the overview measures: the last week, today included.
SPEED_DAYS = 7
# Rows of each table on the page (the CSV has them all).
ROWS_SHOWN = 20


def working_of(settings: Settings, zone: ZoneInfo) -> WorkingBetween:
    """Each site's hours as its SLA counts them; a site no longer configured, all hours."""
    always = WorkingHours(zone=zone)

    def between(site_key: str, since: datetime, until: datetime) -> timedelta:
        try:
            hours = settings.site(site_key).timers.hours
        except KeyError:
            hours = always
        return hours.working_between(since, until)

    return between


async def figures_between(
    database: Database, settings: Settings, zone: ZoneInfo, *, since: datetime, until: datetime
) -> SpeedFigures:
    async with database.read() as session:
        leads = await leads_between(session, since=since, until=until, sites=())
        backs = await take_backs(
            session, lead_ids=[lead.id for lead in leads if lead.id is not None]
        )
    return speed_figures(leads, working_between=working_of(settings, zone), taken_back=backs)


def minutes(seconds: float | None) -> str:
    """Working minutes, to a tenth; empty when nothing was acted on."""
    return "" if seconds is None else f"{seconds / 60:.1f}"


def percent(row: SpeedRow) -> str:
    share = row.quick_share
    return "" if share is None else f"{share * 100:.0f}"


@dataclass(frozen=True, slots=True)
class Group:
    """One table: its title, what its first column names, and its rows."""

    key: str
    title: str
    rows: list[tuple[str, SpeedRow]]


def groups(figures: SpeedFigures, gettext: Callable[[str], str]) -> list[Group]:
    _ = gettext
    return [
        Group("manager", _("By manager"), _named(figures.by_manager, _("nobody"))),
        Group("source", _("By UTM source"), _named(figures.by_source, _("no UTM source"))),
        Group("form", _("By form"), _named(figures.by_form, _("no form"))),
    ]


def _named(rows: dict[str, SpeedRow], nobody: str) -> list[tuple[str, SpeedRow]]:
    return [(name or nobody, row) for name, row in rows.items()]


def lost_text(row: SpeedRow, gettext: Callable[[str], str]) -> str:
    """`too expensive: 2; no reason given: 1`."""
    _ = gettext
    none_given = _("no reason given")
    return "; ".join(f"{reason or none_given}: {count}" for reason, count in row.lost.items())


COLUMNS = (
    "group",
    "name",
    "leads",
    "acted",
    "median_minutes",
    "p90_minutes",
    "within_5_min_percent",
    "taken_back",
    "lost_reasons",
    "paid",
)


def csv_lines(figures: SpeedFigures, gettext: Callable[[str], str]) -> Iterator[bytes]:
    """The tables as one CSV (working minutes), names guarded as the leads' export does."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so that Excel reads the file as UTF-8
    writer.writerow(COLUMNS)
    for group in groups(figures, gettext):
        for name, row in group.rows:
            writer.writerow(
                [
                    group.key,
                    cell(name, str, guard=True),
                    row.leads,
                    row.acted,
                    minutes(row.median_seconds),
                    minutes(row.p90_seconds),
                    percent(row),
                    row.taken_back,
                    cell(lost_text(row, gettext), str, guard=True),
                    row.paid,
                ]
            )
    yield buffer.getvalue().encode()
