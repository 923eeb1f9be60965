"""Why an action failed, in words a manager understands (stored as a code, shown translated);
also what a 5CRM deal made (`5crm:created:{"made": [...], "manager": …}`).

A code is `service:reason`, or `service:reason:details` (Comunik8's refused fields, as JSON),
made by `integrations.failures`; its reason is a word, never an exception's class name, and
`explain` turns every code — those stored by older versions, which named classes, too — into
a sentence.
"""

from __future__ import annotations

import json
from typing import Any

from aiogram.utils.i18n import gettext as _

# Reasons stored before codes had words of their own: the class names of then.
_LEGACY_REASONS = {
    "InvalidApiKey": "invalid_key",
    "Crm5InvalidToken": "invalid_key",
    "InvalidKey": "invalid_key",
    "RateLimited": "rate_limited",
    "Crm5Refused": "refused",
    "Comunik8Refused": "refused",
    "ValidationFailed": "validation_failed",
    "UnknownLeadType": "unknown_lead_type",
    "ExistingContact": "existing_contact",
    "AlreadyScheduled": "already_scheduled",
    "LeadNotFound": "lead_not_found",
    "AlreadyProcessed": "already_processed",
}
SERVICE_NAMES = {"flexbe": "Flexbe", "5crm": "5CRM", "comunik8": "Comunik8"}


def explain(code: str, *, with_details: bool = True) -> str:
    """The sentence for a code. `with_details`: add what the service said about the fields
    (the card); without, only the fields' names (the admins' alert)."""
    service, _sep, rest = code.partition(":")
    reason, _sep, details = rest.partition(":")
    reason = _LEGACY_REASONS.get(reason, reason)
    who = SERVICE_NAMES.get(service, _("the external service"))
    if service == "internal":
        return _("leadrelay failed; the admins can see why")
    if reason == "created":
        return _crm5_made(details)
    if reason == "timeout":
        return _("{service} did not answer in time").format(service=who)
    if reason == "unreachable":
        return _("{service} cannot be reached").format(service=who)
    if reason.startswith("http") and reason[4:].isdigit():
        return _("{service} answered with an error ({status})").format(
            service=who, status=reason[4:]
        )
    if reason == "garbled":
        return _("{service} answered something unexpected").format(service=who)
    if reason == "existing_contact":
        return _("the dialler already has this number as a contact: no new call")
    if reason == "already_scheduled":
        return _("a call to this number was already scheduled")
    if reason == "lead_not_found":
        return _("no scheduled call to cancel")
    if reason == "already_processed":
        return _("too late: the number has been dialled")
    if reason == "invalid_key" and service == "flexbe":
        return _("Flexbe refused the API key: ask an admin to check it")
    if reason == "invalid_key":
        return _("{service} refused the key: ask an admin to check it").format(service=who)
    if reason == "validation_failed":
        return _refused_fields(who, details, with_details=with_details)
    if reason == "refused":
        return _("{service} refused the request: ask an admin to check the settings").format(
            service=who
        )
    if reason == "unknown_lead_type":
        return _("{service} does not know the lead type: ask an admin to check it").format(
            service=who
        )
    if reason == "no_phone":
        return _("the lead has no phone number that can be dialled")
    if reason == "invalid_request" and service == "5crm":
        return _(
            "the lead does not fit 5CRM's fields: ask an admin to check the site's 5CRM settings"
        )
    if reason == "invalid_request":
        return _("the lead lacks what {service} needs (a phone, an e-mail or a type)").format(
            service=who
        )
    if reason == "server_error":
        return _("{service} failed on its side; try again later").format(service=who)
    if reason == "unknown_method":
        return _("{service} does not support this action: ask an admin to update leadrelay").format(
            service=who
        )
    if reason == "secret_token_required":
        return _("{service} needs its secret token: ask an admin to set it").format(service=who)
    if reason == "rate_limited":
        return _("{service} is busy; try again in a minute").format(service=who)
    return _("{service} did not do it; the admins can see why").format(service=who)


def _crm5_made(details: str) -> str:
    try:
        parsed: Any = json.loads(details)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("made"), list):
        return _("made in 5CRM")
    names = {
        "deal": _("deal"),
        "form": _("form"),
        "company": _("company"),
        "contact": _("contact"),
        "task": _("task"),
    }
    made = ", ".join(names.get(str(step), str(step)[:16]) for step in parsed["made"])
    manager = str(parsed.get("manager") or "")[:64]
    if manager:
        return _("made in 5CRM: {made}; manager {manager}").format(made=made, manager=manager)
    return _("made in 5CRM: {made}").format(made=made)


def _refused_fields(who: str, details: str, *, with_details: bool) -> str:
    fields = _parse_fields(details)
    if not fields:
        return _("{service} refused the lead's data: ask an admin to check the settings").format(
            service=who
        )
    if not with_details:
        return _("{service} refused the fields: {fields}").format(
            service=who, fields=", ".join(fields)
        )
    listed = "; ".join(
        f"{name}: {' '.join(messages)}" if messages else name for name, messages in fields.items()
    )
    return _("{service} refused the lead — {fields}").format(service=who, fields=listed)


def _parse_fields(details: str) -> dict[str, list[str]]:
    try:
        parsed: Any = json.loads(details) if details else {}
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {
        str(name): [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
        for name, messages in parsed.items()
    }
