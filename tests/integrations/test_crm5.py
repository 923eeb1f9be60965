"""The 5CRM client against the loopback 5CRM, over real HTTP."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from integrations.crm5 import (
    CompanyAddRequest,
    ContactAddRequest,
    Crm5Client,
    Crm5ConnectionError,
    Crm5InvalidToken,
    Crm5Refused,
    Crm5ResponseError,
    Crm5StatusError,
    DealAddRequest,
    FormSendRequest,
    SecretTokenRequired,
    TaskAddRequest,
)
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.fixtures import Sleeps
from testkit.fakes.server import DOWN


def client_for(
    fake: Crm5Fake,
    *,
    public: str | None = None,
    secret: str | None = None,
    sleeps: Sleeps | None = None,
) -> Crm5Client:
    return Crm5Client(
        public or fake.public_token,
        secret_token=secret,
        base_url=fake.base_url,
        sleep=sleeps or Sleeps(),
        jitter=lambda: 0.0,
    )


async def test_every_create_endpoint_sends_its_fields(crm5_fake: Crm5Fake) -> None:
    async with client_for(crm5_fake) as crm:
        await crm.send_form(
            FormSendRequest(url="https://okna-spb.ru/?a=1", name="Анна", sum=1500, utm_source="ya")
        )
        await crm.add_deal(
            DealAddRequest(funnel_id=1, stage_id=2, name="Окна", sum=15000, custom_fields={3: "42"})
        )
        await crm.add_contact(
            ContactAddRequest(name="Иван", surname="Петров", phone="+79991234567")
        )
        await crm.add_task(
            TaskAddRequest(name="Перезвонить", description="x" * 900, date_expired="2026-01-31")
        )
        answer = await crm.add_company(CompanyAddRequest(name="ООО «Окна»", manager_id=2))

    assert answer.ans == "true"
    assert crm5_fake.forms == [
        {"utm_source": "ya", "url": "https://okna-spb.ru/?a=1", "name": "Анна", "sum": "1500"}
    ]
    assert crm5_fake.deals == [
        {"stage_id": "2", "funnel_id": "1", "name": "Окна", "sum": "15000", "f_3": "42"}
    ]
    assert crm5_fake.contacts == [{"name": "Иван", "surname": "Петров", "phone": "+79991234567"}]
    assert crm5_fake.tasks[0]["description"] == "x" * 900, "a task takes 1000 characters"
    assert crm5_fake.companies == [{"name": "ООО «Окна»", "manager_id": "2"}]
    posted = crm5_fake.calls("public/deal/add")[0]
    assert posted.http_method == "POST" and posted.fields["public_token"] == crm5_fake.public_token


async def test_look_ups_parse_the_seed_answers(crm5_fake: Crm5Fake) -> None:
    async with client_for(crm5_fake, secret=crm5_fake.secret_token) as crm:
        fields = await crm.get_custom_fields()
        funnels = await crm.get_funnels()
        managers = await crm.get_managers()

    assert [(field.field, field.name) for field in fields][0] == ("f_1", "Кастомное поле 1")
    assert funnels[0].is_default is True and funnels[0].stages[0].name == "MyStage"
    assert managers[0].id == 1 and managers[0].phone == "790000000", "a number phone is text"
    looked_up = crm5_fake.calls("public/managers/get")[0]
    assert looked_up.http_method == "GET"
    assert looked_up.fields["secret_token"] == crm5_fake.secret_token


async def test_managers_need_the_secret_token_before_anything_is_sent(
    crm5_fake: Crm5Fake,
) -> None:
    async with client_for(crm5_fake) as crm:
        with pytest.raises(SecretTokenRequired) as raised:
            await crm.get_managers()

    assert "LEADRELAY_CRM5_SECRET_TOKEN" in str(raised.value)
    assert not raised.value.retryable
    assert crm5_fake.requests == []


async def test_a_wrong_secret_token_is_an_invalid_token(crm5_fake: Crm5Fake) -> None:
    async with client_for(crm5_fake, secret="not-the-secret") as crm:
        with pytest.raises(Crm5InvalidToken) as raised:
            await crm.get_managers()
    assert raised.value.status_code == 403 and not raised.value.retryable


async def test_a_wrong_public_token_is_not_retried(crm5_fake: Crm5Fake, sleeps: Sleeps) -> None:
    async with client_for(crm5_fake, public="wrong-public-token", sleeps=sleeps) as crm:
        with pytest.raises(Crm5InvalidToken):
            await crm.add_deal(DealAddRequest(name="x"))
    assert sleeps.delays == [] and len(crm5_fake.requests) == 1
    assert crm5_fake.deals == []


@pytest.mark.parametrize(
    "answer", [{"ans": "false"}, {"ans": "false", "error": "stage not found"}, {"result": "ok"}]
)
async def test_any_answer_but_ans_true_is_refused_with_its_body(
    crm5_fake: Crm5Fake, sleeps: Sleeps, answer: dict[str, str]
) -> None:
    crm5_fake.fail_next(answer)

    async with client_for(crm5_fake, sleeps=sleeps) as crm:
        with pytest.raises(Crm5Refused) as raised:
            await crm.add_deal(DealAddRequest(name="x"))

    assert all(str(value) in raised.value.body for value in answer.values())
    assert not raised.value.retryable and sleeps.delays == [], "a business answer is final"


async def test_an_answer_that_is_not_json_is_a_response_error(crm5_fake: Crm5Fake) -> None:
    crm5_fake.fail_next({"ans": "true", "funnels": "none"})
    async with client_for(crm5_fake) as crm:
        with pytest.raises(Crm5ResponseError):
            await crm.get_funnels()


async def test_server_errors_and_a_dropped_connection_are_retried(
    crm5_fake: Crm5Fake, sleeps: Sleeps
) -> None:
    crm5_fake.fail_next(500, DOWN)

    async with client_for(crm5_fake, sleeps=sleeps) as crm:
        await crm.add_deal(DealAddRequest(name="Окна"))

    assert sleeps.delays == [0.5, 1.0]
    assert len(crm5_fake.calls("public/deal/add")) == 3
    assert crm5_fake.deals == [{"name": "Окна"}]


async def test_retries_run_out(crm5_fake: Crm5Fake, sleeps: Sleeps) -> None:
    crm5_fake.fail_next(503, 503, 503)
    async with client_for(crm5_fake, sleeps=sleeps) as crm:
        with pytest.raises(Crm5StatusError) as raised:
            await crm.get_funnels()
    assert raised.value.status_code == 503 and raised.value.retryable
    assert len(sleeps.delays) == 2


async def test_down_means_a_connection_error() -> None:
    from testkit.fakes.server import closed_url

    async with Crm5Client("token", base_url=closed_url(), max_retries=0) as crm:
        with pytest.raises(Crm5ConnectionError) as raised:
            await crm.get_funnels()
    assert raised.value.retryable


# --- limits, before anything is sent ------------------------------------------------------
async def test_long_free_text_is_cut_to_fit_and_accepted(crm5_fake: Crm5Fake) -> None:
    long = "Ёж 🦔 <b>&amp;</b> " * 100
    deal = DealAddRequest(
        name=long,
        description=long,
        comment=long,
        client_name=long,
        utm_source=long,
        custom_fields={50: long},
    )
    async with client_for(crm5_fake) as crm:
        await crm.add_deal(deal)
        await crm.add_task(TaskAddRequest(description=long))

    [stored] = crm5_fake.deals
    assert len(stored["name"]) == 255 and stored["name"].endswith("…")
    assert len(stored["description"]) == 500
    assert len(stored["f_50"]) == 255
    assert stored["name"].startswith("Ёж 🦔 <b>&amp;</b>")
    assert len(crm5_fake.tasks[0]["description"]) == 1000


@pytest.mark.parametrize(
    "fields",
    [
        {"funnel_id": "7"},
        {"stage_id": 1.5},
        {"manager_id": True},
        {"sum": -1},
        {"email": "a" * 251 + "@x.ru"},
        {"phone": "1" * 256},
        {"gaid": "g" * 256},
        {"custom_fields": {51: "x"}},
        {"custom_fields": {0: "x"}},
        {"unknown": "x"},
    ],
)
def test_values_the_seed_forbids_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DealAddRequest.model_validate(fields)


def test_contact_and_task_integers_are_refused_when_not_integers() -> None:
    with pytest.raises(ValidationError):
        ContactAddRequest.model_validate({"company_id": "12"})
    with pytest.raises(ValidationError):
        TaskAddRequest.model_validate({"estimate_hour": 1.5})
    with pytest.raises(ValidationError):
        CompanyAddRequest.model_validate({"author_id": "x"})
