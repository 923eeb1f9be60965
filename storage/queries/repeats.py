"""Repeat leads: earlier leads, of any site, with the same phone or e-mail.

One seek down `ix_lead_client_phone_normalized` and one down
`ix_lead_client_email_normalized` (each a handful of rows: one client's leads), so the
look-up stays cheap on the card's path however many leads the table holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Lead

# A client who wrote more often than this is counted as this many: the badge says "50+".
MAX_COUNTED = 50


@dataclass(frozen=True, slots=True)
class Repeat:
    """What earlier leads say of a lead: `earlier` is how many (up to `MAX_COUNTED`),
    `first_at` when the first of them came, `latest` the one just before this lead, and
    `owner`/`owner_name` the manager who took the most recent earlier lead anyone took
    (where a rule may route the repeat)."""

    earlier: int
    first_at: datetime
    latest: Lead
    owner: int | None = None
    owner_name: str | None = None

    @property
    def is_repeat(self) -> bool:
        return self.earlier > 0

    @property
    def request_number(self) -> int:
        """This lead's place among the client's requests: 2 for the second."""
        return self.earlier + 1


def lead_moment(lead: Lead) -> datetime:
    """When a lead came: Flexbe's time, or when it reached us if Flexbe gave none."""
    return lead.created_at or lead.received_at


def _earlier_leads(*, by_phone: bool, by_email: bool) -> Any:
    lead_id: BindParameter[int] = bindparam("lead_id")
    moment: BindParameter[datetime] = bindparam("moment")
    contacts = []
    if by_phone:
        contacts.append(col(Lead.client_phone_normalized) == bindparam("phone"))
    if by_email:
        contacts.append(col(Lead.client_email_normalized) == bindparam("email"))
    # Only the columns the badge counts with: a lead's row carries its raw form, and a client
    # who has written fifty times would cost fifty of those on every card.
    return (
        select(
            col(Lead.id),
            col(Lead.created_at),
            col(Lead.taken_by),
            col(Lead.taken_by_name),
        )
        .where(
            or_(*contacts),
            col(Lead.id) != lead_id,
            col(Lead.created_at) >= bindparam("since"),
            # Same second and an older id: a double submit is a repeat, its first not.
            or_(
                col(Lead.created_at) < moment,
                (col(Lead.created_at) == moment) & (col(Lead.id) < lead_id),
            ),
        )
        .order_by(col(Lead.created_at).desc(), col(Lead.id).desc())
        .limit(MAX_COUNTED)
    )


# Built once for each set of contacts (every card looks up its lead's earlier ones): building
# the statement costs more than running it.
_EARLIER_LEADS = {
    (phone, email): _earlier_leads(by_phone=phone, by_email=email)
    for phone in (True, False)
    for email in (True, False)
    if phone or email
}


def earlier_leads_query(lead: Lead, window: timedelta) -> tuple[Any, dict[str, Any]] | None:
    """The leads before `lead` within `window` with its phone or e-mail, latest first, and
    the statement's parameters; None when it has neither contact."""
    phone, email = lead.client_phone_normalized, lead.client_email_normalized
    if not (phone or email) or lead.id is None:
        return None
    moment = lead_moment(lead)
    params = {
        "lead_id": lead.id,
        "moment": moment,
        "since": moment - window,
        "phone": phone,
        "email": email,
    }
    return _EARLIER_LEADS[(bool(phone), bool(email))], params


async def find_repeat(session: AsyncSession, *, lead: Lead, window: timedelta) -> Repeat | None:
    """What the earlier leads with `lead`'s phone or e-mail within `window` say of it;
    None when there are none (or it has neither contact)."""
    found = earlier_leads_query(lead, window)
    if found is None:
        return None
    query, params = found
    earlier = list((await session.exec(query, params=params)).all())
    if not earlier:
        return None
    latest = await session.get(Lead, earlier[0].id)
    if latest is None:  # deleted between the two reads
        return None
    owner = next((row for row in earlier if row.taken_by is not None), None)
    # The window's bound leaves out leads without Flexbe's time: each row has `created_at`.
    first_at = earlier[-1].created_at or lead_moment(latest)
    return Repeat(
        earlier=len(earlier),
        first_at=first_at,
        latest=latest,
        owner=owner.taken_by if owner else None,
        owner_name=owner.taken_by_name if owner else None,
    )
