"""A loopback 5CRM: the eight endpoints of the seed, with its tokens and its field rules.

    fake = Crm5Fake()
    async with serve_app(fake.app) as fake.base_url: ...

- Every call needs `public_token` (form field or query parameter): else 401.
  `public/managers/get` also needs `secret_token`: else 403. Both answer
  `{"ans": "false", "error": …}` (the seed does not say what 5CRM answers; this is a guess).
- Fields are checked as the seed's Laravel rules say (integers, `max:` lengths counted in
  characters); a field the endpoint does not list is refused too, so a client's mistake
  shows. A breach answers 422 with Laravel's `{"message", "errors": {field: [...]}}`.
- What was created lands in `deals`, `contacts`, `tasks`, `companies` or `forms` (fields
  without the tokens); `requests` records every call; `fail_next(...)` scripts failures
  (see `testkit.fakes.server`), e.g. `fail_next(500)`, `fail_next({"ans": "false"})`,
  `fail_next(DOWN)`; `fail_next_on(path, ...)` the same for one endpoint only;
  `outage.start(...)` takes the whole service down until it ends.
- The seed's answer to a creation is `{"ans": "true"}` alone; `answer_ids = True` adds the
  new thing's `id`, as an account might.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from testkit.fakes.cues import cued_answer
from testkit.fakes.server import Down, FakeApp, Outage, Scripted, answer_with

INTEGER = "integer"
# Field name → INTEGER, or the maximum length of a string (None: a string of any length).
Rules = dict[str, str | int | None]
_UTM: Rules = dict.fromkeys(
    ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"), 255
)
FORM_RULES: Rules = {
    "url": None,
    "email": 255,
    "phone": 255,
    "name": 255,
    **_UTM,
    "sum": INTEGER,
    "description": 500,
    "guid": 255,
    "gaid": 255,
}
DEAL_RULES: Rules = {
    **dict.fromkeys(
        ("stage_id", "funnel_id", "author_id", "manager_id", "status_id", "type_id"), INTEGER
    ),
    "source_id": INTEGER,
    "name": 255,
    "sum": INTEGER,
    "sum_original": INTEGER,
    "description": 500,
    **_UTM,
    **dict.fromkeys(("website", "comment", "gaid", "email", "phone", "client_name"), 255),
    **{f"f_{number}": 255 for number in range(1, 51)},
}
CONTACT_RULES: Rules = {
    **dict.fromkeys(
        ("name", "surname", "middlename", "phone", "phone_second", "email", "email_second"), 255
    ),
    "position": 255,
    "website": 255,
    **dict.fromkeys(("company_id", "manager_id", "author_id"), INTEGER),
    **_UTM,
    "gaid": 255,
    "guid": 255,
    **dict.fromkeys(
        ("fax", "skype", "icq", "age", "vk", "fb", "linkedin", "map_position", "country"), 255
    ),
    **dict.fromkeys(("city", "address", "metro"), 255),
}
TASK_RULES: Rules = {
    **dict.fromkeys(("manager_id", "author_id", "type_id", "status_id", "priority_id"), INTEGER),
    "name": 255,
    "description": 1000,
    "date_expired": None,
    **dict.fromkeys(("estimate_hour", "estimate_minute", "estimate_day"), INTEGER),
}
COMPANY_RULES: Rules = {
    **dict.fromkeys(("name", "phone", "email", "city", "website"), 255),
    "manager_id": INTEGER,
    "author_id": INTEGER,
}
_INTEGER = re.compile(r"^-?\d+$")
_TOKENS = ("public_token", "secret_token")


@dataclass
class Crm5Call:
    path: str
    http_method: str
    fields: dict[str, str]


@dataclass
class Crm5Fake:
    public_token: str = "crm5-public-token-0123456789"
    secret_token: str = "crm5-secret-token-0123456789"
    base_url: str = ""
    requests: list[Crm5Call] = field(default_factory=list)
    scripted: list[Scripted] = field(default_factory=list)
    scripted_on: dict[str, list[Scripted]] = field(default_factory=dict)
    answer_ids: bool = False
    outage: Outage = field(default_factory=Outage)
    forms: list[dict[str, str]] = field(default_factory=list)
    deals: list[dict[str, str]] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    tasks: list[dict[str, str]] = field(default_factory=list)
    companies: list[dict[str, str]] = field(default_factory=list)
    custom_fields: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"type": "text", "name": "Кастомное поле 1", "field": "f_1"},
            {"type": "text", "name": "Площадь", "field": "f_2"},
        ]
    )
    managers: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": 1, "name": "Ivanov", "phone": 790000000, "email": "test@example.com"},
            {"id": 2, "name": "Петрова", "phone": "79990000002", "email": "p@example.com"},
        ]
    )
    funnels: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "id": 1,
                "name": "MyFunnels",
                "is_default": "true",
                "stages": [{"id": 1, "name": "MyStage", "order": 1}],
            }
        ]
    )

    def __post_init__(self) -> None:
        self.app = FakeApp(self._endpoint)
        # path → (HTTP methods, field rules, the list created things go to; None: a look-up)
        self._routes: dict[str, tuple[set[str], Rules, str | None]] = {
            "/ctm/form/send": ({"GET", "POST"}, FORM_RULES, "forms"),
            "/public/deal/add": ({"POST"}, DEAL_RULES, "deals"),
            "/public/deal/get-custom-fields": ({"GET"}, {}, None),
            "/public/contact/add": ({"POST"}, CONTACT_RULES, "contacts"),
            "/public/task/add": ({"POST"}, TASK_RULES, "tasks"),
            "/public/company/add": ({"POST"}, COMPANY_RULES, "companies"),
            "/public/managers/get": ({"GET"}, {}, None),
            "/public/funnels/get": ({"GET"}, {}, None),
        }

    def fail_next(self, *answers: Scripted) -> None:
        """Answer the next requests with these instead (an HTTP status, a body, DOWN)."""
        self.scripted.extend(answers)

    def fail_next_on(self, path: str, *answers: Scripted) -> None:
        """Answer the next requests to this endpoint (e.g. "public/task/add") with these."""
        self.scripted_on.setdefault("/" + path.lstrip("/"), []).extend(answers)

    def calls(self, path: str) -> list[Crm5Call]:
        """Requests to one endpoint, e.g. `calls("public/deal/add")`."""
        return [call for call in self.requests if call.path == "/" + path.lstrip("/")]

    async def _endpoint(self, request: Request) -> Response | Down:
        fields = dict(request.query_params)
        if request.method == "POST":
            fields.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        path = request.url.path
        self.requests.append(Crm5Call(path, request.method, fields))
        cued = cued_answer(self.outage, self.scripted)
        if cued is not None:
            return cued
        if self.scripted_on.get(path):
            return answer_with(self.scripted_on[path].pop(0))
        route = self._routes.get(path)
        if route is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        methods, rules, created = route
        if request.method not in methods:
            return JSONResponse({"message": "Method Not Allowed"}, status_code=405)
        if fields.get("public_token") != self.public_token:
            return JSONResponse({"ans": "false", "error": "Invalid public_token"}, status_code=401)
        if path == "/public/managers/get" and fields.get("secret_token") != self.secret_token:
            return JSONResponse({"ans": "false", "error": "Invalid secret_token"}, status_code=403)
        values = {name: value for name, value in fields.items() if name not in _TOKENS}
        errors = _breaches(values, rules)
        if errors:
            return JSONResponse(
                {"message": "The given data was invalid.", "errors": errors}, status_code=422
            )
        if created is not None:
            made = getattr(self, created)
            made.append(values)
            answer: dict[str, Any] = {"ans": "true"}
            if self.answer_ids:
                answer["id"] = len(made)
            return JSONResponse(answer)
        return JSONResponse(self._lookup(path))

    def _lookup(self, path: str) -> dict[str, Any]:
        if path == "/public/deal/get-custom-fields":
            return {"ans": "true", "fields": self.custom_fields}
        if path == "/public/managers/get":
            return {"ans": "true", "managers": self.managers}
        return {"ans": "true", "funnels": self.funnels}


def _breaches(values: dict[str, str], rules: Rules) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name not in rules:
            errors[name] = [f"The {name} field is not expected here."]
            continue
        rule = rules[name]
        if rule == INTEGER and not _INTEGER.fullmatch(value):
            errors[name] = [f"The {name} must be an integer."]
        elif isinstance(rule, int) and len(value) > rule:
            errors[name] = [f"The {name} may not be greater than {rule} characters."]
    return errors
