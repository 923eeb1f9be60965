"""The numbers behind `/stats`: leads by status, payments, time to take per manager."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from domain.statuses import PayStatus
from integrations.amounts import parse_amount, total
from storage.models import Lead


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


def compute(leads: Sequence[Lead]) -> Stats:
    by_status = Counter(lead.status_code for lead in leads)
    paid = [lead for lead in leads if lead.pay_status_code == PayStatus.PAID]
    sent = [lead.pay_summ for lead in paid if lead.pay_summ and lead.pay_summ.strip()]
    amounts = [amount for amount in map(parse_amount, sent) if amount is not None]
    waits: dict[str, list[float]] = defaultdict(list)
    for lead in leads:
        if lead.taken_at is not None and lead.created_at is not None:
            who = lead.taken_by_name or str(lead.taken_by)
            waits[who].append(max(0.0, (lead.taken_at - lead.created_at).total_seconds() / 60))
    return Stats(
        total=len(leads),
        by_status=dict(sorted(by_status.items())),
        paid_count=len(paid),
        paid_sum=total(amounts),
        paid_uncounted=len(sent) - len(amounts),
        median_take_minutes={who: statistics.median(v) for who, v in sorted(waits.items())},
    )
