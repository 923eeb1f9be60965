"""The Comunik8 client against the loopback dialler: every documented outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from integrations.comunik8 import (
    AlreadyProcessed,
    CallAlreadyScheduled,
    Cancelled,
    Comunik8Cancel,
    Comunik8Client,
    Comunik8Lead,
    Comunik8Refused,
    Comunik8ServerError,
    Comunik8StatusError,
    DryRunPassed,
    ExistingContact,
    InvalidKey,
    LeadNotFound,
    LeadQueued,
    Outcome,
    UnknownLeadType,
    ValidationFailed,
)
from testkit.fakes.comunik8 import DATA_MESSAGE, Comunik8Fake
from testkit.fakes.fixtures import Sleeps
from testkit.fakes.server import DOWN


def client_for(
    fake: Comunik8Fake, *, key: str | None = None, sleeps: Sleeps | None = None
) -> Comunik8Client:
    return Comunik8Client(
        fake.base_url, key or fake.api_key, sleep=sleeps or Sleeps(), jitter=lambda: 0.0
    )


def lead(**changes: Any) -> Comunik8Lead:
    fields: dict[str, Any] = {
        "email": "anna@example.com",
        "first_name": "Анна",
        "surname": "Иванова",
        "mobile": "8 (999) 123-45-67",
        "type": "callback",
    }
    return Comunik8Lead.model_validate(fields | changes)


async def test_a_new_lead_is_queued_with_its_fields_as_the_seed_says(
    comunik8_fake: Comunik8Fake,
) -> None:
    sent = lead(
        subtype="windows",
        other_phone="+44 20 7946 0958",
        data={"num": 42, "form": {"Комментарий": "<b>&</b>"}},
        delays=600,
    )
    async with client_for(comunik8_fake) as dialler:
        result = await dialler.add_lead(sent)

    assert isinstance(result, LeadQueued) and result.queued
    assert result.outcome is Outcome.QUEUED
    [call] = comunik8_fake.calls("lead/add")
    assert call.query == {"key": comunik8_fake.api_key}
    assert call.body["mobile"] == "+79991234567", "the number is normalised"
    assert call.body["other_phone"] == "+442079460958"
    assert isinstance(call.body["data"], str), "data travels as a JSON string"
    assert json.loads(call.body["data"]) == {"num": 42, "form": {"Комментарий": "<b>&</b>"}}
    assert call.body["delays"] == 600
    assert "test" not in call.body
    assert "+79991234567" in comunik8_fake.scheduled


async def test_a_repeat_finds_the_call_already_scheduled(comunik8_fake: Comunik8Fake) -> None:
    async with client_for(comunik8_fake) as dialler:
        await dialler.add_lead(lead())
        again = await dialler.add_lead(lead())
    assert isinstance(again, CallAlreadyScheduled) and again.queued
    assert again.body["error"] == "Another call is already scheduled"


async def test_a_dialled_number_is_an_existing_contact(comunik8_fake: Comunik8Fake) -> None:
    comunik8_fake.add_contact("+79991234567")
    async with client_for(comunik8_fake) as dialler:
        result = await dialler.add_lead(lead())
    assert isinstance(result, ExistingContact) and not result.queued


async def test_test_mode_validates_without_saving(comunik8_fake: Comunik8Fake) -> None:
    async with client_for(comunik8_fake) as dialler:
        result = await dialler.add_lead(lead(test=True))
    assert isinstance(result, DryRunPassed)
    assert comunik8_fake.calls("lead/add")[0].body["test"] is True
    assert comunik8_fake.leads == [] and comunik8_fake.scheduled == {}


async def test_an_unknown_type_is_a_final_error(
    comunik8_fake: Comunik8Fake, sleeps: Sleeps
) -> None:
    async with client_for(comunik8_fake, sleeps=sleeps) as dialler:
        with pytest.raises(UnknownLeadType) as raised:
            await dialler.add_lead(lead(type="no-such-type"))
    assert not raised.value.retryable and sleeps.delays == []


async def test_validation_failures_carry_each_fields_messages(
    comunik8_fake: Comunik8Fake, sleeps: Sleeps
) -> None:
    async with client_for(comunik8_fake, sleeps=sleeps) as dialler:
        with pytest.raises(ValidationFailed) as raised:
            await dialler.add_lead(lead(email="", first_name=" "))

    assert raised.value.fields == {
        "email": ["Email cannot be blank."],
        "first_name": ["First Name cannot be blank."],
    }
    assert "Email cannot be blank." in str(raised.value)
    assert not raised.value.retryable and sleeps.delays == []


async def test_a_malformed_data_answer_is_a_validation_failure(comunik8_fake: Comunik8Fake) -> None:
    # The seed shows this answer without a status; the dialler may send it with 200.
    comunik8_fake.fail_next({"data": {"0": DATA_MESSAGE}})
    async with client_for(comunik8_fake) as dialler:
        with pytest.raises(ValidationFailed) as raised:
            await dialler.add_lead(lead())
    assert raised.value.fields == {"data": [DATA_MESSAGE]}


async def test_an_unlisted_refusal_keeps_its_body(comunik8_fake: Comunik8Fake) -> None:
    comunik8_fake.fail_next({"saved": False, "processed": False, "error": "Blacklisted"})
    async with client_for(comunik8_fake) as dialler:
        with pytest.raises(Comunik8Refused) as raised:
            await dialler.add_lead(lead())
    assert "Blacklisted" in raised.value.body and not raised.value.retryable


async def test_cancel_outcomes(comunik8_fake: Comunik8Fake) -> None:
    comunik8_fake.add_contact("+79990000002")
    async with client_for(comunik8_fake) as dialler:
        await dialler.add_lead(lead())
        cancelled = await dialler.cancel_lead(Comunik8Cancel(type="callback", mobile="89991234567"))
        not_found = await dialler.cancel_lead(Comunik8Cancel(type="callback", mobile="9991234567"))
        dialled = await dialler.cancel_lead(
            Comunik8Cancel(type="callback", mobile="+7 999 000-00-02")
        )
        with pytest.raises(UnknownLeadType):
            await dialler.cancel_lead(Comunik8Cancel(type="nope", mobile="+79991234567"))

    assert isinstance(cancelled, Cancelled) and comunik8_fake.scheduled == {}
    assert isinstance(not_found, LeadNotFound)
    assert isinstance(dialled, AlreadyProcessed)
    assert comunik8_fake.calls("lead/cancel")[0].body == {
        "type": "callback",
        "mobile": "+79991234567",
    }


async def test_a_cancel_that_failed_to_save_is_retried(
    comunik8_fake: Comunik8Fake, sleeps: Sleeps
) -> None:
    comunik8_fake.fail_next({"cancelled": False, "warning": "server error (save)"})
    async with client_for(comunik8_fake, sleeps=sleeps) as dialler:
        result = await dialler.cancel_lead(Comunik8Cancel(type="callback", mobile="+79991234567"))
    assert isinstance(result, LeadNotFound), "the retry got through"
    assert sleeps.delays == [0.5]


async def test_a_cancel_save_error_is_retryable_when_retries_run_out(
    comunik8_fake: Comunik8Fake,
) -> None:
    comunik8_fake.fail_next({"cancelled": False, "warning": "server error (save)"})
    async with client_for(comunik8_fake) as dialler:
        dialler.max_retries = 0
        with pytest.raises(Comunik8ServerError) as raised:
            await dialler.cancel_lead(Comunik8Cancel(type="callback", mobile="+79991234567"))
    assert raised.value.retryable


async def test_500_and_a_dropped_connection_are_retried(
    comunik8_fake: Comunik8Fake, sleeps: Sleeps
) -> None:
    comunik8_fake.fail_next(500, DOWN)
    async with client_for(comunik8_fake, sleeps=sleeps) as dialler:
        result = await dialler.add_lead(lead())
    assert isinstance(result, LeadQueued)
    assert sleeps.delays == [0.5, 1.0] and len(comunik8_fake.requests) == 3


async def test_a_500_after_every_retry_is_a_retryable_error(
    comunik8_fake: Comunik8Fake, sleeps: Sleeps
) -> None:
    comunik8_fake.fail_next(500, 500, 500)
    async with client_for(comunik8_fake, sleeps=sleeps) as dialler:
        with pytest.raises(Comunik8StatusError) as raised:
            await dialler.add_lead(lead())
    assert raised.value.status_code == 500 and raised.value.retryable


async def test_a_wrong_key_is_invalid_and_final(
    comunik8_fake: Comunik8Fake, sleeps: Sleeps
) -> None:
    async with client_for(comunik8_fake, key="wrong-key-000", sleeps=sleeps) as dialler:
        with pytest.raises(InvalidKey) as raised:
            await dialler.add_lead(lead())
    assert raised.value.status_code == 401 and not raised.value.retryable
    assert "wrong-key-000" not in str(raised.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"mobile": "call me"},
        {"mobile": "123"},
        {"other_phone": "n/a"},
        {"data": "not json"},
        {"data": "[1, 2]"},
        {"delays": "600"},
        {"delays": -1},
        {"type": ""},
    ],
)
def test_requests_the_seed_forbids_are_refused_before_sending(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        lead(**changes)


def test_cancel_needs_a_number() -> None:
    with pytest.raises(ValidationError):
        Comunik8Cancel(type="callback", mobile="—")
