"""Why an external call failed, as a short stable code: `service:reason`, or
`service:reason:details` (the fields Comunik8 or 5CRM refused, as JSON).

The reason is a word of this module, never an exception's class name; `bot.outcomes`
turns every code into a sentence in the reader's language. It lives beside the clients'
errors (`integrations.errors`) and not in that module, which every client imports: this one
imports every client.
"""

from __future__ import annotations

import json

from integrations.comunik8 import (
    Comunik8Refused,
    Comunik8ServerError,
    InvalidKey,
    NoDialablePhone,
    UnknownLeadType,
    ValidationFailed,
)
from integrations.crm5 import (
    Crm5InvalidToken,
    Crm5Refused,
    Crm5ValidationFailed,
    SecretTokenRequired,
)
from integrations.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    IntegrationError,
    InvalidRequest,
)
from integrations.flexbe import InvalidApiKey, RateLimited, UnknownMethod

# The reason of each error, found along its class's MRO (the most specific class first).
_REASONS: dict[type[BaseException], str] = {
    InvalidApiKey: "invalid_key",
    Crm5InvalidToken: "invalid_key",
    InvalidKey: "invalid_key",
    RateLimited: "rate_limited",
    UnknownMethod: "unknown_method",
    Crm5Refused: "refused",
    Comunik8Refused: "refused",
    SecretTokenRequired: "secret_token_required",
    ValidationFailed: "validation_failed",
    Crm5ValidationFailed: "validation_failed",
    UnknownLeadType: "unknown_lead_type",
    Comunik8ServerError: "server_error",
    NoDialablePhone: "no_phone",
    InvalidRequest: "invalid_request",
    APITimeoutError: "timeout",
    APIConnectionError: "unreachable",
    APIStatusError: "http",
    APIResponseError: "garbled",
}
_MAX_DETAILS = 400


def failure_code(error: BaseException) -> str:
    """A short stable code for the card: the reader's language is chosen when it is shown."""
    code = getattr(error, "code", None)
    if isinstance(code, str) and ":" in code:
        return code
    if not isinstance(error, IntegrationError):
        return "internal:error"
    service = error.service.lower().replace(" ", "")
    reason = next((_REASONS[cls] for cls in type(error).__mro__ if cls in _REASONS), "failed")
    if reason == "http" and isinstance(error, APIStatusError):
        return f"{service}:http{error.status_code}"
    if isinstance(error, ValidationFailed | Crm5ValidationFailed):
        return f"{service}:{reason}:{_fields_json(error.fields)}"
    return f"{service}:{reason}"


def _fields_json(fields: dict[str, list[str]]) -> str:
    """The refused fields and their messages, cut to fit the stored code."""
    kept: dict[str, list[str]] = {}
    for name, messages in fields.items():
        trial = {**kept, name[:40]: [message[:120] for message in messages[:2]]}
        if len(json.dumps(trial, ensure_ascii=False)) > _MAX_DETAILS:
            break
        kept = trial
    return json.dumps(kept, ensure_ascii=False)
