"""Flexbe site API: `checkConnection`, `getLeads` (with paging), `changeLead`.

Calls are POST forms to the site's API URL (`https://site/mod/api/`) carrying `api_key`
and `method`, so the key stays out of URLs and access logs. Nested `changeLead` fields go
PHP-style (`client[name]=…`). Error codes 0, 1, 2 become `InvalidApiKey`, `RateLimited`
(retried after a pause) and `UnknownMethod`. Each site's calls stay within Flexbe's 100
requests a minute through a limiter shared by every client of that site in the process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any

from pydantic import SecretStr, ValidationError

from domain.statuses import LeadStatus, PayStatus
from integrations._base import BaseClient, ErrorFamily
from integrations.amounts import computable
from integrations.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    IntegrationError,
)
from integrations.flexbe_models import LeadData, describe_errors
from integrations.ratelimit import Limiter, shared_limiter

RATE_LIMIT_CALLS = 100
# A second more than Flexbe's minute: its window starts when a request arrives, ours when
# it leaves, and a call refused with code 1 costs a pause far longer than that second.
RATE_LIMIT_WINDOW_SECONDS = 61.0
MAX_PAGE_SIZE = 1000
# How long to wait when Flexbe says the minute's budget is spent.
RATE_LIMITED_PAUSE_SECONDS = 10.0


class FlexbeError(IntegrationError):
    service = "Flexbe"


class FlexbeConnectionError(FlexbeError, APIConnectionError):
    pass


class FlexbeTimeoutError(FlexbeConnectionError, APITimeoutError):
    pass


class FlexbeStatusError(FlexbeError, APIStatusError):
    pass


class FlexbeResponseError(FlexbeError, APIResponseError):
    pass


class InvalidApiKey(FlexbeError):
    """Code 0: the site's API key is wrong (LEADRELAY_FLEXBE_API_KEY or the site's key)."""


class RateLimited(FlexbeError):
    """Code 1: more than 100 requests in a minute."""

    retryable = True


class UnknownMethod(FlexbeError):
    """Code 2: the API does not know the method."""


_CODES: dict[int, type[FlexbeError]] = {0: InvalidApiKey, 1: RateLimited, 2: UnknownMethod}


@dataclass(frozen=True, slots=True)
class UnreadableLead:
    """A lead of a `getLeads` answer that does not parse, kept as Flexbe sent it."""

    flexbe_id: str  # as Flexbe gave it: the answer's key or the lead's `id`; "?" if neither
    raw: Any
    reason: str  # names the lead and each field at fault


@dataclass(frozen=True, slots=True)
class LeadsPage:
    """One page of `getLeads`: the leads that parse and those that do not. One bad lead
    does not cost the page: the caller stores the good ones and keeps the bad ones raw."""

    leads: list[LeadData] = field(default_factory=list)
    unreadable: list[UnreadableLead] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many leads Flexbe answered, readable or not: what paging counts."""
        return len(self.leads) + len(self.unreadable)

    @classmethod
    def parse(cls, answered: Any) -> LeadsPage:
        """`data.leads`: an object keyed by lead id, or [] (or nothing) when none matched."""
        if isinstance(answered, dict):
            entries = [(str(key), raw) for key, raw in answered.items()]
        elif isinstance(answered, list):
            entries = [("", raw) for raw in answered]
        elif not answered:
            entries = []
        else:
            raise FlexbeResponseError(
                "getLeads answered `leads` that is neither an object nor a list",
                body=str(answered)[:500],
            )
        page = cls()
        for key, raw in entries:
            try:
                page.leads.append(LeadData.model_validate(raw))
            except ValidationError as exc:
                flexbe_id = _raw_id(raw) or key or "?"
                reason = f"getLeads lead {flexbe_id[:40]}: {describe_errors(exc)}"
                page.unreadable.append(UnreadableLead(flexbe_id[:40], raw, reason))
        return page


class FlexbeClient(BaseClient):
    errors = ErrorFamily(
        FlexbeError,
        FlexbeConnectionError,
        FlexbeTimeoutError,
        FlexbeStatusError,
        FlexbeResponseError,
    )

    def __init__(
        self, api_url: str, api_key: str, *, limiter: Limiter | None = None, **options: Any
    ) -> None:
        super().__init__(api_url, **options)
        # Kept masked, so neither a repr nor a dump of the client's attributes shows it.
        self._api_key = SecretStr(api_key)
        self._limiter = limiter or shared_limiter(
            self.base_url, limit=RATE_LIMIT_CALLS, window=RATE_LIMIT_WINDOW_SECONDS
        )

    async def check_connection(self) -> bool:
        answer = await self._call("checkConnection", [])
        return bool(answer.get("status"))

    async def get_leads(
        self,
        *,
        status: LeadStatus | int | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        client_phone: str | None = None,
        client_email: str | None = None,
        start: int = 0,
        count: int = 25,
    ) -> LeadsPage:
        """One page of leads, newest first; leads that do not parse come apart, raw."""
        if not 1 <= count <= MAX_PAGE_SIZE:
            raise ValueError(f"count must be between 1 and {MAX_PAGE_SIZE}")
        if start < 0:
            raise ValueError("start must not be negative")
        fields: list[tuple[str, str]] = [("start", str(start)), ("count", str(count))]
        if status is not None:
            fields.append(("status", str(int(status))))
        if date_from is not None:
            fields.append(("date_from", str(int(date_from.timestamp()))))
        if date_to is not None:
            fields.append(("date_to", str(int(date_to.timestamp()))))
        if client_phone:
            fields.append(("client_phone", client_phone))
        if client_email:
            fields.append(("client_email", client_email))
        answer = await self._call("getLeads", fields)
        data = answer.get("data")
        if not isinstance(data, dict):
            raise FlexbeResponseError("getLeads answered without `data`", body=str(answer)[:500])
        return LeadsPage.parse(data.get("leads"))

    async def iter_leads(
        self, *, page_size: int = MAX_PAGE_SIZE, **query: Any
    ) -> AsyncIterator[LeadsPage]:
        """Every page of a query, one at a time, so memory stays flat however many leads."""
        start = 0
        while True:
            page = await self.get_leads(start=start, count=page_size, **query)
            if page.size:
                yield page
            if page.size < page_size:
                return
            start += page_size

    async def change_lead(
        self,
        lead_id: int,
        *,
        status: LeadStatus | int | None = None,
        client_name: str | None = None,
        client_phone: str | None = None,
        client_email: str | None = None,
        note: str | None = None,
        pay_summ: Decimal | None = None,
        pay_status: PayStatus | int | None = None,
        pay_desc: str | None = None,
    ) -> dict[str, Any]:
        fields: list[tuple[str, str]] = [("id", str(lead_id))]
        amount = None if pay_summ is None else computable(pay_summ)
        if pay_summ is not None and amount is None:
            raise ValueError("pay_summ is not a computable amount")
        optional: list[tuple[str, Any]] = [
            ("status", status),
            ("client[name]", client_name),
            ("client[phone]", client_phone),
            ("client[email]", client_email),
            ("note", note),
            ("pay[summ]", None if amount is None else format(amount, "f")),
            ("pay[status]", pay_status),
            ("pay[desc]", pay_desc),
        ]
        for name, value in optional:
            if value is not None:
                fields.append((name, str(int(value)) if isinstance(value, IntEnum) else str(value)))
        if len(fields) == 1:
            raise ValueError("change_lead needs at least one field to change")
        return await self._call("changeLead", fields)

    async def _call(self, method: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
        form = [("api_key", self._api_key.get_secret_value()), ("method", method), *fields]

        async def once() -> dict[str, Any]:
            await self._limiter.acquire()
            answer = self._json(await self._send("POST", "", form=form))
            if not isinstance(answer, dict):
                raise FlexbeResponseError(f"{method} answered a non-object", body=str(answer)[:500])
            error = answer.get("error")
            if isinstance(error, dict):
                raise _error(error, method)
            return answer

        result: dict[str, Any] = await self._with_retries(once, method)
        return result


def _raw_id(raw: Any) -> str:
    value = raw.get("id") if isinstance(raw, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _error(error: dict[str, Any], method: str) -> FlexbeError:
    try:
        code = int(error.get("code", -1))
    except (TypeError, ValueError):
        code = -1
    text = str(error.get("msg") or "")[:200]
    kind = _CODES.get(code, FlexbeError)
    retry_after = RATE_LIMITED_PAUSE_SECONDS if kind is RateLimited else None
    return kind(f"Flexbe {method} failed with code {code}: {text}", retry_after=retry_after)
