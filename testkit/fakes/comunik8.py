"""A loopback Comunik8 dialler: `POST /lead/add?key=…` and `/lead/cancel?key=…`.

    fake = Comunik8Fake()
    async with serve_app(fake.app) as fake.base_url: ...

Every documented outcome follows from the fake's state, as the dialler's would:

- a wrong `key`: 401 (Yii's JSON; the seed does not say — a guess);
- blank or malformed fields: 400 with per-field messages, e.g.
  `{"email": {"0": "Email cannot be blank."}}`, `data` that is not a JSON object string:
  `{"data": {"0": "Empty or invalid content of `data` field"}}`;
- a `type` not in `types`: `{"saved": true, "processed": false, "error": "Unknown Type"}`
  (checked in test mode too, so a test lead finds a wrong type);
- `test: true`: `{"test": "ok"}`, nothing saved;
- a number with a call waiting (`scheduled`): "Another call is already scheduled";
- a number already dialled (`contacts`, see `complete_call` / `add_contact`): "Existing
  Contact"; otherwise the call is scheduled: `{"saved": true, "processed": true}`;
- cancel: unknown type → "server error (call group)"; a waiting call → `{"cancelled":
  true}`; a dialled number → "already processed"; else "not found".

`requests` records every call (query and JSON body); `fail_next(...)` scripts failures
(see `testkit.fakes.server`): `fail_next(500)`, `fail_next(DOWN)`, or any body, such as
`{"cancelled": False, "warning": "server error (save)"}`; `outage.start(...)` takes the
whole dialler down until it ends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from testkit.fakes.cues import cued_answer
from testkit.fakes.server import Down, FakeApp, Outage, Scripted

REQUIRED = {
    "email": "Email",
    "first_name": "First Name",
    "surname": "Surname",
    "mobile": "Mobile",
    "type": "Type",
}
# Yii's default e-mail pattern.
_EMAIL = re.compile(
    r"^[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$"
)
_PHONE = re.compile(r"^\+?\d{7,15}$")
DATA_MESSAGE = "Empty or invalid content of `data` field"


@dataclass
class Comunik8Call:
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Comunik8Fake:
    api_key: str = "comunik8-key-0123456789"
    types: set[str] = field(default_factory=lambda: {"callback"})
    base_url: str = ""
    # Mobile number → the lead whose call waits.
    scheduled: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Numbers already dialled.
    contacts: set[str] = field(default_factory=set)
    # Every lead saved, in order, with or without a call.
    leads: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Comunik8Call] = field(default_factory=list)
    scripted: list[Scripted] = field(default_factory=list)
    outage: Outage = field(default_factory=Outage)

    def __post_init__(self) -> None:
        self.app = FakeApp(self._endpoint)

    def fail_next(self, *answers: Scripted) -> None:
        """Answer the next requests with these instead (an HTTP status, a body, DOWN)."""
        self.scripted.extend(answers)

    def add_contact(self, mobile: str) -> None:
        self.contacts.add(mobile)

    def complete_call(self, mobile: str) -> None:
        """The dialler rang the number: its call is no longer waiting."""
        self.scheduled.pop(mobile, None)
        self.contacts.add(mobile)

    def calls(self, path: str) -> list[Comunik8Call]:
        return [call for call in self.requests if call.path == "/" + path.lstrip("/")]

    async def _endpoint(self, request: Request) -> Response | Down:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        path = request.url.path
        self.requests.append(Comunik8Call(path, dict(request.query_params), body))
        cued = cued_answer(self.outage, self.scripted)
        if cued is not None:
            return cued
        if path not in {"/lead/add", "/lead/cancel"}:
            return JSONResponse({"name": "Not Found", "status": 404}, status_code=404)
        if request.method != "POST":
            return JSONResponse({"name": "Method Not Allowed", "status": 405}, status_code=405)
        if request.query_params.get("key") != self.api_key:
            return JSONResponse(
                {
                    "name": "Unauthorized",
                    "message": "Your request was made with invalid credentials.",
                    "code": 0,
                    "status": 401,
                },
                status_code=401,
            )
        if not isinstance(body, dict):
            return JSONResponse({"body": {"0": "Request body must be a JSON object."}}, 400)
        if path == "/lead/add":
            return self._add(body)
        return self._cancel(body)

    def _add(self, body: dict[str, Any]) -> JSONResponse:
        errors = _validate(body)
        if errors:
            return JSONResponse(errors, status_code=400)
        if body["type"] not in self.types:
            if not _truthy(body.get("test")):
                self.leads.append(body)
            return JSONResponse({"saved": True, "processed": False, "error": "Unknown Type"})
        if _truthy(body.get("test")):
            return JSONResponse({"test": "ok"})
        self.leads.append(body)
        mobile = body["mobile"]
        if mobile in self.scheduled:
            answer = {
                "saved": True,
                "processed": False,
                "error": "Another call is already scheduled",
            }
            return JSONResponse(answer)
        if mobile in self.contacts:
            return JSONResponse({"saved": True, "processed": False, "error": "Existing Contact"})
        self.scheduled[mobile] = body
        return JSONResponse({"saved": True, "processed": True})

    def _cancel(self, body: dict[str, Any]) -> JSONResponse:
        errors = {
            name: {"0": f"{label} cannot be blank."}
            for name, label in (("type", "Type"), ("mobile", "Mobile"))
            if not str(body.get(name) or "").strip()
        }
        if errors:
            return JSONResponse(errors, status_code=400)
        if body["type"] not in self.types:
            return JSONResponse({"cancelled": False, "warning": "server error (call group)"})
        mobile = body["mobile"]
        waiting = self.scheduled.get(mobile)
        if waiting is not None and waiting.get("type") == body["type"]:
            del self.scheduled[mobile]
            return JSONResponse({"cancelled": True})
        if mobile in self.contacts:
            return JSONResponse({"cancelled": False, "warning": "already processed"})
        return JSONResponse({"cancelled": False, "warning": "not found"})


def _truthy(value: Any) -> bool:
    return value is True or value == "true"


def _validate(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    errors: dict[str, dict[str, str]] = {}
    for name, label in REQUIRED.items():
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = {"0": f"{label} cannot be blank."}
    if "email" not in errors and not _EMAIL.fullmatch(body["email"]):
        errors["email"] = {"0": "Email is not a valid email address."}
    if "mobile" not in errors and not _PHONE.fullmatch(body["mobile"]):
        errors["mobile"] = {"0": "Mobile is not a valid phone number."}
    other = body.get("other_phone")
    if other is not None and not (isinstance(other, str) and _PHONE.fullmatch(other)):
        errors["other_phone"] = {"0": "Other Phone is not a valid phone number."}
    if "data" in body and not _json_object_string(body["data"]):
        errors["data"] = {"0": DATA_MESSAGE}
    delays = body.get("delays")
    if delays is not None and (not isinstance(delays, int) or isinstance(delays, bool)):
        errors["delays"] = {"0": "Delays must be an integer."}
    return errors


def _json_object_string(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return isinstance(json.loads(value), dict)
    except ValueError:
        return False
