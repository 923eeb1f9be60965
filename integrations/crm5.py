"""5CRM public API: form, deal, contact, task and company creation, and three look-ups.

A 422 is Laravel's refusal of fields (`Crm5ValidationFailed`, with `fields` read from its
`errors`); a lead that cannot become a request at all is `Crm5InvalidRequest`, raised
before anything is sent.

Every call sends `public_token` as a form field (POST) or query parameter (GET); the list of
managers also needs `secret_token`, which 5CRM hands out on request. Success is
`{"ans": "true"}`; any other answer is a `Crm5Refused` carrying the body.

Requests are typed models that keep the seed's rules before anything is sent:

- ids, sums and estimates are integers; anything else (a float, a string, a bool) is
  refused with a `ValidationError` when the model is built;
- identifiers that a cut would make wrong — email, phone, guid, gaid — are refused when
  longer than their limit;
- all other text is cut to its limit (255 characters, a description 500, a task's 1000)
  and ends with "…", so a long comment never fails remotely.

Lengths count characters (code points), as Laravel's `max:` rule does for UTF-8 text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from config.mappings import CUSTOM_FIELDS
from integrations import _constants as constants
from integrations import errors
from integrations._base import BaseClient, ErrorFamily
from integrations._text import truncate

DEFAULT_API_URL = "https://api.5crm.ru/"
TEXT_LIMIT = 255
DESCRIPTION_LIMIT = 500
TASK_DESCRIPTION_LIMIT = 1000
MAX_INTEGER = 2**63 - 1

M = TypeVar("M", bound=BaseModel)


# --- errors -------------------------------------------------------------------------------
class Crm5Error(errors.IntegrationError):
    service = "5CRM"


class Crm5ConnectionError(Crm5Error, errors.APIConnectionError):
    pass


class Crm5TimeoutError(Crm5ConnectionError, errors.APITimeoutError):
    pass


class Crm5StatusError(Crm5Error, errors.APIStatusError):
    pass


class Crm5InvalidToken(Crm5StatusError):
    """401 or 403: the public token (or, for the managers list, the secret token) is wrong."""


class Crm5ValidationFailed(Crm5StatusError):
    """422: 5CRM refused fields; `fields` maps each to its messages (empty if unreadable)."""

    @property
    def fields(self) -> dict[str, list[str]]:
        try:
            answer: Any = json.loads(self.body)
        except ValueError:
            return {}
        problems = answer.get("errors") if isinstance(answer, dict) else None
        if not isinstance(problems, dict):
            return {}
        return {
            str(name): [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
            for name, messages in problems.items()
        }


class Crm5InvalidRequest(Crm5Error, errors.InvalidRequest):
    """A lead that cannot become a 5CRM request under the site's settings: nothing sent."""


class Crm5ResponseError(Crm5Error, errors.APIResponseError):
    pass


class Crm5Refused(Crm5Error):
    """An answer other than `{"ans": "true"}`; `body` holds it as 5CRM sent it."""

    def __init__(self, message: str, *, body: str) -> None:
        super().__init__(message)
        self.body = body


class SecretTokenRequired(Crm5Error):
    """`public/managers/get` needs the secret token, and none is configured."""


# --- request fields -----------------------------------------------------------------------
def _cut(limit: int) -> AfterValidator:
    return AfterValidator(lambda value: None if value is None else truncate(value, limit))


Text = Annotated[str | None, _cut(TEXT_LIMIT)]
Description = Annotated[str | None, _cut(DESCRIPTION_LIMIT)]
TaskDescription = Annotated[str | None, _cut(TASK_DESCRIPTION_LIMIT)]
Identifier = Annotated[str | None, Field(max_length=TEXT_LIMIT)]
Integer = Annotated[int | None, Field(strict=True, ge=0, le=MAX_INTEGER)]


class Crm5Request(BaseModel):
    """Fields of one call; `None` fields are left out of the request."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: ClassVar[str]

    def to_form(self) -> list[tuple[str, str]]:
        return [
            (name, str(value))
            for name, value in self.model_dump(exclude_none=True).items()
            if not isinstance(value, dict)
        ]


class Utm(Crm5Request):
    """The five UTM marks, which deals, contacts and forms share."""

    path: ClassVar[str] = ""
    utm_source: Text = None
    utm_medium: Text = None
    utm_campaign: Text = None
    utm_term: Text = None
    utm_content: Text = None


class FormSendRequest(Utm):
    """`ctm/form/send`: what a site's form collected."""

    path: ClassVar[str] = "ctm/form/send"
    url: str | None = None
    email: Identifier = None
    phone: Identifier = None
    name: Text = None
    sum: Integer = None
    description: Description = None
    guid: Identifier = None
    gaid: Identifier = None


class DealAddRequest(Utm):
    """`public/deal/add`; `custom_fields` maps N to the value of 5CRM's field `f_N` (1…50)."""

    path: ClassVar[str] = "public/deal/add"
    stage_id: Integer = None
    funnel_id: Integer = None
    author_id: Integer = None
    manager_id: Integer = None
    status_id: Integer = None
    type_id: Integer = None
    source_id: Integer = None
    name: Text = None
    sum: Integer = None
    sum_original: Integer = None
    description: Description = None
    website: Text = None
    comment: Text = None
    gaid: Identifier = None
    email: Identifier = None
    phone: Identifier = None
    client_name: Text = None
    custom_fields: dict[int, str] = Field(default_factory=dict)

    @field_validator("custom_fields")
    @classmethod
    def _known_custom_fields(cls, value: dict[int, str]) -> dict[int, str]:
        unknown = sorted(number for number in value if number not in CUSTOM_FIELDS)
        if unknown:
            raise ValueError(f"5CRM has custom fields f_1 to f_50, not f_{unknown[0]}")
        return {number: truncate(text, TEXT_LIMIT) for number, text in sorted(value.items())}

    def to_form(self) -> list[tuple[str, str]]:
        custom = [(f"f_{number}", text) for number, text in self.custom_fields.items()]
        return [*super().to_form(), *custom]


class ContactAddRequest(Utm):
    """`public/contact/add`."""

    path: ClassVar[str] = "public/contact/add"
    name: Text = None
    surname: Text = None
    middlename: Text = None
    phone: Identifier = None
    phone_second: Identifier = None
    email: Identifier = None
    email_second: Identifier = None
    position: Text = None
    website: Text = None
    company_id: Integer = None
    manager_id: Integer = None
    author_id: Integer = None
    gaid: Identifier = None
    guid: Identifier = None
    fax: Text = None
    skype: Text = None
    icq: Text = None
    age: Text = None
    vk: Text = None
    fb: Text = None
    linkedin: Text = None
    map_position: Text = None
    country: Text = None
    city: Text = None
    address: Text = None
    metro: Text = None


class TaskAddRequest(Crm5Request):
    """`public/task/add`; `date_expired` as 5CRM reads it, e.g. `2026-01-31 18:00:00`."""

    path: ClassVar[str] = "public/task/add"
    manager_id: Integer = None
    author_id: Integer = None
    type_id: Integer = None
    status_id: Integer = None
    priority_id: Integer = None
    name: Text = None
    description: TaskDescription = None
    date_expired: str | None = None
    estimate_hour: Integer = None
    estimate_minute: Integer = None
    estimate_day: Integer = None


class CompanyAddRequest(Crm5Request):
    """`public/company/add`."""

    path: ClassVar[str] = "public/company/add"
    name: Text = None
    phone: Identifier = None
    email: Identifier = None
    city: Text = None
    website: Text = None
    manager_id: Integer = None
    author_id: Integer = None


# --- answers ------------------------------------------------------------------------------
class Crm5Answer(BaseModel):
    """A successful answer; whatever else 5CRM sent (an id, say) stays in `model_extra`."""

    model_config = ConfigDict(extra="allow", frozen=True)
    ans: str | bool

    @property
    def created_id(self) -> int | None:
        """The id of what was created, when 5CRM sends one (the seed shows none)."""
        value = (self.model_extra or {}).get("id")
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None
        text = str(value).strip()
        return int(text) if text.isdigit() and int(text) <= MAX_INTEGER else None


class CustomField(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)
    type: str = ""
    name: str = ""
    field: str


class Manager(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)
    id: int
    name: str = ""
    phone: str | None = None
    email: str | None = None
    ava: str | None = None


class Stage(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)
    id: int
    name: str = ""
    order: int | None = None


class Funnel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)
    id: int
    name: str = ""
    is_default: bool = False
    stages: list[Stage] = Field(default_factory=list)


class _CustomFieldsAnswer(BaseModel):
    fields: list[CustomField] = Field(default_factory=list)


class _ManagersAnswer(BaseModel):
    managers: list[Manager] = Field(default_factory=list)


class _FunnelsAnswer(BaseModel):
    funnels: list[Funnel] = Field(default_factory=list)


# --- the client ---------------------------------------------------------------------------
class Crm5Client(BaseClient):
    errors = ErrorFamily(
        Crm5Error,
        Crm5ConnectionError,
        Crm5TimeoutError,
        Crm5StatusError,
        Crm5ResponseError,
        by_status={401: Crm5InvalidToken, 403: Crm5InvalidToken, 422: Crm5ValidationFailed},
    )

    def __init__(
        self,
        public_token: str,
        *,
        secret_token: str | None = None,
        base_url: str = DEFAULT_API_URL,
        **options: Any,
    ) -> None:
        super().__init__(base_url, **options)
        # Kept masked, so neither a repr nor a dump of the client's attributes shows them.
        self._public_token = SecretStr(public_token)
        self._secret_token = None if secret_token is None else SecretStr(secret_token)

    async def create(self, request: Crm5Request) -> Crm5Answer:
        """Any of the creating calls (form, deal, contact, task, company) by its request."""
        return await self._create(request)

    async def send_form(self, request: FormSendRequest) -> Crm5Answer:
        return await self._create(request)

    async def add_deal(self, request: DealAddRequest) -> Crm5Answer:
        return await self._create(request)

    async def add_contact(self, request: ContactAddRequest) -> Crm5Answer:
        return await self._create(request)

    async def add_task(self, request: TaskAddRequest) -> Crm5Answer:
        return await self._create(request)

    async def add_company(self, request: CompanyAddRequest) -> Crm5Answer:
        return await self._create(request)

    async def get_custom_fields(self) -> list[CustomField]:
        answer = await self._call("GET", "public/deal/get-custom-fields", [])
        return self._parse(_CustomFieldsAnswer, answer, "public/deal/get-custom-fields").fields

    async def get_funnels(self) -> list[Funnel]:
        answer = await self._call("GET", "public/funnels/get", [])
        return self._parse(_FunnelsAnswer, answer, "public/funnels/get").funnels

    async def get_managers(self) -> list[Manager]:
        if self._secret_token is None or not self._secret_token.get_secret_value():
            raise SecretTokenRequired(
                "5CRM lists managers only with the secret token (LEADRELAY_CRM5_SECRET_TOKEN)"
            )
        answer = await self._call(
            "GET", "public/managers/get", [("secret_token", self._secret_token.get_secret_value())]
        )
        return self._parse(_ManagersAnswer, answer, "public/managers/get").managers

    async def _create(self, request: Crm5Request) -> Crm5Answer:
        answer = await self._call("POST", request.path, request.to_form())
        return self._parse(Crm5Answer, answer, request.path)

    async def _call(self, method: str, path: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
        fields = [("public_token", self._public_token.get_secret_value()), *fields]

        async def once() -> dict[str, Any]:
            if method == "GET":
                response = await self._send("GET", path, params=dict(fields))
            else:
                response = await self._send("POST", path, form=fields)
            answer = self._json(response)
            if not isinstance(answer, dict) or not _is_success(answer.get("ans")):
                raise Crm5Refused(
                    f"5CRM {path} did not answer ans=true",
                    body=response.text[: constants.MAX_ERROR_BODY_CHARS],
                )
            return answer

        result: dict[str, Any] = await self._with_retries(once, path)
        return result

    def _parse(self, model: type[M], answer: Mapping[str, Any], path: str) -> M:
        try:
            return model.model_validate(answer)
        except ValidationError as exc:
            raise Crm5ResponseError(
                f"5CRM {path} answered something that does not parse: "
                f"{exc.error_count()} problem(s)",
                body=str(answer)[: constants.MAX_ERROR_BODY_CHARS],
            ) from None


def _is_success(ans: Any) -> bool:
    return ans is True or (isinstance(ans, str) and ans.strip().lower() == "true")
