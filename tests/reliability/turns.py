"""What the distribution's multi-process tests share: a team of four managers with weights,
a rule that hands every lead out in turn (`assign:next`), the round-robin's expected order,
and what each lead ended with."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, func, select

from storage.database import Database
from storage.models import Action, Lead, LeadTurn, Manager

WEIGHTS = {101: 1, 102: 1, 103: 1, 104: 2}
RULES = """
[[rules]]
site = "default"
name = "In turn"
do = ["assign:next"]
"""


async def seed_team(database: Database) -> None:
    async with database.write() as session:
        for telegram_id, weight in WEIGHTS.items():
            session.add(Manager(telegram_id=telegram_id, name=f"M{telegram_id}", weight=weight))


def rules_file(workdir: Path) -> str:
    path = workdir / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    return str(path)


def expected_turns(count: int) -> list[int]:
    """The smooth weighted round-robin over the whole team, as `bot.distribution` picks."""
    credits = dict.fromkeys(WEIGHTS, 0)
    total = sum(WEIGHTS.values())
    order = []
    for _ in range(count):
        for manager, weight in WEIGHTS.items():
            credits[manager] += weight
        chosen = max(credits, key=lambda m: (credits[m], -m))
        credits[chosen] -= total
        order.append(chosen)
    return order


@dataclass(frozen=True)
class Handed:
    owners: dict[int, int | None]  # lead id -> taken_by
    turns: list[LeadTurn]  # in the order taken
    assignments: Counter[int]  # lead id -> assign lines in its history


async def handed_out(database: Database) -> Handed:
    async with database.read() as session:
        leads = (await session.exec(select(Lead.id, Lead.taken_by))).all()
        turns = (await session.exec(select(LeadTurn).order_by(col(LeadTurn.number)))).all()
        lines = (
            await session.exec(
                select(Action.lead_id, func.count())
                .where(col(Action.kind).like("assign%"))
                .group_by(col(Action.lead_id))
            )
        ).all()
    return Handed(
        owners={lead_id: owner for lead_id, owner in leads if lead_id is not None},
        turns=list(turns),
        assignments=Counter(dict(lines)),
    )


async def assigned(database: Database) -> int:
    async with database.read() as session:
        query = select(func.count()).select_from(Lead).where(col(Lead.taken_by).is_not(None))
        return int((await session.exec(query)).one())


async def until_assigned(database: Database, count: int, *, timeout: float) -> int:
    """Until at least `count` leads have an owner: how many have."""
    deadline = time.monotonic() + timeout
    while (done := await assigned(database)) < count:
        assert time.monotonic() < deadline, f"{done} of {count} leads assigned in time"
        await asyncio.sleep(0.05)
    return done


def check_once_each(handed: Handed, leads: int) -> Counter[int]:
    """Each lead owned, by the one its one turn named, assigned once: the counts per manager."""
    assert len(handed.owners) == leads
    assert all(owner is not None for owner in handed.owners.values()), "a lead left unassigned"
    by_lead = {turn.lead_id: turn.manager_id for turn in handed.turns}
    assert len(handed.turns) == leads and len(by_lead) == leads, "one turn per lead"
    assert by_lead == handed.owners, "each lead's owner is the one its turn named"
    assert set(handed.assignments.values()) == {1}, "no lead assigned twice"
    assert set(handed.assignments) == set(handed.owners)
    return Counter(turn.manager_id for turn in handed.turns)


def check_even(counts: Counter[int]) -> None:
    """As even as the weights say: leads per weight unit within 1 of each other."""
    per_unit = [counts[manager] / weight for manager, weight in WEIGHTS.items()]
    assert max(per_unit) - min(per_unit) <= 1, counts
