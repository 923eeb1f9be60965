"""Leads and their payment history: portable upserts used by intake and sync."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import Lead, LeadOrigin, Payment


class LeadSnapshot(BaseModel):
    """What Flexbe says a lead is now, in column form; intake and sync both produce it."""

    model_config = ConfigDict(frozen=True)

    flexbe_id: int
    num: int | None = None
    created_at: datetime | None = None
    status_code: int = 0
    status_name: str = ""
    client_name: str = ""
    client_phone: str = ""
    client_phone_normalized: str = ""
    client_email: str = ""
    note: str = ""
    form_name: str = ""
    form_data: dict[str, Any] = {}
    page_url: str = ""
    page_name: str = ""
    utm: dict[str, Any] = {}
    pay_id: str | None = None
    pay_summ: str | None = None
    pay_status_code: int | None = None
    pay_status_name: str | None = None
    pay_desc: str | None = None
    pay_link: str | None = None
    pay_test: bool | None = None
    pay_time_create: datetime | None = None
    pay_time_done: datetime | None = None

    def payment(self) -> PaymentSnapshot | None:
        if self.pay_id is None and self.pay_summ is None and self.pay_status_code is None:
            return None
        return PaymentSnapshot(
            pay_id=self.pay_id,
            summ=self.pay_summ,
            status_code=self.pay_status_code,
            status_name=self.pay_status_name,
            desc=self.pay_desc,
            pay_link=self.pay_link,
            test=self.pay_test,
            time_create=self.pay_time_create,
            time_done=self.pay_time_done,
        )


class PaymentSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    pay_id: str | None = None
    summ: str | None = None
    status_code: int | None = None
    status_name: str | None = None
    desc: str | None = None
    pay_link: str | None = None
    test: bool | None = None
    time_create: datetime | None = None
    time_done: datetime | None = None

    def fingerprint(self) -> str:
        """Identifies a payment state: the same state delivered again is not a new entry."""
        state = [self.pay_id, self.summ, self.status_code, self.time_done, self.test]
        return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()


class LeadChange(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class UpsertResult:
    lead: Lead
    change: LeadChange
    changed_fields: frozenset[str]


# Fields a later event never clears: Flexbe sends partial groups, and an empty value
# in a `pay` event must not wipe what the `lead` event said.
_KEEP_WHEN_EMPTY = frozenset(LeadSnapshot.model_fields) - {"status_code", "status_name"}


async def get_lead(session: AsyncSession, *, site_key: str, flexbe_id: int) -> Lead | None:
    result = await session.exec(
        select(Lead).where(Lead.site_key == site_key, Lead.flexbe_id == flexbe_id)
    )
    return result.first()


async def upsert_lead(
    session: AsyncSession,
    *,
    site_key: str,
    snapshot: LeadSnapshot,
    origin: LeadOrigin,
) -> UpsertResult:
    """Create the lead or bring it up to date; safe against a concurrent insert of the same lead."""
    lead = await get_lead(session, site_key=site_key, flexbe_id=snapshot.flexbe_id)
    if lead is None:
        now = utcnow()
        values = snapshot.model_dump()
        values["created_at"] = snapshot.created_at or now
        candidate = Lead(
            site_key=site_key, origin=origin.value, received_at=now, updated_at=now, **values
        )
        try:
            async with session.begin_nested():
                session.add(candidate)
        except IntegrityError:
            lead = await get_lead(session, site_key=site_key, flexbe_id=snapshot.flexbe_id)
            if lead is None:
                raise
        else:
            return UpsertResult(candidate, LeadChange.CREATED, frozenset(values))
    changed = _apply(lead, snapshot)
    if not changed:
        return UpsertResult(lead, LeadChange.UNCHANGED, frozenset())
    lead.version += 1
    lead.updated_at = utcnow()
    session.add(lead)
    await session.flush()
    return UpsertResult(lead, LeadChange.UPDATED, frozenset(changed))


def _apply(lead: Lead, snapshot: LeadSnapshot) -> set[str]:
    changed = set()
    for field, value in snapshot:
        if field == "created_at" and value is None:
            continue
        if field in _KEEP_WHEN_EMPTY and value in (None, "", {}):
            continue
        if getattr(lead, field) != value:
            setattr(lead, field, value)
            changed.add(field)
    return changed


async def record_payment(
    session: AsyncSession, *, lead_id: int, payment: PaymentSnapshot
) -> Payment | None:
    """Append a payment state to the lead's history; returns None when it is already there."""
    fingerprint = payment.fingerprint()
    if await _payment_exists(session, lead_id=lead_id, fingerprint=fingerprint):
        return None
    entry = Payment(lead_id=lead_id, fingerprint=fingerprint, **payment.model_dump())
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        return None
    return entry


async def _payment_exists(session: AsyncSession, *, lead_id: int, fingerprint: str) -> bool:
    result = await session.exec(
        select(Payment.id).where(Payment.lead_id == lead_id, Payment.fingerprint == fingerprint)
    )
    return result.first() is not None
