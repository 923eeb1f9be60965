"""Typed models of a Flexbe lead, as webhooks and `getLeads` send it, lenient as Flexbe needs.

Flexbe sends numbers as strings or integers, empty groups as "" or [], lists as
numeric-keyed objects, and keys the seed does not list; every one of those is accepted
and every field is kept (unknown keys stay in `model_extra`). A status (of the lead or of
its payment) may be `{code, name}` or the code alone (`2`, `"2"`); `form_data` may be
keyed by field id (`{"f27b7c6e2": {id, name, value, type, orig_name}}`) or a flat map of
name to value (`{"Имя": "Иван"}`). Each pair of shapes makes the same model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from storage.ranges import Int32, Int64


def _blank_to_none(value: Any) -> Any:
    # Runs for every field of every webhook: `isspace` makes no copy as `strip` does, and a
    # tuple is checked faster than a union.
    if isinstance(value, str):
        return None if not value or value.isspace() else value
    if isinstance(value, (list, dict)) and not value:
        return None
    return value


def _timestamp(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value < 10**11:
            raise ValueError("timestamp out of range")
        return datetime.fromtimestamp(value, UTC)
    return value


def _money(value: Any) -> Any:
    # Kept as sent: `integrations.amounts` decides whether the text is an amount to compute
    # with, so an absurd one is stored and shown instead of losing the whole event.
    value = _blank_to_none(value)
    return str(value).lower() if isinstance(value, bool) else value


def _listish(value: Any) -> Any:
    """`value` of a form field: a string, a list, or a PHP list sent as {"0": …, "1": …}."""
    value = _blank_to_none(value)
    if isinstance(value, dict):
        return [value[key] for key in sorted(value, key=_index_order)]
    return value


def _form_entry(name: str, entry: Any) -> Any:
    """One entry of `form_data`: a field object as it is; a flat map's value made a field."""
    if isinstance(entry, dict) and not (entry and all(str(key).isdigit() for key in entry)):
        return entry
    # A plain value, or a PHP list ({"0": …, "1": …}): the flat map's name → value.
    return {"name": name, "value": entry}


def _status(value: Any) -> Any:
    """A status group: `{code, name}`, or the code alone (`2`, `"2"`, as the seed's
    getLeads reads); blank is missing, as for any group."""
    value = _blank_to_none(value)
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"code": value}
    return value


def _index_order(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if key.isdigit() else (1, key)


OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
# Each integer that is stored is checked against its column's range (`storage.ranges`).
OptInt32 = Annotated[Int32 | None, BeforeValidator(_blank_to_none)]
OptBool = Annotated[bool | None, BeforeValidator(_blank_to_none)]
Timestamp = Annotated[datetime | None, BeforeValidator(_timestamp)]
Money = Annotated[str | None, BeforeValidator(_money)]


class FlexbeModel(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, frozen=True)


Group = BeforeValidator(_blank_to_none)
StatusGroup = BeforeValidator(_status)


class Status(FlexbeModel):
    code: OptInt32 = None
    name: OptStr = None


class SiteInfo(FlexbeModel):
    id: OptStr = None
    sub_id: OptStr = None
    domain: OptStr = None
    name: OptStr = None


class Client(FlexbeModel):
    name: OptStr = None
    phone: OptStr = None
    email: OptStr = None


class FormField(FlexbeModel):
    id: OptStr = None
    name: OptStr = None
    value: Annotated[str | list[str | None] | None, BeforeValidator(_listish)] = None
    type: OptStr = None
    orig_name: OptStr = None

    def display_value(self) -> str:
        if isinstance(self.value, list):
            return ", ".join(item for item in self.value if item)
        return self.value or ""


class Page(FlexbeModel):
    url: OptStr = None
    name: OptStr = None


class Utm(FlexbeModel):
    utm_source: OptStr = None
    utm_medium: OptStr = None
    utm_campaign: OptStr = None
    utm_term: OptStr = None
    utm_content: OptStr = None
    url: OptStr = None
    ip: OptStr = None
    ga_client_id: OptStr = None
    ym_client_id: OptStr = None
    cookies: Annotated[dict[str, Any] | None, Group] = None


class Pay(FlexbeModel):
    id: OptStr = None
    summ: Money = None
    status: Annotated[Status | None, StatusGroup] = None
    time_create: Timestamp = None
    time_done: Timestamp = None
    desc: OptStr = None
    pay_link: OptStr = None
    test: OptBool = None


class LeadData(FlexbeModel):
    id: Annotated[Int64, Field(ge=1)]
    # The bound inside the union: outside it, a blank `num` (None) would reach `ge` and raise.
    num: Annotated[Annotated[Int64, Field(ge=0)] | None, BeforeValidator(_blank_to_none)] = None
    time: Timestamp = None
    status: Annotated[Status | None, StatusGroup] = None
    client: Annotated[Client | None, Group] = None
    note: OptStr = None
    form_name: OptStr = None
    form_data: Annotated[dict[str, FormField] | None, Group] = None
    page: Annotated[Page | None, Group] = None
    utm: Annotated[Utm | None, Group] = None
    pay: Annotated[Pay | None, Group] = None

    @field_validator("form_data", mode="before")
    @classmethod
    def _fields_keyed_by_id(cls, value: Any) -> Any:
        # JSON senders may give a list of fields; key them the way the form body does.
        if isinstance(value, list):
            return {
                str(item.get("id") or index) if isinstance(item, dict) else str(index): item
                for index, item in enumerate(value)
            }
        if isinstance(value, dict):
            # Field objects pass as they are; a flat map's values become fields. Only the
            # first key tells a PHP list ({"0": …}) from a field: enough, and cheap per lead.
            for entry in value.values():
                if not isinstance(entry, dict) or (entry and str(next(iter(entry))).isdigit()):
                    return {key: _form_entry(str(key), item) for key, item in value.items()}
        return value


def describe_errors(error: ValidationError) -> str:
    """A short message that names each field at fault, e.g. `data.id: field required`."""
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - len(problems)
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)
