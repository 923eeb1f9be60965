"""A loopback Flexbe: the site API of the seed (`checkConnection`, `getLeads`, `changeLead`)
with its error codes and its rate limit, and a sender of PHP-style webhooks.

Tests seed leads with `add_lead` (or, among them, leads that do not parse with
`add_broken_lead`), change them as a manager would in the Flexbe admin with `set_status`,
read `requests` (or `calls(method)`) to see what leadrelay asked, and make it misbehave
with `fail_next(...)` or `outage.start(...)` (see `testkit.fakes.server`).
The API answers at `api_url` (`{base_url}/mod/api/`); `base_url` is set by whoever serves
the app (the `flexbe_fake` fixture of `testkit.fakes.fixtures` does). Invalid key: code 0; past
`rate_limit` requests in `rate_window` seconds (of `clock`) for the key: code 1; unknown
method: code 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from testkit.fakes.cues import cued_answer
from testkit.fakes.server import Down, FakeApp, Outage, Scripted
from webhooks.forms import encode_form, parse_form

STATUS_NAMES = {0: "Новый", 1: "Обработан", 2: "Выполнен", 10: "Отменен", 11: "Удален"}
PAY_STATUS_NAMES = {0: "Ожидает оплаты", 1: "В процессе", 2: "Оплачен", 3: "Ошибка оплаты"}


@dataclass
class FlexbeRequest:
    method: str
    fields: dict[str, Any]


@dataclass
class FlexbeFake:
    api_key: str = "flexbe-key-0123456789"
    rate_limit: int = 100
    rate_window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    leads: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[FlexbeRequest] = field(default_factory=list)
    # Answers given instead of the real one, first in first out (see `fail_next`).
    scripted: list[Scripted] = field(default_factory=list)
    outage: Outage = field(default_factory=Outage)
    base_url: str = ""
    _calls: list[float] = field(default_factory=list)
    _newest_first: list[dict[str, Any]] | None = None
    # The time a broken lead is paged by, when its own `time` is not a number.
    _sort_time: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.app = FakeApp(self._endpoint)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/mod/api/"

    # --- what tests use -------------------------------------------------------------------
    def add_lead(self, lead_id: int, **overrides: Any) -> dict[str, Any]:
        lead: dict[str, Any] = {
            "id": str(lead_id),
            "num": str(lead_id),
            "time": str(int(overrides.pop("time", 1_767_225_600 + lead_id))),
            "status": {"code": "0", "name": STATUS_NAMES[0]},
            "client": {"name": f"Клиент {lead_id}", "phone": "+7 999 000-00-00", "email": ""},
            "note": "",
            "form_name": "Заявка",
            "form_data": {},
            "page": {"url": "https://okna-spb.ru/", "name": "Главная"},
            "utm": {},
        }
        lead.update(overrides)
        self.leads[lead_id] = lead
        self._newest_first = None
        return lead

    def add_broken_lead(
        self, lead_id: int, *, at: int | None = None, **broken: Any
    ) -> dict[str, Any]:
        """A lead served among the others with these fields (any but `id`) as given, e.g.
        `status={"code": "новый"}` or `time="вчера"`: what a client cannot parse. Paging
        and filters place it at `at` (a timestamp; by default as `add_lead` would)."""
        assert "id" not in broken, "the fake finds its leads by id"
        lead = self.add_lead(lead_id, **({} if at is None else {"time": at}))
        sort_time = lead["time"]
        lead.update(broken)
        self._sort_time[lead_id] = sort_time
        return lead

    def set_status(self, lead_id: int, code: int) -> None:
        self.leads[lead_id]["status"] = {"code": str(code), "name": STATUS_NAMES[code]}

    def fail_next(self, *answers: Scripted) -> None:
        """Answer the next requests with these instead (an HTTP status, a body, DOWN)."""
        self.scripted.extend(answers)

    def rate_limited(self) -> None:
        """Spend the current window's budget, so the next call is refused with code 1."""
        self._calls = [self.clock()] * self.rate_limit

    def calls(self, method: str) -> list[FlexbeRequest]:
        return [request for request in self.requests if request.method == method]

    def changes(self, lead_id: int) -> list[dict[str, Any]]:
        """The fields of each `changeLead` of this lead, as sent (nested: `client`, `pay`),
        without the key and method."""
        return [
            {k: v for k, v in request.fields.items() if k not in ("api_key", "method", "id")}
            for request in self.calls("changeLead")
            if str(request.fields.get("id")) == str(lead_id)
        ]

    # --- the API --------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response | Down:
        if request.url.path != "/mod/api/":
            return JSONResponse({"message": "not found"}, status_code=404)
        fields: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            fields.update(parse_form(await request.body()))
        method = str(fields.get("method", ""))
        self.requests.append(FlexbeRequest(method, fields))
        cued = cued_answer(self.outage, self.scripted)
        if cued is not None:
            return cued
        if fields.get("api_key") != self.api_key:
            return _error(0, "Invalid api_key")
        if not self._within_rate_limit():
            return _error(1, "Request limit is exceeded")
        handler = {
            "checkConnection": self._check_connection,
            "getLeads": self._get_leads,
            "changeLead": self._change_lead,
        }.get(method)
        if handler is None:
            return _error(2, "Nonexistent method")
        return JSONResponse(handler(fields))

    def _within_rate_limit(self) -> bool:
        now = self.clock()
        self._calls = [moment for moment in self._calls if moment > now - self.rate_window]
        if len(self._calls) >= self.rate_limit:
            return False
        self._calls.append(now)
        return True

    def _check_connection(self, _fields: dict[str, Any]) -> dict[str, Any]:
        return {"status": 1}

    def _get_leads(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self._newest_first is None or len(self._newest_first) != len(self.leads):
            # Sorted once per change of the lead set: a 100,000-lead backfill asks 100 times.
            self._newest_first = sorted(self.leads.values(), key=self._time, reverse=True)
        matching = self._newest_first
        if "status" in fields:
            matching = [
                lead
                for lead in matching
                if isinstance(lead["status"], dict)
                and lead["status"].get("code") == str(fields["status"])
            ]
        if "date_from" in fields:
            matching = [lead for lead in matching if self._time(lead) >= int(fields["date_from"])]
        if "date_to" in fields:
            matching = [lead for lead in matching if self._time(lead) <= int(fields["date_to"])]
        if "client_phone" in fields:
            matching = [l for l in matching if l["client"]["phone"] == fields["client_phone"]]  # noqa: E741
        if "client_email" in fields:
            matching = [l for l in matching if l["client"]["email"] == fields["client_email"]]  # noqa: E741
        start = int(fields.get("start", 0))
        count = min(int(fields.get("count", 25)), 1000)
        page = matching[start : start + count]
        # Flexbe's PHP answers an empty array as [] and a filled one keyed by id.
        leads: dict[str, Any] | list[Any] = {lead["id"]: lead for lead in page} if page else []
        return {"status": 1, "data": {"leads": leads}}

    def _time(self, lead: dict[str, Any]) -> int:
        return int(self._sort_time.get(int(lead["id"]), lead["time"]))

    def _change_lead(self, fields: dict[str, Any]) -> dict[str, Any]:
        lead = self.leads.get(int(fields.get("id", 0)))
        if lead is None:
            return {"status": 0, "error": {"code": 3, "msg": "Lead not found"}}
        if "status" in fields:
            code = int(fields["status"])
            lead["status"] = {"code": str(code), "name": STATUS_NAMES.get(code, str(code))}
        # The seed's fields: client[name|phone|email], note, pay[summ|status|desc].
        client = fields.get("client", {})
        for key in ("name", "phone", "email"):
            if isinstance(client, dict) and key in client:
                lead.setdefault("client", {})[key] = client[key]
        if "note" in fields:
            lead["note"] = fields["note"]
        pay_fields = fields.get("pay")
        if isinstance(pay_fields, dict):
            pay = lead.setdefault("pay", {})
            if "summ" in pay_fields:
                pay["summ"] = pay_fields["summ"]
            if "status" in pay_fields:
                code = int(pay_fields["status"])
                pay["status"] = {"code": str(code), "name": PAY_STATUS_NAMES.get(code, str(code))}
            if "desc" in pay_fields:
                pay["desc"] = pay_fields["desc"]
        return {"status": 1, "data": {"lead": lead}}


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "msg": message}})


async def send_webhook(
    url: str, event: str, lead: dict[str, Any], site: dict[str, Any] | None = None
) -> httpx.Response:
    """POST a webhook as Flexbe does: a PHP-style form with percent-encoded brackets."""
    body = encode_form(
        {"event": event, "site": site or {"id": "174911", "domain": "okna-spb.ru"}, "data": lead}
    )
    async with httpx.AsyncClient() as http:
        return await http.post(
            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
