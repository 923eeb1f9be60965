"""Speed-to-lead: the moments of a lead recorded once each, and the figures made of them.

The moments (`Lead.first_seen_at`, `first_owned_at`, `first_action_at`, `first_call_at`)
are set by a conditional update in the transaction of the event, never moved after: the
first card or summary line (`cards.record_first_card`, `mark_first_seen`), the first take
or assignment (`cards.take_lead`, `cards.assign_lead`), the first action of a manager or a
rule and the first call queued (`mark_first_action`, from `cards.start_action`, where every
action starts). `speed_figures` is pure: the bot's `/stats` and digest and the console's
overview show the same numbers; the working time it counts comes from the caller (config is
above storage), as the SLA counts it.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.calls import is_call_action
from domain.owners import TAKE_BACK, is_ownership
from domain.statuses import PayStatus
from storage.models import Action, Lead

# Acted on within this much working time: the share the figures show.
QUICK = timedelta(minutes=5)
# Lead ids per `IN (…)` of the take-back count: within every driver's bound of parameters.
_CHUNK = 500

# The working time between two moments of a site's lead: `WorkingHours.working_between` of
# the site's hours (the SLA's), picked by site key.
WorkingBetween = Callable[[str, datetime, datetime], timedelta]


def is_action(kind: str) -> bool:
    """Whether an action log's kind counts as acting on the lead: a status, a call, a
    note, a deal, an invoice, an edit. Taking, assigning, releasing and a take-back only
    change who has it."""
    return not is_ownership(kind) and kind != TAKE_BACK


async def mark_first_action(
    session: AsyncSession, *, lead_id: int, kind: str, at: datetime
) -> None:
    """Record the lead's first action, and its first call if `kind` queues one: one
    conditional update, none when the action changes only the owner."""
    if not is_action(kind):
        return
    values: dict[str, object] = {"first_action_at": func.coalesce(col(Lead.first_action_at), at)}
    unset: ColumnElement[bool] = col(Lead.first_action_at).is_(None)
    if is_call_action(kind):
        values["first_call_at"] = func.coalesce(col(Lead.first_call_at), at)
        unset = or_(unset, col(Lead.first_call_at).is_(None))
    await session.exec(update(Lead).where(col(Lead.id) == lead_id, unset).values(values))


async def mark_first_seen(session: AsyncSession, *, lead_ids: Sequence[int], at: datetime) -> None:
    """Leads listed in a summary delivered to a chat: seen, unless they were already."""
    if lead_ids:
        await session.exec(
            update(Lead)
            .where(col(Lead.id).in_(list(lead_ids)), col(Lead.first_seen_at).is_(None))
            .values(first_seen_at=at)
        )


async def take_backs(session: AsyncSession, *, lead_ids: Sequence[int]) -> Counter[int]:
    """How many times each lead was taken back from its owner."""
    counts: Counter[int] = Counter()
    ids = list(dict.fromkeys(lead_ids))
    for start in range(0, len(ids), _CHUNK):
        found = await session.exec(
            select(Action.lead_id, func.count())
            .where(col(Action.lead_id).in_(ids[start : start + _CHUNK]), Action.kind == TAKE_BACK)
            .group_by(col(Action.lead_id))
        )
        counts.update({lead_id: int(count) for lead_id, count in found.all()})
    return counts


@dataclass(frozen=True, slots=True)
class SpeedRow:
    """The figures of one manager, source or form. Times are working seconds from arrival
    (`received_at`) to the first action, over the leads acted on; `quick_share` is of all
    the leads (one never acted on is not acted on within 5 minutes)."""

    leads: int = 0
    acted: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    quick: int = 0
    taken_back: int = 0
    lost: dict[str, int] = field(default_factory=dict)
    paid: int = 0

    @property
    def quick_share(self) -> float | None:
        return self.quick / self.leads if self.leads else None


@dataclass(frozen=True, slots=True)
class SpeedFigures:
    """Keys: the owner's name ("" = nobody has it), the UTM source ("" = none), the form
    ("" = none); each ordered by leads, most first."""

    total: SpeedRow
    by_manager: dict[str, SpeedRow]
    by_source: dict[str, SpeedRow]
    by_form: dict[str, SpeedRow]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with `share` of them at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def owner_of(lead: Lead) -> str:
    if lead.taken_by is None:
        return ""
    return lead.taken_by_name or str(lead.taken_by)


def source_of(lead: Lead) -> str:
    source = lead.utm.get("utm_source") if isinstance(lead.utm, dict) else None
    return str(source) if source else ""


def waited(lead: Lead, working_between: WorkingBetween) -> timedelta | None:
    """Working time from the lead's arrival to its first action; None if not acted on."""
    if lead.first_action_at is None:
        return None
    if lead.first_action_at <= lead.received_at:
        return timedelta(0)
    return working_between(lead.site_key, lead.received_at, lead.first_action_at)


def _row(
    leads: Iterable[Lead], waits: Mapping[int, float | None], backs: Mapping[int, int]
) -> SpeedRow:
    mine = list(leads)
    times = [w for lead in mine if (w := waits[id(lead)]) is not None]
    return SpeedRow(
        leads=len(mine),
        acted=len(times),
        median_seconds=statistics.median(times) if times else None,
        p90_seconds=percentile(times, 0.9) if times else None,
        quick=sum(1 for t in times if t <= QUICK.total_seconds()),
        taken_back=sum(backs.get(lead.id, 0) for lead in mine if lead.id is not None),
        lost=dict(
            sorted(
                Counter(lead.lost_reason for lead in mine if lead.lost_reason is not None).items()
            )
        ),
        paid=sum(1 for lead in mine if lead.pay_status_code == PayStatus.PAID),
    )


def _grouped(
    leads: Sequence[Lead],
    key: Callable[[Lead], str],
    waits: Mapping[int, float | None],
    backs: Mapping[int, int],
) -> dict[str, SpeedRow]:
    groups: dict[str, list[Lead]] = defaultdict(list)
    for lead in leads:
        groups[key(lead)].append(lead)
    rows = {name: _row(group, waits, backs) for name, group in groups.items()}
    return dict(sorted(rows.items(), key=lambda item: (-item[1].leads, item[0])))


def speed_figures(
    leads: Sequence[Lead], *, working_between: WorkingBetween, taken_back: Mapping[int, int]
) -> SpeedFigures:
    """`leads`: those of the period; `taken_back`: take-backs per lead id (`take_backs`)."""
    waits: dict[int, float | None] = {}
    for lead in leads:
        wait = waited(lead, working_between)
        waits[id(lead)] = None if wait is None else wait.total_seconds()
    return SpeedFigures(
        total=_row(leads, waits, taken_back),
        by_manager=_grouped(leads, owner_of, waits, taken_back),
        by_source=_grouped(leads, source_of, waits, taken_back),
        by_form=_grouped(leads, lambda lead: lead.form_name, waits, taken_back),
    )
