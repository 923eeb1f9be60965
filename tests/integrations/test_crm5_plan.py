"""What the deal button will send for a lead, decided before anything is sent; 5CRM's 422
read as refused fields; the words the card shows for both."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram.utils.i18n import I18n
from pydantic import ValidationError

from bot.i18n import build_i18n
from bot.outcomes import explain
from config.mappings import Crm5Mapping
from domain.crm5 import Crm5Step
from integrations.crm5 import (
    CompanyAddRequest,
    Crm5Client,
    Crm5InvalidRequest,
    Crm5ValidationFailed,
    FormSendRequest,
)
from integrations.failures import failure_code
from integrations.mapping import crm5_requests
from tests.integrations.test_mapping import make_lead

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def steps(mapping: Crm5Mapping, **lead: Any) -> list[Crm5Step]:
    return [step for step, _request in crm5_requests(make_lead(**lead), mapping, now=NOW)]


def test_the_steps_follow_the_sites_settings() -> None:
    assert steps(Crm5Mapping()) == [Crm5Step.DEAL, Crm5Step.CONTACT, Crm5Step.TASK]
    with_company = Crm5Mapping(company_name=("name:Площадь",))
    assert steps(with_company) == [
        Crm5Step.DEAL,
        Crm5Step.COMPANY,
        Crm5Step.CONTACT,
        Crm5Step.TASK,
    ]
    assert steps(Crm5Mapping(create_contact=False, create_task=False)) == [Crm5Step.DEAL]
    assert steps(Crm5Mapping(send_as="form")) == [Crm5Step.FORM, Crm5Step.TASK], "5CRM's contact"


def test_the_tapping_managers_account_wins_over_the_sites() -> None:
    mapping = Crm5Mapping(manager_id=7, company_name=("name:Площадь",))
    requests = crm5_requests(make_lead(), mapping, now=NOW, manager_id=2)
    assert {getattr(request, "manager_id", None) for _step, request in requests} == {2}
    requests = crm5_requests(make_lead(), mapping, now=NOW)
    assert {getattr(request, "manager_id", None) for _step, request in requests} == {7}


def test_form_and_company_requests() -> None:
    mapping = Crm5Mapping(send_as="form", company_name=("name:Нет", "name:Площадь"))
    requests = dict(crm5_requests(make_lead(), mapping, now=NOW))
    form = requests[Crm5Step.FORM]
    assert isinstance(form, FormSendRequest)
    assert (form.name, form.phone, form.sum) == ("Иван Петров", "+79991234567", 1500)
    assert form.url == "https://okna-spb.ru/zamer" and form.gaid == "GA1.2.3"
    assert requests[Crm5Step.COMPANY] == CompanyAddRequest(name="42")


def test_a_lead_that_cannot_become_a_request_sends_nothing() -> None:
    # A name no `max:255` rule can take whole is cut; an id past 5CRM's integers cannot be.
    with pytest.raises(Crm5InvalidRequest) as caught:
        crm5_requests(make_lead(), Crm5Mapping(), now=NOW, manager_id=2**64)
    assert "manager_id" in str(caught.value) and "Иван" not in str(caught.value)
    assert failure_code(caught.value) == "5crm:invalid_request"


@pytest.mark.parametrize("config", [{"company_name": ["lead:nope"]}, {"send_as": "email"}])
def test_wrong_new_settings_are_refused_at_load(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Crm5Mapping.model_validate(config)


async def test_a_422_names_the_refused_fields() -> None:
    body = {"message": "invalid", "errors": {"phone": ["The phone may not be greater than 255."]}}

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with Crm5Client("token", base_url="http://crm5.test/", http_client=http) as client:
        with pytest.raises(Crm5ValidationFailed) as caught:
            await client.create(CompanyAddRequest(name="x"))
    assert caught.value.fields == {"phone": ["The phone may not be greater than 255."]}
    assert not caught.value.retryable
    code = failure_code(caught.value)
    assert code.startswith("5crm:validation_failed:")
    await http.aclose()


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n()


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        (
            "en",
            '5crm:created:{"made": ["deal", "contact", "task"], "manager": "Петрова"}',
            "made in 5CRM: deal, contact, task; manager Петрова",
        ),
        (
            "ru",
            '5crm:created:{"made": ["form", "company"], "manager": ""}',
            "создано в 5CRM: форма, компания",
        ),
        ("en", "5crm:created:{broken", "made in 5CRM"),
        ("ru", "5crm:invalid_request", "данные заявки не подходят под поля 5CRM"),
    ],
)
def test_the_card_says_what_was_made(i18n: I18n, language: str, code: str, expected: str) -> None:
    with i18n.context(), i18n.use_locale(language):
        assert explain(code).startswith(expected)


def test_the_examples_5crm_block_is_valid() -> None:
    """`leadrelay.example.toml`'s commented `[sites.crm5]`, uncommented, loads as is."""
    example = (Path(__file__).parents[2] / "leadrelay.example.toml").read_text(encoding="utf-8")
    block = example.split("# [sites.crm5]\n", 1)[1].split("#\n", 1)[0]
    mapping = Crm5Mapping.model_validate(
        tomllib.loads("\n".join(line.removeprefix("# ") for line in block.splitlines()))
    )
    assert mapping.task_due_hours == 4 and mapping.custom_fields == {
        1: "name:Комментарий",
        2: "utm:utm_source",
    }
