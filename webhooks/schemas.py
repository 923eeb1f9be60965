"""What the admin API answers: public views of the stored rows."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, Field, computed_field

from integrations.amounts import parse_amount
from storage.models import InboxEvent

MAX_BODY_SHOWN = 64 * 1024


def _plain(summ: str | None) -> str | None:
    amount = parse_amount(summ)
    return format(amount, "f") if amount is not None else None


class Problem(BaseModel):
    """An error the caller can act on: `detail` says what is wrong."""

    detail: str
    event_id: int | None = None


class LeadPublic(BaseModel):
    id: int
    site_key: str
    flexbe_id: int
    num: int | None
    created_at: datetime | None
    status_code: int
    status_name: str
    client_name: str
    client_phone: str
    client_email: str
    note: str
    form_name: str
    form_data: dict[str, Any]
    page_url: str
    page_name: str
    utm: dict[str, Any]
    pay_id: str | None
    pay_summ: str | None
    pay_status_code: int | None
    pay_status_name: str | None
    pay_desc: str | None
    pay_link: str | None
    pay_test: bool | None
    pay_time_create: datetime | None
    pay_time_done: datetime | None
    flexbe_site_id: str | None = Field(
        description="Flexbe's id of the site (the webhook's `site[id]`); none from getLeads."
    )
    site_domain: str | None = Field(description="The webhook's `site[domain]`, if sent.")
    site_name: str | None = Field(description="The webhook's `site[name]`, if sent.")
    origin: str
    taken_by: int | None
    taken_by_name: str | None
    taken_at: datetime | None
    received_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pay_amount(self) -> str | None:
        """`pay_summ` as a plain decimal when it is a computable amount, else null."""
        return _plain(self.pay_summ)


class PaymentPublic(BaseModel):
    id: int
    pay_id: str | None
    summ: str | None
    status_code: int | None
    status_name: str | None
    desc: str | None
    pay_link: str | None
    test: bool | None
    time_create: datetime | None
    time_done: datetime | None
    received_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def amount(self) -> str | None:
        """`summ` as a plain decimal when it is a computable amount, else null."""
        return _plain(self.summ)


class InboxEventPublic(BaseModel):
    id: int
    site_key: str | None
    event: str
    outcome: str
    error: str | None
    lead_id: int | None
    content_type: str
    received_at: datetime
    body: str
    body_truncated: bool

    @classmethod
    def of(cls, row: InboxEvent) -> InboxEventPublic:
        shown = row.body[:MAX_BODY_SHOWN]
        return cls(
            id=row.id or 0,
            site_key=row.site_key,
            event=row.event,
            outcome=row.outcome,
            error=row.error,
            lead_id=row.lead_id,
            content_type=row.content_type,
            received_at=row.received_at,
            body=shown.decode("utf-8", "replace"),
            body_truncated=len(row.body) > MAX_BODY_SHOWN,
        )


class LeadDetail(LeadPublic):
    payments: list[PaymentPublic]
    events: list[InboxEventPublic]


class LeadPage(BaseModel):
    items: list[LeadPublic]
    next_cursor: str | None


class InboxPage(BaseModel):
    items: list[InboxEventPublic]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix == "id" and value.isdigit() and len(value) <= 18:
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise HTTPException(status.HTTP_400_BAD_REQUEST, "invalid cursor: pass `next_cursor` as given")
