"""Every integration error a manager or an admin may meet reads as a sentence in their
language: on the card's history line and in the admins' alert, never a class name."""

from __future__ import annotations

import inspect
import re

import pytest
from aiogram.utils.i18n import I18n

import actions.executors
import integrations.comunik8
import integrations.crm5
import integrations.flexbe
from bot.alerts import action_failed_text
from bot.history import describe_action
from bot.i18n import build_i18n
from bot.outcomes import explain
from integrations.comunik8 import ValidationFailed
from integrations.errors import APIStatusError, IntegrationError
from integrations.failures import failure_code
from storage.models import Action, ActionOutcome

# Imported for the walk: each defines its own error classes.
MODULES = (integrations.flexbe, integrations.crm5, integrations.comunik8, actions.executors)
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
# An identifier in CamelCase (two capitals in one word: "InvalidKey", "Comunik8Error").
CAMEL_CASE = re.compile(r"\b[A-Z][a-z0-9]+[A-Z]\w*")


def every_error_class() -> list[type[IntegrationError]]:
    found: set[type[IntegrationError]] = set()
    pending: list[type[IntegrationError]] = [IntegrationError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(sub for sub in cls.__subclasses__() if sub not in found)
    # Only the project's own: a test module's subclass would not be walked on purpose.
    return sorted(
        (
            cls
            for cls in found
            if cls.__module__.split(".")[0] in {"integrations", "actions", "leadrelay"}
        ),
        key=lambda cls: cls.__qualname__,
    )


def instances(cls: type[IntegrationError]) -> list[IntegrationError]:
    """The error as its raiser builds it (every documented status for an HTTP error)."""
    parameters = inspect.signature(cls.__init__).parameters
    if "status_code" in parameters:
        return [cls("x", status_code=status, body="{}") for status in (400, 401, 404, 500)]  # type: ignore[call-arg]
    if "fields" in parameters:
        return [cls("x", fields={"email": ["Email cannot be blank."]})]  # type: ignore[call-arg]
    if "body" in parameters:
        return [cls("x", body="{}")]  # type: ignore[call-arg]
    if "code" in parameters:
        return [
            cls(code)
            for code in (
                "comunik8:existing_contact",
                "comunik8:lead_not_found",
                "comunik8:already_processed",
            )
        ]
    return [cls("x")]


CASES = [
    pytest.param(error, id=f"{type(error).__name__}-{index}")
    for cls in every_error_class()
    for index, error in enumerate(instances(cls))
]


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n()


def test_the_walk_finds_the_errors_of_every_client() -> None:
    names = {cls.__name__ for cls in every_error_class()}
    expected = {"Comunik8ServerError", "UnknownMethod", "ValidationFailed", "NoDialablePhone"}
    assert expected | {"Crm5Refused", "SecretTokenRequired", "CallRefused"} <= names


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("error", CASES)
def test_every_failure_reads_as_a_sentence(
    i18n: I18n, error: IntegrationError, language: str
) -> None:
    code = failure_code(error)
    failed = Action(lead_id=1, kind="call:0", actor_name="Anna", outcome=ActionOutcome.FAILED.value)
    failed.detail = code
    alert_payload = {"lead_id": 1, "num": 7, "site": "okna", "action": "call:0", "code": code}
    with i18n.context(), i18n.use_locale(language):
        reason = explain(code)
        short_reason = explain(code, with_details=False)
        card_line = describe_action(failed)
        alert = action_failed_text(alert_payload)

    class_names = {cls.__name__ for cls in type(error).__mro__}
    for text in (reason, card_line, alert):
        assert not class_names & set(re.findall(r"\w+", text)), text
        assert not CAMEL_CASE.search(text.replace("Comunik8", "").replace("leadrelay", "")), text
    assert " " in reason and reason[0].isalnum() and reason.isprintable()
    assert reason in card_line and short_reason in alert
    if language == "ru":
        assert CYRILLIC.search(reason), f"not translated: {reason}"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_unexpected_exception_is_not_named_either(i18n: I18n, language: str) -> None:
    code = failure_code(KeyError("lead"))
    with i18n.context(), i18n.use_locale(language):
        text = explain(code)
    assert "KeyError" not in code + text and " " in text


def test_refused_fields_are_named_with_their_messages_on_the_card_only(i18n: I18n) -> None:
    error = ValidationFailed(
        "x", fields={"email": ["Email cannot be blank."], "mobile": ["Mobile is not valid."]}
    )
    code = failure_code(error)
    with i18n.context(), i18n.use_locale("ru"):
        card = explain(code)
        alert = action_failed_text({"lead_id": 1, "action": "call:0", "code": code})

    assert card == (
        "Comunik8 отклонил заявку — email: Email cannot be blank.; mobile: Mobile is not valid."
    )
    assert "Comunik8 отклонил поля: email, mobile" in alert
    assert "cannot be blank" not in alert, "what a service said may quote the client"
    assert "Код: comunik8:validation_failed;" in alert


def test_codes_stored_by_older_versions_still_read_as_sentences(i18n: I18n) -> None:
    with i18n.context(), i18n.use_locale("en"):
        assert explain("flexbe:InvalidApiKey") == (
            "Flexbe refused the API key: ask an admin to check it"
        )
        assert explain("comunik8:LeadNotFound") == "no scheduled call to cancel"
        assert explain("comunik8:Comunik8ServerError") == (
            "Comunik8 did not do it; the admins can see why"
        )
        assert explain("internal:RuntimeError") == "leadrelay failed; the admins can see why"


def test_an_http_status_is_kept_in_the_code() -> None:
    error = integrations.comunik8.Comunik8StatusError("x", status_code=502, body="")
    assert isinstance(error, APIStatusError) and failure_code(error) == "comunik8:http502"
