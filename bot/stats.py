"""The numbers behind `/stats`: leads by status and by site, payments by the day they were
paid, and per manager what they took, how fast, and what of it was paid; and the same by
day for the chart (`bot.charts`)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from domain.statuses import PayStatus
from integrations.amounts import parse_amount, total
from storage.models import Lead

MAX_DAYS = 62


@dataclass(frozen=True, slots=True)
class ManagerNumbers:
    taken: int = 0
    median_take_minutes: float | None = None
    paid_count: int = 0
    paid_sum: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Stats:
    total: int
    by_status: dict[int, int]
    paid_count: int
    paid_sum: Decimal
    # Paid leads whose amount is not a computable one ("NaN", "1e999…"): counted in
    # `paid_count`, left out of `paid_sum`.
    paid_uncounted: int
    median_take_minutes: dict[str, float]
    by_site: dict[str, int] = field(default_factory=dict)
    by_manager: dict[str, ManagerNumbers] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DaySeries:
    """Leads created each day by status, and the sum paid each day (by payment date)."""

    days: list[date]
    by_status: dict[int, list[int]]
    paid: list[Decimal]


def _who(lead: Lead) -> str:
    return lead.taken_by_name or str(lead.taken_by)


def _amounts(leads: Iterable[Lead]) -> tuple[list[Decimal], int]:
    """The computable amounts of paid leads, and how many sent one that is not."""
    sent = [lead.pay_summ for lead in leads if lead.pay_summ and lead.pay_summ.strip()]
    amounts = [amount for amount in map(parse_amount, sent) if amount is not None]
    return amounts, len(sent) - len(amounts)


def compute(leads: Sequence[Lead], paid: Sequence[Lead] | None = None) -> Stats:
    """`leads`: created in the period; `paid`: paid in the period, whenever created (when
    not given, the paid ones among `leads`)."""
    if paid is None:
        paid = [lead for lead in leads if lead.pay_status_code == PayStatus.PAID]
    amounts, uncounted = _amounts(paid)
    waits: dict[str, list[float]] = defaultdict(list)
    for lead in leads:
        if lead.taken_by is not None and lead.taken_at is not None and lead.created_at:
            minutes = (lead.taken_at - lead.created_at).total_seconds() / 60
            waits[_who(lead)].append(max(0.0, minutes))
    paid_by: dict[str, list[Lead]] = defaultdict(list)
    for lead in paid:
        if lead.taken_by is not None:
            paid_by[_who(lead)].append(lead)
    by_manager = {}
    for who in sorted(waits.keys() | paid_by.keys()):
        mine, _ = _amounts(paid_by[who])
        by_manager[who] = ManagerNumbers(
            taken=len(waits[who]),
            median_take_minutes=statistics.median(waits[who]) if waits[who] else None,
            paid_count=len(paid_by[who]),
            paid_sum=total(mine),
        )
    return Stats(
        total=len(leads),
        by_status=dict(sorted(Counter(lead.status_code for lead in leads).items())),
        paid_count=len(paid),
        paid_sum=total(amounts),
        paid_uncounted=uncounted,
        median_take_minutes={who: statistics.median(v) for who, v in sorted(waits.items())},
        by_site=dict(sorted(Counter(lead.site_key for lead in leads).items())),
        by_manager=by_manager,
    )


def paid_at(lead: Lead) -> datetime | None:
    """When a lead was paid, as `storage.queries.reports.paid_moment` says."""
    return lead.pay_time_done or lead.pay_time_create


def by_day(
    leads: Sequence[Lead],
    paid: Sequence[Lead],
    *,
    since: datetime,
    until: datetime,
    zone: tzinfo,
) -> DaySeries:
    """Every local day from `since` to `until` (at most `MAX_DAYS`), empty ones included."""
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range(min((last - first).days + 1, MAX_DAYS))]
    index = {day: n for n, day in enumerate(days)}
    by_status: dict[int, list[int]] = {}
    for lead in leads:
        if lead.created_at is None:
            continue
        slot = index.get(lead.created_at.astimezone(zone).date())
        if slot is not None:
            by_status.setdefault(lead.status_code, [0] * len(days))[slot] += 1
    sums = [Decimal(0)] * len(days)
    for lead in paid:
        moment = paid_at(lead)
        amount = parse_amount(lead.pay_summ) if lead.pay_summ else None
        slot = index.get(moment.astimezone(zone).date()) if moment else None
        if slot is not None and amount is not None:
            sums[slot] = total([sums[slot], amount])
    return DaySeries(days=days, by_status=dict(sorted(by_status.items())), paid=sums)
