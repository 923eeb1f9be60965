"""Why an action failed, in words a manager understands (stored as a code, shown translated)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from integrations.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    IntegrationError,
)

# Errors whose own name says more than their HTTP status (a refused key is a 401 too).
NAMED = frozenset(
    {
        "Crm5InvalidToken",
        "InvalidKey",
        "InvalidApiKey",
        "Crm5Refused",
        "Comunik8Refused",
        "ValidationFailed",
        "UnknownLeadType",
        "RateLimited",
    }
)


def failure_code(error: BaseException) -> str:
    """A short stable code for the card: the reader's language is chosen when it is shown."""
    name = type(error).__name__
    code = getattr(error, "code", None)
    if isinstance(code, str) and ":" in code:
        return code
    if isinstance(error, IntegrationError) and name in NAMED:
        return f"{_service(error)}:{name}"
    if isinstance(error, APITimeoutError):
        return f"{_service(error)}:timeout"
    if isinstance(error, APIConnectionError):
        return f"{_service(error)}:unreachable"
    if isinstance(error, APIStatusError):
        return f"{_service(error)}:http{error.status_code}"
    if isinstance(error, APIResponseError):
        return f"{_service(error)}:garbled"
    if isinstance(error, IntegrationError):
        return f"{_service(error)}:{name}"
    return f"internal:{name}"


def _service(error: IntegrationError) -> str:
    return error.service.lower().replace(" ", "")


def explain(code: str) -> str:
    service, _sep, reason = code.partition(":")
    names = {"flexbe": "Flexbe", "5crm": "5CRM", "comunik8": "Comunik8"}
    who = names.get(service, service)
    if reason == "timeout":
        return _("{service} did not answer in time").format(service=who)
    if reason == "unreachable":
        return _("{service} cannot be reached").format(service=who)
    if reason.startswith("http"):
        return _("{service} answered with an error ({status})").format(
            service=who, status=reason[4:]
        )
    if reason == "garbled":
        return _("{service} answered something unexpected").format(service=who)
    if reason == "ExistingContact":
        return _("the dialler already has this number as a contact: no new call")
    if reason == "AlreadyScheduled":
        return _("a call to this number was already scheduled")
    if reason == "LeadNotFound":
        return _("no scheduled call to cancel")
    if reason == "AlreadyProcessed":
        return _("too late: the number has been dialled")
    if reason in ("Crm5InvalidToken", "InvalidKey"):
        return _("{service} refused the key: ask an admin to check it").format(service=who)
    if reason in ("Crm5Refused", "Comunik8Refused", "ValidationFailed", "UnknownLeadType"):
        return _("{service} refused the request: ask an admin to check the settings").format(
            service=who
        )
    if reason == "InvalidApiKey":
        return _("Flexbe refused the API key: ask an admin to check it")
    if reason == "RateLimited":
        return _("{service} is busy; try again in a minute").format(service=who)
    if service == "internal":
        return _("leadrelay failed; the admins can see why")
    return _("{service} refused: {reason}").format(service=who, reason=reason)
