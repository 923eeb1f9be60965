"""How a site's leads become 5CRM deals and Comunik8 calls: the `[sites.crm5]` and
`[sites.comunik8]` tables of the configuration (plain models, TOML-ready); the reading of
a lead by them is `integrations.mapping`.

Values from the lead are picked by *sources*, strings such as:

- `id:f27b7c6e2` — the form field with that id;
- `name:Площадь` — the form field with that name (as the visitor saw it);
- `utm:utm_source` — a UTM value;
- `lead:num` — an attribute of the lead (`LEAD_ATTRIBUTES`);
- a bare string — a form field by id, or failing that by name.

Names in templates (`deal_name`, `task_name`) are `TEMPLATE_NAMES`, e.g. `{form_name} №{num}`.

The deal button makes, in this order and each once per lead: the deal (`deal/add`, or the
form `ctm/form/send` when `send_as = "form"`), a company when one of `company_name`'s
sources has a value, the contact (`create_contact`; not in form mode, where 5CRM makes its
own from the form) and a follow-up task (`create_task`, `task_*`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

# 5CRM's custom fields f_1 … f_50 (its API documents no more).
CUSTOM_FIELDS = range(1, 51)

NameOrder = Literal["first_last", "last_first", "auto"]
# `deal`: public/deal/add with every id and custom field; `form`: ctm/form/send, for accounts
# whose pipeline starts from forms (it takes no ids: 5CRM routes the form itself).
Crm5SendAs = Literal["deal", "form"]
LEAD_ATTRIBUTES = frozenset(
    {
        "id",
        "flexbe_id",
        "num",
        "site",
        "created_at",
        "client_name",
        "client_phone",
        "client_email",
        "note",
        "form_name",
        "page_url",
        "page_name",
        "pay_summ",
    }
)
TEMPLATE_NAMES = frozenset(
    {"num", "site", "form_name", "client_name", "client_phone", "client_email"}
    | {"page_name", "page_url"}
)
# Plain ASCII addresses, which any dialler's e-mail validator accepts.
PLAIN_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_TEXT_SOURCE_PREFIXES = ("id:", "name:", "utm:", "lead:")


def _check_source(source: str) -> str:
    if source.startswith("lead:") and source[5:] not in LEAD_ATTRIBUTES:
        raise ValueError(f"unknown lead attribute {source[5:]!r}: one of {sorted(LEAD_ATTRIBUTES)}")
    if source.startswith(_TEXT_SOURCE_PREFIXES) and not source.partition(":")[2]:
        raise ValueError(f"{source!r} names nothing after the colon")
    if not source.strip():
        raise ValueError("a source must not be blank")
    return source


def _check_template(template: str) -> str:
    try:
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}
    except ValueError as exc:
        raise ValueError(f"not a valid template: {exc}") from None
    unknown = names - TEMPLATE_NAMES
    if unknown:
        raise ValueError(f"unknown name {sorted(unknown)[0]!r}: one of {sorted(TEMPLATE_NAMES)}")
    return template


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value[:40]!r}") from None
    return value


Id = int | None


class Crm5Mapping(BaseModel):
    """Where a site's leads go in 5CRM and which form fields fill which custom fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    funnel_id: Id = Field(default=None, ge=0)
    stage_id: Id = Field(default=None, ge=0)
    manager_id: Id = Field(default=None, ge=0)
    author_id: Id = Field(default=None, ge=0)
    status_id: Id = Field(default=None, ge=0)
    type_id: Id = Field(default=None, ge=0)
    source_id: Id = Field(default=None, ge=0)
    send_as: Crm5SendAs = "deal"
    deal_name: str = "{form_name} №{num}"
    # 5CRM custom field number (1…50; "f_3" or "3" in TOML) → a source (see the module doc).
    custom_fields: dict[int, str] = Field(default_factory=dict)
    name_order: NameOrder = "auto"
    create_contact: bool = True
    # Sources of the company's name, the first with a value wins; none has one: no company.
    company_name: tuple[str, ...] = ("name:Компания", "name:Company", "name:Организация")
    create_task: bool = True
    task_name: str = "{client_name} {client_phone}"
    task_type_id: Id = Field(default=None, ge=0)
    task_priority_id: Id = Field(default=None, ge=0)
    # A task is due this many hours after it is created; none: no due date.
    task_due_hours: int | None = Field(default=None, ge=1, le=24 * 365)
    timezone: str = "Europe/Moscow"

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _field_numbers(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        numbers: dict[int, str] = {}
        for key, source in value.items():
            text = str(key).strip().lower().removeprefix("f_")
            if not text.isdigit() or int(text) not in CUSTOM_FIELDS:
                raise ValueError(f"{key!r} is not a 5CRM custom field (f_1 … f_50)")
            numbers[int(text)] = source
        return numbers

    @field_validator("custom_fields")
    @classmethod
    def _sources(cls, value: dict[int, str]) -> dict[int, str]:
        for source in value.values():
            _check_source(source)
        return value

    @field_validator("company_name")
    @classmethod
    def _company_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for source in value:
            _check_source(source)
        return value

    @field_validator("deal_name", "task_name")
    @classmethod
    def _templates(cls, value: str) -> str:
        return _check_template(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_timezone(value)


class Comunik8Mapping(BaseModel):
    """How a site's leads become dialler leads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # None: LEADRELAY_COMUNIK8_LEAD_TYPE, passed in by the caller.
    lead_type: str | None = None
    subtype: str | None = None
    delays: int | None = Field(default=None, ge=0)
    name_order: NameOrder = "auto"
    # Comunik8 requires a first name, a surname and an e-mail; a lead may lack them.
    missing_first_name: str = Field(default="Клиент", min_length=1)
    missing_surname: str = Field(default="-", min_length=1)
    # `.invalid` is reserved: never a real mailbox. None: refuse leads without an e-mail.
    missing_email: str | None = "no-email@leadrelay.invalid"
    # What goes into `data`: sources (see the module doc), plus "form" for every form
    # field by name and "utm" for every UTM value.
    data: tuple[str, ...] = ("lead:num", "lead:site", "lead:page_url", "form", "utm")
    # Where a second number comes from (a source, see the module doc); none: the first form
    # field of type phone holding a number other than the client's.
    other_phone: str | None = None

    @field_validator("data")
    @classmethod
    def _sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for source in value:
            if source not in {"form", "utm"}:
                _check_source(source)
        return value

    @field_validator("other_phone")
    @classmethod
    def _other_phone_source(cls, value: str | None) -> str | None:
        return None if value is None else _check_source(value)

    @field_validator("missing_email")
    @classmethod
    def _placeholder_is_an_address(cls, value: str | None) -> str | None:
        if value is not None and not PLAIN_EMAIL.fullmatch(value):
            raise ValueError("must be a plain e-mail address")
        return value
