"""Leads handed out in turn (`assign:next`, and each offer of `offer:`): a weighted
round-robin whose state is in the database, so that it holds across worker processes and
restarts.

The turn is nginx's smooth weighted round-robin: at each turn every manager on shift who
receives the site has their credit raised by their weight, the highest credit gets the turn
(ties to the lower Telegram id) and gives back the total of the weights. A weight of 2 gets
two turns for every one of a weight of 1, spread out (B A B, not B B A); a manager away or
off shift is left out, their credit untouched. The site's turn row is locked while a turn
is picked (`storage.queries.turns.lock_turn`), and the turn is recorded per lead and
hand-out in the same transaction as the credits' change: a rerun finds it and takes no
second turn.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.owners import assignable
from bot.senders import Sender
from config.working_time import WorkingHours
from domain.jobs import NOBODY_ON_SHIFT, LeadMessagePayload, nobody_on_shift_key
from domain.team import DEFAULT_WEIGHT, MAX_WEIGHT
from storage.models import Lead, Manager
from storage.queries.jobs import enqueue_job
from storage.queries.turns import credits_of, lock_turn, record_turn, recorded_turn

log = logging.getLogger(__name__)


def weight_of(manager: Manager) -> int:
    """The stored weight, held to its range (a row edited by hand cannot stop the turn)."""
    weight = manager.weight if isinstance(manager.weight, int) else DEFAULT_WEIGHT
    return min(max(weight, 1), MAX_WEIGHT)


async def next_in_turn(
    session: AsyncSession,
    lead: Lead,
    *,
    step: int,
    hours: WorkingHours,
    now: datetime,
    skip: Collection[int] = (),
) -> Manager | None:
    """The manager whose turn it is for the lead's `step`-th hand-out (0 for assign:next; the
    n-th offer of an offer rule), among the active managers on shift now who receive the lead's
    site (`bot.owners.assignable`), by weight (`Manager.weight`), skipping the Telegram ids in
    `skip`. The turn is stored once per (lead, step): a rerun (a crash, a second worker) returns
    the manager already recorded, and never takes a second turn. None when nobody is on shift."""
    assert lead.id is not None
    # Locked first: a second worker on the same lead waits here, then finds the turn taken.
    turn = await lock_turn(session, lead.site_key)
    taken = await recorded_turn(session, lead_id=lead.id, step=step)
    if taken is not None:
        return await session.get(Manager, taken.manager_id)
    eligible = [
        m
        for m in await assignable(session, lead, hours=hours, now=now)
        if m.telegram_id not in skip
    ]
    if not eligible:
        return None
    credits = await credits_of(session, lead.site_key, (m.telegram_id for m in eligible))
    total = 0
    for manager in eligible:
        weight = weight_of(manager)
        credits[manager.telegram_id].credit += weight
        total += weight
    chosen = max(eligible, key=lambda m: (credits[m.telegram_id].credit, -m.telegram_id))
    credits[chosen.telegram_id].credit -= total
    await record_turn(
        session,
        turn,
        credits.values(),
        lead_id=lead.id,
        step=step,
        manager_id=chosen.telegram_id,
    )
    return chosen


async def tell_nobody_on_shift(session: AsyncSession, lead_id: int, admins: Iterable[int]) -> None:
    """Each admin is told once (the key) that nobody was on shift to give the lead to."""
    for admin in dict.fromkeys(admins):
        await enqueue_job(
            session,
            NOBODY_ON_SHIFT,
            LeadMessagePayload(chat_id=admin, lead_id=lead_id),
            dedupe_key=nobody_on_shift_key(lead_id, admin),
        )


class NobodyOnShift(Sender):
    """The handler of `telegram.nobody_on_shift`: the alert, in the admin's language, with
    the card's buttons, so the admin can assign the lead."""

    async def send(self, message: LeadMessagePayload) -> None:
        async with self.database.read() as session:
            lead = await session.get(Lead, message.lead_id)
        # Taken since: the alert no longer applies.
        if lead is None or lead.taken_by is not None:
            return
        await self.alert_admin(
            message.chat_id,
            lead,
            lambda number, site: _(
                "👥 Nobody is on shift to be given lead {lead} of {site}: it waits in the "
                "group for anyone to take."
            ).format(lead=number, site=site),
        )
