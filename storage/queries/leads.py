"""A lead and a payment state as Flexbe describes them, ready to store (see `ingest`)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
