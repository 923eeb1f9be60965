"""What the admin API answers: public views of the stored rows."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, computed_field

from integrations.amounts import parse_amount
from storage.models import InboxEvent, LeadBase

MAX_BODY_SHOWN = 64 * 1024


def _plain(summ: str | None) -> str | None:
    amount = parse_amount(summ)
    return format(amount, "f") if amount is not None else None


class Problem(BaseModel):
    """An error the caller can act on: `detail` says what is wrong."""

    detail: str
    event_id: int | None = None


# The webhook routes' answers to a body they do not read (`webhooks.forms`).
INVALID_LENGTH = "Invalid Content-Length header."
TOO_LARGE = "Body larger than 1 MiB."


def problems(descriptions: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """A route's OpenAPI `responses`: each status answered with a `Problem`, as described."""
    return {code: {"model": Problem, "description": text} for code, text in descriptions.items()}


def _without_defaults(schema: dict[str, Any]) -> None:
    for field_schema in schema.get("properties", {}).values():
        field_schema.pop("default", None)


class LeadPublic(LeadBase):
    # Every field is in every answer: required, and the table's defaults are not the API's.
    model_config = {
        "json_schema_serialization_defaults_required": True,
        "json_schema_extra": _without_defaults,
    }

    id: int

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
