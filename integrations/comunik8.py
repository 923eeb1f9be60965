"""Comunik8 dialler leads API: queue a call (`lead/add`) or take it back (`lead/cancel`).

`POST {base}/lead/add?key=…` and `/lead/cancel?key=…` with a JSON body. Phone numbers
are normalised (`integrations.phones`) and `data` is sent as a JSON *string*, as the seed
asks; a request that breaks those rules is refused before sending (`ValidationError`).

Every documented answer has a type of its own. The rule for which are results and which
are errors: an answer after which the dialler is in a settled state — nothing for us to
fix and nothing to try again — is a result, with `queued` telling whether a call waits
(`LeadQueued`, `ExistingContact`, `CallAlreadyScheduled`, `DryRunPassed`; `Cancelled`,
`LeadNotFound`, `AlreadyProcessed`). An answer that needs someone to fix the configuration
or the data is a non-retryable error (`UnknownLeadType`, `ValidationFailed`, `InvalidKey`).
A failure on Comunik8's side (HTTP 500, a cancel's "server error (save)") is a retryable
error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, ClassVar, TypeVar

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from integrations import _constants as constants
from integrations import errors
from integrations._base import BaseClient, ErrorFamily
from integrations.phones import require_phone

VALIDATION_STATUS = 400
R = TypeVar("R")


# --- errors -------------------------------------------------------------------------------
class Comunik8Error(errors.IntegrationError):
    service = "Comunik8"


class Comunik8ConnectionError(Comunik8Error, errors.APIConnectionError):
    pass


class Comunik8TimeoutError(Comunik8ConnectionError, errors.APITimeoutError):
    pass


class Comunik8StatusError(Comunik8Error, errors.APIStatusError):
    pass


class InvalidKey(Comunik8StatusError):
    """401 or 403: the API key (LEADRELAY_COMUNIK8_API_KEY) is wrong."""


class Comunik8ResponseError(Comunik8Error, errors.APIResponseError):
    pass


class UnknownLeadType(Comunik8Error):
    """The lead type (LEADRELAY_COMUNIK8_LEAD_TYPE) is not one the dialler knows."""


class ValidationFailed(Comunik8Error):
    """The dialler refused fields; `fields` maps each to its messages."""

    def __init__(self, message: str, *, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.fields = fields


class Comunik8ServerError(Comunik8Error):
    """The dialler failed on its side (a cancel's `server error (save)`): try again later."""

    retryable = True


class Comunik8InvalidRequest(Comunik8Error, errors.InvalidRequest):
    """A lead that cannot become a Comunik8 request (no number to dial, no lead type)."""


class NoDialablePhone(Comunik8InvalidRequest):
    """The lead's phone is not a number of a real numbering plan: nothing to dial."""


class Comunik8Refused(Comunik8Error):
    """An answer that says no in a way the documentation does not list; `body` holds it."""

    def __init__(self, message: str, *, body: str) -> None:
        super().__init__(message)
        self.body = body


# --- results ------------------------------------------------------------------------------
class Outcome(StrEnum):
    QUEUED = "queued"
    EXISTING_CONTACT = "existing_contact"
    ALREADY_SCHEDULED = "already_scheduled"
    TEST_OK = "test_ok"
    CANCELLED = "cancelled"
    NOT_FOUND = "not_found"
    ALREADY_PROCESSED = "already_processed"


@dataclass(frozen=True)
class Comunik8Result:
    """One documented answer; each kind names its `outcome` and `queued` in its class line."""

    outcome: ClassVar[Outcome]
    # Whether, after this answer, a call for the number waits in the dialler.
    queued: ClassVar[bool]
    body: Mapping[str, Any] = field(default_factory=dict)

    def __init_subclass__(cls, *, outcome: Outcome, queued: bool, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.outcome, cls.queued = outcome, queued


class LeadQueued(Comunik8Result, outcome=Outcome.QUEUED, queued=True):
    """Saved and accepted as a new lead: a call is scheduled."""


class ExistingContact(Comunik8Result, outcome=Outcome.EXISTING_CONTACT, queued=False):
    """Saved, but the number is a contact the dialler already has: no new call."""


class CallAlreadyScheduled(Comunik8Result, outcome=Outcome.ALREADY_SCHEDULED, queued=True):
    """Saved, but a call to this number is already scheduled (a repeat is harmless)."""


class DryRunPassed(Comunik8Result, outcome=Outcome.TEST_OK, queued=False):
    """`test: true`: the request is valid; nothing was saved."""


class Cancelled(Comunik8Result, outcome=Outcome.CANCELLED, queued=False):
    """Taken back: the number will not be dialled."""


class LeadNotFound(Comunik8Result, outcome=Outcome.NOT_FOUND, queued=False):
    """Nothing to cancel for this number and type."""


class AlreadyProcessed(Comunik8Result, outcome=Outcome.ALREADY_PROCESSED, queued=False):
    """Too late to cancel: the number has been dialled."""


AddLeadResult = LeadQueued | ExistingContact | CallAlreadyScheduled | DryRunPassed
CancelResult = Cancelled | LeadNotFound | AlreadyProcessed

_NOT_PROCESSED: dict[str, type[ExistingContact | CallAlreadyScheduled]] = {
    "existing contact": ExistingContact,
    "another call is already scheduled": CallAlreadyScheduled,
}
_CANCEL_WARNINGS: dict[str, type[LeadNotFound | AlreadyProcessed]] = {
    "not found": LeadNotFound,
    "already processed": AlreadyProcessed,
}


# --- requests -----------------------------------------------------------------------------
def _optional_phone(value: str | None) -> str | None:
    return None if value is None else require_phone(value)


def _json_object_text(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError("data must be a JSON object in a string") from None
    if not isinstance(parsed, dict):
        raise ValueError("data must be a JSON object in a string")
    return value


Phone = Annotated[str, AfterValidator(require_phone)]


class Comunik8Lead(BaseModel):
    """`lead/add`'s body. `data` may be given as a mapping; it is sent as a JSON string."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    email: str
    first_name: str
    surname: str
    mobile: Phone
    type: str = Field(min_length=1)
    subtype: str | None = None
    other_phone: Annotated[str | None, AfterValidator(_optional_phone)] = None
    data: Annotated[str | None, AfterValidator(_json_object_text)] = None
    delays: int | None = Field(default=None, strict=True, ge=0)
    test: bool = False

    @field_validator("data", mode="before")
    @classmethod
    def _mapping_to_json(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return json.dumps(dict(value), ensure_ascii=False, default=str)
        return value

    def to_json(self) -> dict[str, Any]:
        body = self.model_dump(exclude_none=True)
        if not self.test:
            # The seed: `test` is "true" or absent.
            body.pop("test")
        return body


class Comunik8Cancel(BaseModel):
    """`lead/cancel`'s body."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str = Field(min_length=1)
    mobile: Phone


# --- the client ---------------------------------------------------------------------------
class Comunik8Client(BaseClient):
    errors = ErrorFamily(
        Comunik8Error,
        Comunik8ConnectionError,
        Comunik8TimeoutError,
        Comunik8StatusError,
        Comunik8ResponseError,
        by_status={401: InvalidKey, 403: InvalidKey},
    )

    def __init__(self, api_url: str, api_key: str, **options: Any) -> None:
        super().__init__(api_url, **options)
        # Kept masked, so neither a repr nor a dump of the client's attributes shows it.
        self._api_key = SecretStr(api_key)

    async def add_lead(self, lead: Comunik8Lead) -> AddLeadResult:
        return await self._call("lead/add", lead.to_json(), _add_result)

    async def cancel_lead(self, cancel: Comunik8Cancel) -> CancelResult:
        return await self._call("lead/cancel", cancel.model_dump(), _cancel_result)

    async def _call(
        self, path: str, body: dict[str, Any], interpret: Callable[[dict[str, Any]], R]
    ) -> R:
        async def once() -> R:
            response = await self._send(
                "POST",
                path,
                params={"key": self._api_key.get_secret_value()},
                json=body,
                accept={VALIDATION_STATUS},
            )
            answer = self._json(response)
            if not isinstance(answer, dict):
                raise Comunik8ResponseError(f"{path} answered a non-object", body=_text(response))
            if response.status_code == VALIDATION_STATUS or _is_validation(answer):
                raise _validation_failed(answer, response)
            # Inside the retried call: some answers (a cancel's "server error") are retryable.
            return interpret(answer)

        result: R = await self._with_retries(once, path)
        return result


def _text(response: httpx.Response) -> str:
    return response.text[: constants.MAX_ERROR_BODY_CHARS]


def _is_validation(answer: dict[str, Any]) -> bool:
    """`{"email": {"0": "Email cannot be blank."}}`: every value a message or a list of them."""
    return bool(answer) and all(isinstance(value, dict | list) for value in answer.values())


def _validation_failed(answer: dict[str, Any], response: httpx.Response) -> Comunik8Error:
    if not _is_validation(answer):
        return Comunik8StatusError(
            f"Comunik8 answered HTTP {response.status_code}",
            status_code=response.status_code,
            body=_text(response),
        )
    fields = {
        name: [str(text) for text in (value.values() if isinstance(value, dict) else value)]
        for name, value in answer.items()
    }
    summary = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in fields.items())
    return ValidationFailed(f"Comunik8 refused the lead: {summary}"[:300], fields=fields)


def _add_result(answer: dict[str, Any]) -> AddLeadResult:
    if answer.get("test") == "ok":
        return DryRunPassed(answer)
    if answer.get("saved") is True and answer.get("processed") is True:
        return LeadQueued(answer)
    error = str(answer.get("error") or "")
    if error.strip().lower() == "unknown type":
        raise UnknownLeadType("Comunik8 does not know the lead type")
    kind = _NOT_PROCESSED.get(error.strip().lower())
    if kind is not None:
        return kind(answer)
    raise Comunik8Refused(
        f"Comunik8 did not queue the lead: {error[:100] or 'no reason given'}",
        body=json.dumps(answer, ensure_ascii=False)[: constants.MAX_ERROR_BODY_CHARS],
    )


def _cancel_result(answer: dict[str, Any]) -> CancelResult:
    if answer.get("cancelled") is True:
        return Cancelled(answer)
    warning = str(answer.get("warning") or "").strip().lower()
    kind = _CANCEL_WARNINGS.get(warning)
    if kind is not None:
        return kind(answer)
    if warning == "server error (call group)":
        # The seed: "Type doesn't exist".
        raise UnknownLeadType("Comunik8 does not know the lead type")
    if warning.startswith("server error"):
        raise Comunik8ServerError(f"Comunik8 failed to cancel: {warning[:100]}")
    raise Comunik8Refused(
        f"Comunik8 did not cancel: {warning[:100] or 'no reason given'}",
        body=json.dumps(answer, ensure_ascii=False)[: constants.MAX_ERROR_BODY_CHARS],
    )
