"""A lead and a payment state as Flexbe describes them, ready to store (see `ingest`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from domain.statuses import LeadStatus
from storage.queries.fragments import fold


# Plain dataclasses, built from models already validated: once per webhook, where even a
# pydantic model's unvalidated construction cost twice as much. Not frozen (nothing assigns
# to them), because a frozen one sets each field through `object.__setattr__`.
@dataclass(slots=True, kw_only=True)
class LeadSnapshot:
    """What Flexbe says a lead is now, in column form; intake and sync both produce it.

    Its fields are the table's (`storage.models.Lead`) less the service's own (key, site,
    origin, taker, lock, timestamps), with the same types and defaults: a test holds them so
    (tests/storage/test_lead_fields.py)."""

    flexbe_id: int
    num: int | None = None
    created_at: datetime | None = None
    status_code: int = LeadStatus.NEW
    status_name: str = ""
    client_name: str = ""
    client_phone: str = ""
    client_phone_normalized: str = ""
    client_email: str = ""
    client_email_normalized: str = ""
    # Derived from `client_name` (`__post_init__`): the name as a part of it is searched.
    client_name_folded: str = field(default="", init=False)
    note: str = ""
    form_name: str = ""
    form_data: dict[str, Any] = field(default_factory=dict)
    page_url: str = ""
    page_name: str = ""
    utm: dict[str, Any] = field(default_factory=dict)
    pay_id: str | None = None
    pay_summ: str | None = None
    pay_status_code: int | None = None
    pay_status_name: str | None = None
    pay_desc: str | None = None
    pay_link: str | None = None
    pay_test: bool | None = None
    pay_time_create: datetime | None = None
    pay_time_done: datetime | None = None
    # The webhook's `site` block: Flexbe's id of the site, its domain and name, if sent.
    flexbe_site_id: str | None = None
    site_domain: str | None = None
    site_name: str | None = None

    def __post_init__(self) -> None:
        self.client_name_folded = fold(self.client_name)

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LEAD_FIELDS}

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


@dataclass(slots=True, kw_only=True)
class PaymentSnapshot:
    pay_id: str | None = None
    summ: str | None = None
    status_code: int | None = None
    status_name: str | None = None
    desc: str | None = None
    pay_link: str | None = None
    test: bool | None = None
    time_create: datetime | None = None
    time_done: datetime | None = None

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PAYMENT_FIELDS}

    def fingerprint(self) -> str:
        """Identifies a payment state: the same state delivered again is not a new entry."""
        state = [self.pay_id, self.summ, self.status_code, self.time_done, self.test]
        return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()


LEAD_FIELDS = tuple(column.name for column in fields(LeadSnapshot))
PAYMENT_FIELDS = tuple(column.name for column in fields(PaymentSnapshot))
