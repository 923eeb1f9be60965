"""From a stored lead to 5CRM's deal (or form), company, contact and task, and to a Comunik8
call, per site.

The per-site settings, `Crm5Mapping` and `Comunik8Mapping`, and the *sources* and template
names they hold are in `config.mappings`. Full names split by `name_order`: `first_last`
("Иван Петров"), `last_first` ("Петров Иван Иванович"), or `auto`, which reads three words
ending in a patronymic as `last_first`.
Text too long for 5CRM is cut by the request models; a phone that is not a number is
left out of 5CRM requests and makes a Comunik8 request impossible (`Comunik8InvalidRequest`).
Phone numbers are read in the site's region (`region`, see `integrations.phones`); a second
number among the form fields (a field of type phone, or the mapping's `other_phone` source)
becomes Comunik8's `other_phone`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypedDict
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from config.mappings import (
    PLAIN_EMAIL,
    TEMPLATE_NAMES,
    Comunik8Mapping,
    Crm5Mapping,
    NameOrder,
)
from config.regions import DEFAULT_REGION
from domain.crm5 import Crm5Step
from integrations.amounts import parse_amount, whole_units
from integrations.comunik8 import (
    Comunik8Cancel,
    Comunik8InvalidRequest,
    Comunik8Lead,
    NoDialablePhone,
)
from integrations.crm5 import (
    TEXT_LIMIT,
    CompanyAddRequest,
    ContactAddRequest,
    Crm5InvalidRequest,
    Crm5Request,
    DealAddRequest,
    FormSendRequest,
    TaskAddRequest,
)
from integrations.phones import normalize_phone
from storage.models import LeadBase

_PATRONYMIC = re.compile(r"(ович|евич|ич|овна|евна|ична|инична)$", re.IGNORECASE)
# Flexbe's form field types that hold a phone number.
PHONE_FIELD_TYPES = frozenset({"phone", "tel"})


class PersonName(NamedTuple):
    first: str
    last: str
    middle: str


# --- reading a lead -----------------------------------------------------------------------
def split_name(full: str, order: NameOrder = "auto") -> PersonName:
    """ "Иван Петров" → (Иван, Петров, ""); "Петров Иван Иванович" → (Иван, Петров, Иванович)."""
    words = full.split()
    if not words:
        return PersonName("", "", "")
    if len(words) == 1:
        return PersonName(words[0], "", "")
    if order == "auto":
        patronymic_last = len(words) == 3 and _PATRONYMIC.search(words[2]) is not None
        order = "last_first" if patronymic_last else "first_last"
    if order == "last_first":
        return PersonName(words[1], words[0], " ".join(words[2:]))
    return PersonName(words[0], words[-1], " ".join(words[1:-1]))


def field_value(value: Any) -> str:
    """A form field's value as text: lists joined with commas."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value if item not in (None, ""))
    if isinstance(value, dict):
        return ", ".join(str(item) for item in value.values() if item not in (None, ""))
    return str(value)


def form_fields(lead: LeadBase) -> list[tuple[str, str]]:
    """(name, value) of every filled form field, in the form's order."""
    pairs = []
    for key, entry in (lead.form_data or {}).items():
        if not isinstance(entry, Mapping):
            continue
        value = field_value(entry.get("value"))
        if value:
            pairs.append((str(entry.get("name") or entry.get("orig_name") or key), value))
    return pairs


def resolve(lead: LeadBase, source: str) -> str:
    """The text a source names in this lead, or "" when the lead has none."""
    kind, _sep, name = source.partition(":")
    if kind == "lead":
        return _lead_attribute(lead, name)
    if kind == "utm":
        value = (lead.utm or {}).get(name)
        return value if isinstance(value, str) else ""
    fields = {
        key: entry for key, entry in (lead.form_data or {}).items() if isinstance(entry, Mapping)
    }
    if kind == "id":
        return field_value(fields.get(name, {}).get("value"))
    if kind != "name":
        name = source
        if name in fields:
            return field_value(fields[name].get("value"))
    for entry in fields.values():
        if name in (entry.get("name"), entry.get("orig_name")):
            return field_value(entry.get("value"))
    return ""


def _lead_attribute(lead: LeadBase, name: str) -> str:
    if name == "site":
        return lead.site_key
    value = getattr(lead, name, None)
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def _render(template: str, lead: LeadBase) -> str:
    values = {name: _lead_attribute(lead, name) for name in TEMPLATE_NAMES}
    return " ".join(template.format_map(values).split())


def _utm(lead: LeadBase) -> dict[str, str]:
    return {
        key: value for key, value in (lead.utm or {}).items() if isinstance(value, str) and value
    }


class _UtmMarks(TypedDict):
    """The UTM marks of 5CRM's deals, contacts and forms (`integrations.crm5.Utm`)."""

    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None


def _utm_marks(lead: LeadBase) -> _UtmMarks:
    utm = _utm(lead)
    return _UtmMarks(
        utm_source=utm.get("utm_source"),
        utm_medium=utm.get("utm_medium"),
        utm_campaign=utm.get("utm_campaign"),
        utm_term=utm.get("utm_term"),
        utm_content=utm.get("utm_content"),
    )


def _email(lead: LeadBase) -> str | None:
    email = lead.client_email.strip()
    return email if email and len(email) <= TEXT_LIMIT and "@" in email else None


def _crm5_phone(lead: LeadBase, region: str) -> str | None:
    raw = lead.client_phone.strip()
    phone = normalize_phone(raw, region) or raw
    return phone if phone and len(phone) <= TEXT_LIMIT else None


def _whole_amount(summ: str | None) -> int | None:
    """5CRM sums are integers: a computable amount rounded to whole units, half up; an
    amount that is not one is left out (the deal is still made; the text is on the card)."""
    amount = parse_amount(summ)
    return whole_units(amount) if amount is not None else None


def _summary(lead: LeadBase) -> str:
    return "\n".join(f"{name}: {value}" for name, value in form_fields(lead))


# --- 5CRM ---------------------------------------------------------------------------------
def crm5_deal(
    lead: LeadBase,
    mapping: Crm5Mapping,
    *,
    region: str = DEFAULT_REGION,
    manager_id: int | None = None,
) -> DealAddRequest:
    """`manager_id`: who the deal is credited to; none: the site's `manager_id`."""
    custom = {number: resolve(lead, source) for number, source in mapping.custom_fields.items()}
    return DealAddRequest(
        stage_id=mapping.stage_id,
        funnel_id=mapping.funnel_id,
        author_id=mapping.author_id,
        manager_id=_manager(mapping, manager_id),
        status_id=mapping.status_id,
        type_id=mapping.type_id,
        source_id=mapping.source_id,
        name=_render(mapping.deal_name, lead) or None,
        sum=_whole_amount(lead.pay_summ),
        description=_summary(lead) or None,
        website=lead.page_url or None,
        comment=lead.note or None,
        gaid=_gaid(lead),
        email=_email(lead),
        phone=_crm5_phone(lead, region),
        client_name=lead.client_name or None,
        custom_fields={number: text for number, text in custom.items() if text},
        **_utm_marks(lead),
    )


def crm5_contact(
    lead: LeadBase,
    mapping: Crm5Mapping,
    *,
    region: str = DEFAULT_REGION,
    manager_id: int | None = None,
) -> ContactAddRequest:
    name = split_name(lead.client_name, mapping.name_order)
    return ContactAddRequest(
        name=name.first or None,
        surname=name.last or None,
        middlename=name.middle or None,
        phone=_crm5_phone(lead, region),
        email=_email(lead),
        manager_id=_manager(mapping, manager_id),
        author_id=mapping.author_id,
        gaid=_gaid(lead),
        **_utm_marks(lead),
    )


def crm5_task(
    lead: LeadBase, mapping: Crm5Mapping, *, now: datetime, manager_id: int | None = None
) -> TaskAddRequest:
    """`now` must be timezone-aware; the due date is written in the mapping's time zone."""
    due = None
    if mapping.task_due_hours is not None:
        moment = (now + timedelta(hours=mapping.task_due_hours)).astimezone(
            ZoneInfo(mapping.timezone)
        )
        due = moment.strftime("%Y-%m-%d %H:%M:%S")
    lines = [_summary(lead), lead.page_url, lead.note]
    return TaskAddRequest(
        manager_id=_manager(mapping, manager_id),
        author_id=mapping.author_id,
        type_id=mapping.task_type_id,
        priority_id=mapping.task_priority_id,
        name=_render(mapping.task_name, lead) or None,
        description="\n".join(line for line in lines if line) or None,
        date_expired=due,
    )


def crm5_form(lead: LeadBase, *, region: str = DEFAULT_REGION) -> FormSendRequest:
    """`ctm/form/send`: what the visitor filled in; 5CRM routes it (no ids, no manager)."""
    return FormSendRequest(
        url=lead.page_url or None,
        email=_email(lead),
        phone=_crm5_phone(lead, region),
        name=lead.client_name or None,
        sum=_whole_amount(lead.pay_summ),
        description=_summary(lead) or None,
        gaid=_gaid(lead),
        **_utm_marks(lead),
    )


def crm5_company(
    lead: LeadBase, mapping: Crm5Mapping, *, manager_id: int | None = None
) -> CompanyAddRequest | None:
    """The company the form names (the first of `company_name`'s sources with a value), or
    None when it names none."""
    name = next(
        (text for text in (resolve(lead, s).strip() for s in mapping.company_name) if text), ""
    )
    if not name:
        return None
    return CompanyAddRequest(
        name=name, manager_id=_manager(mapping, manager_id), author_id=mapping.author_id
    )


def crm5_requests(
    lead: LeadBase,
    mapping: Crm5Mapping,
    *,
    now: datetime,
    region: str = DEFAULT_REGION,
    manager_id: int | None = None,
) -> list[tuple[Crm5Step, Crm5Request]]:
    """Every request the deal button sends for this lead, in order, built before any is
    sent: a lead that cannot become one is `Crm5InvalidRequest` and nothing goes out."""
    try:
        steps: list[tuple[Crm5Step, Crm5Request]] = []
        if mapping.send_as == "form":
            steps.append((Crm5Step.FORM, crm5_form(lead, region=region)))
        else:
            deal = crm5_deal(lead, mapping, region=region, manager_id=manager_id)
            steps.append((Crm5Step.DEAL, deal))
        company = crm5_company(lead, mapping, manager_id=manager_id)
        if company is not None:
            steps.append((Crm5Step.COMPANY, company))
        if mapping.create_contact and mapping.send_as == "deal":
            contact = crm5_contact(lead, mapping, region=region, manager_id=manager_id)
            steps.append((Crm5Step.CONTACT, contact))
        if mapping.create_task:
            task = crm5_task(lead, mapping, now=now, manager_id=manager_id)
            steps.append((Crm5Step.TASK, task))
    except ValidationError as exc:
        # Names of the refused fields only: their values are the client's.
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        raise Crm5InvalidRequest(
            f"the lead does not fit 5CRM's fields: {', '.join(fields)[:200]}"
        ) from None
    return steps


def _manager(mapping: Crm5Mapping, credited: int | None) -> int | None:
    return credited if credited is not None else mapping.manager_id


def _gaid(lead: LeadBase) -> str | None:
    value = (lead.utm or {}).get("ga_client_id")
    return value if isinstance(value, str) and value and len(value) <= TEXT_LIMIT else None


# --- Comunik8 -----------------------------------------------------------------------------
def comunik8_lead(
    lead: LeadBase,
    mapping: Comunik8Mapping,
    *,
    lead_type: str | None = None,
    region: str = DEFAULT_REGION,
) -> Comunik8Lead:
    """`lead_type`: the service-wide type, used when the site's mapping names none."""
    kind = _lead_type(mapping, lead_type)
    mobile = dialable_phone(lead, region)
    name = split_name(lead.client_name, mapping.name_order)
    email = lead.client_email.strip()
    if not PLAIN_EMAIL.fullmatch(email):
        if mapping.missing_email is None:
            raise Comunik8InvalidRequest("the lead has no e-mail address, which Comunik8 needs")
        email = mapping.missing_email
    return Comunik8Lead(
        email=email,
        first_name=name.first or mapping.missing_first_name,
        surname=name.last or mapping.missing_surname,
        mobile=mobile,
        other_phone=_other_phone(lead, mapping, region, mobile),
        type=kind,
        subtype=mapping.subtype,
        data=_data(lead, mapping),
        delays=mapping.delays,
    )


def comunik8_cancel(
    lead: LeadBase,
    mapping: Comunik8Mapping,
    *,
    lead_type: str | None = None,
    region: str = DEFAULT_REGION,
) -> Comunik8Cancel:
    return Comunik8Cancel(type=_lead_type(mapping, lead_type), mobile=dialable_phone(lead, region))


def _lead_type(mapping: Comunik8Mapping, default: str | None) -> str:
    kind = mapping.lead_type or default
    if not kind:
        raise Comunik8InvalidRequest(
            "no Comunik8 lead type: set LEADRELAY_COMUNIK8_LEAD_TYPE or the site's lead_type"
        )
    return kind


def dialable_phone(lead: LeadBase, region: str = DEFAULT_REGION) -> str:
    """The client's number in E.164, or `Comunik8InvalidRequest` when it cannot be dialled."""
    phone = normalize_phone(lead.client_phone, region)
    if not phone:
        raise NoDialablePhone("the lead has no phone number that can be dialled")
    return phone


def _other_phone(lead: LeadBase, mapping: Comunik8Mapping, region: str, mobile: str) -> str | None:
    if mapping.other_phone is not None:
        candidates = [resolve(lead, mapping.other_phone)]
    else:
        candidates = [
            field_value(entry.get("value"))
            for entry in (lead.form_data or {}).values()
            if isinstance(entry, Mapping)
            and str(entry.get("type") or "").lower() in PHONE_FIELD_TYPES
        ]
    for raw in candidates:
        phone = normalize_phone(raw, region)
        if phone and phone != mobile:
            return phone
    return None


def _data(lead: LeadBase, mapping: Comunik8Mapping) -> str | None:
    data: dict[str, Any] = {}
    for source in mapping.data:
        if source == "form":
            fields = dict(form_fields(lead))
            if fields:
                data["form"] = fields
        elif source == "utm":
            utm = _utm(lead)
            if utm:
                data["utm"] = utm
        else:
            value = resolve(lead, source)
            if value:
                data[source.partition(":")[2] or source] = value
    email = lead.client_email.strip()
    if email and not PLAIN_EMAIL.fullmatch(email):
        # The address the dialler would refuse is still worth a look by the agent.
        data["email"] = email
    return json.dumps(data, ensure_ascii=False) if data else None
