"""From a stored lead to 5CRM and Comunik8 requests, per site configuration."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from config.mappings import Comunik8Mapping, Crm5Mapping
from integrations.comunik8 import Comunik8Client, Comunik8InvalidRequest, LeadQueued
from integrations.crm5 import Crm5Client
from integrations.mapping import (
    comunik8_cancel,
    comunik8_lead,
    crm5_contact,
    crm5_deal,
    crm5_task,
    resolve,
    split_name,
)
from storage.models import Lead
from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake


def make_lead(**changes: Any) -> Lead:
    fields: dict[str, Any] = {
        "id": 5,
        "site_key": "okna",
        "flexbe_id": 1414,
        "num": 414,
        "created_at": datetime(2026, 1, 15, 9, 30, tzinfo=UTC),
        "client_name": "Иван Петров",
        "client_phone": "8 (999) 123-45-67",
        "client_email": "ivan@example.com",
        "note": "перезвонить после 18:00",
        "form_name": "Заявка на замер",
        "form_data": {
            "f27b7c6e2": {"id": "f27b7c6e2", "name": "Площадь", "value": "42", "type": "text"},
            "fa1": {"id": "fa1", "name": "Окна", "value": ["ПВХ", "дерево"], "type": "checkbox"},
            "fb2": {"id": "fb2", "name": "Пусто", "value": "", "type": "text"},
        },
        "page_url": "https://okna-spb.ru/zamer",
        "page_name": "Замер",
        "utm": {"utm_source": "yandex", "utm_campaign": "zima", "ga_client_id": "GA1.2.3"},
        "pay_summ": "1499.50",
    }
    return Lead(**(fields | changes))


@pytest.mark.parametrize(
    ("full", "order", "expected"),
    [
        ("Иван Петров", "first_last", ("Иван", "Петров", "")),
        ("Иван Петров", "auto", ("Иван", "Петров", "")),
        ("Петров Иван", "last_first", ("Иван", "Петров", "")),
        ("Петров Иван Иванович", "last_first", ("Иван", "Петров", "Иванович")),
        ("Петров Иван Иванович", "auto", ("Иван", "Петров", "Иванович")),
        ("Петрова Анна Сергеевна", "auto", ("Анна", "Петрова", "Сергеевна")),
        ("Иван Иванович Петров", "first_last", ("Иван", "Петров", "Иванович")),
        ("  Анна  ", "auto", ("Анна", "", "")),
        ("", "auto", ("", "", "")),
    ],
)
def test_split_name(full: str, order: Any, expected: tuple[str, str, str]) -> None:
    assert tuple(split_name(full, order)) == expected


def test_sources_find_form_fields_utm_and_lead_attributes() -> None:
    lead = make_lead()
    assert resolve(lead, "id:f27b7c6e2") == "42"
    assert resolve(lead, "name:Окна") == "ПВХ, дерево"
    assert resolve(lead, "Площадь") == "42", "a bare source falls back to the field name"
    assert resolve(lead, "fa1") == "ПВХ, дерево"
    assert resolve(lead, "utm:utm_source") == "yandex"
    assert resolve(lead, "lead:num") == "414"
    assert resolve(lead, "lead:site") == "okna"
    assert resolve(lead, "name:Нет такого") == ""


def test_deal_takes_the_sites_ids_and_the_leads_fields() -> None:
    mapping = Crm5Mapping.model_validate(
        {
            "funnel_id": 3,
            "stage_id": 12,
            "manager_id": 7,
            "custom_fields": {"f_1": "name:Площадь", "f_2": "utm:utm_campaign", "f_3": "lead:num"},
        }
    )
    deal = crm5_deal(make_lead(), mapping)
    form = dict(deal.to_form())

    assert form["funnel_id"] == "3" and form["stage_id"] == "12" and form["manager_id"] == "7"
    assert form["name"] == "Заявка на замер №414"
    assert form["sum"] == "1500", "1499.50 rounds half up to whole roubles"
    assert form["phone"] == "+79991234567" and form["email"] == "ivan@example.com"
    assert form["client_name"] == "Иван Петров"
    assert form["website"] == "https://okna-spb.ru/zamer"
    assert form["comment"] == "перезвонить после 18:00"
    assert form["utm_source"] == "yandex" and form["gaid"] == "GA1.2.3"
    assert form["description"] == "Площадь: 42\nОкна: ПВХ, дерево"
    assert (form["f_1"], form["f_2"], form["f_3"]) == ("42", "zima", "414")


def test_contact_and_task() -> None:
    mapping = Crm5Mapping(manager_id=7, task_type_id=2, task_due_hours=2)
    lead = make_lead(client_name="Петров Иван Иванович")
    contact = crm5_contact(lead, mapping)
    task = crm5_task(lead, mapping, now=datetime(2026, 1, 15, 9, 0, tzinfo=UTC))

    assert (contact.name, contact.surname, contact.middlename) == ("Иван", "Петров", "Иванович")
    assert contact.phone == "+79991234567" and contact.manager_id == 7
    assert task.name == "Петров Иван Иванович 8 (999) 123-45-67"
    assert task.date_expired == "2026-01-15 14:00:00", "11:00 UTC is 14:00 in Moscow"
    assert task.type_id == 2
    assert task.description is not None and "https://okna-spb.ru/zamer" in task.description


def test_a_lead_without_contacts_still_makes_a_deal() -> None:
    lead = make_lead(client_phone="нет", client_email="", client_name="", pay_summ=None)
    form = dict(crm5_deal(lead, Crm5Mapping()).to_form())
    assert "phone" in form and form["phone"] == "нет", "5CRM keeps what was typed"
    assert "email" not in form and "sum" not in form and "client_name" not in form


def test_comunik8_lead_fields_and_data() -> None:
    mapping = Comunik8Mapping(subtype="zamer", delays=600)
    request = comunik8_lead(make_lead(), mapping, lead_type="callback")

    assert (request.first_name, request.surname) == ("Иван", "Петров")
    assert request.mobile == "+79991234567" and request.type == "callback"
    assert request.subtype == "zamer" and request.delays == 600
    assert request.data is not None
    assert json.loads(request.data) == {
        "num": "414",
        "site": "okna",
        "page_url": "https://okna-spb.ru/zamer",
        "form": {"Площадь": "42", "Окна": "ПВХ, дерево"},
        "utm": {"utm_source": "yandex", "utm_campaign": "zima", "ga_client_id": "GA1.2.3"},
    }
    cancel = comunik8_cancel(make_lead(), mapping, lead_type="callback")
    assert (cancel.type, cancel.mobile) == ("callback", "+79991234567")


def test_comunik8_fills_what_it_requires_and_the_site_type_wins() -> None:
    lead = make_lead(client_name="", client_email="почта@пример.рф")
    request = comunik8_lead(lead, Comunik8Mapping(lead_type="site-type"), lead_type="callback")
    assert (request.first_name, request.surname) == ("Клиент", "-")
    assert request.email == "no-email@leadrelay.invalid"
    assert request.type == "site-type"
    assert request.data is not None and json.loads(request.data)["email"] == "почта@пример.рф"


@pytest.mark.parametrize(
    ("changes", "mapping", "lead_type", "reason"),
    [
        ({"client_phone": "позвоните мне"}, Comunik8Mapping(), "callback", "phone"),
        ({}, Comunik8Mapping(), None, "LEADRELAY_COMUNIK8_LEAD_TYPE"),
        ({"client_email": ""}, Comunik8Mapping(missing_email=None), "callback", "e-mail"),
    ],
)
def test_a_lead_that_cannot_be_called_is_refused_clearly(
    changes: dict[str, Any], mapping: Comunik8Mapping, lead_type: str | None, reason: str
) -> None:
    with pytest.raises(Comunik8InvalidRequest) as raised:
        comunik8_lead(make_lead(**changes), mapping, lead_type=lead_type)
    assert reason in str(raised.value) and not raised.value.retryable


def test_mappings_load_from_toml() -> None:
    document = tomllib.loads(
        """
        [crm5]
        funnel_id = 3
        deal_name = "{form_name}: {client_name}"
        custom_fields = { f_1 = "name:Площадь", "7" = "id:fa1" }
        name_order = "last_first"

        [comunik8]
        lead_type = "callback"
        data = ["lead:num", "form"]
        """
    )
    crm5 = Crm5Mapping.model_validate(document["crm5"])
    comunik8 = Comunik8Mapping.model_validate(document["comunik8"])
    assert crm5.custom_fields == {1: "name:Площадь", 7: "id:fa1"}
    assert comunik8.data == ("lead:num", "form")


@pytest.mark.parametrize(
    "config",
    [
        {"custom_fields": {"f_51": "x"}},
        {"custom_fields": {"price": "x"}},
        {"custom_fields": {"f_1": "lead:password"}},
        {"custom_fields": {"f_1": "id:"}},
        {"deal_name": "{secret}"},
        {"deal_name": "{num.__class__}"},
        {"task_name": "{unclosed"},
        {"funnel_id": "three"},
        {"name_order": "random"},
        {"timezone": "Mars/Olympus"},
        {"unknown_setting": 1},
    ],
)
def test_a_wrong_crm5_mapping_is_refused_at_load(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Crm5Mapping.model_validate(config)


@pytest.mark.parametrize(
    "config", [{"data": ["lead:nope"]}, {"missing_email": "not an address"}, {"delays": -5}]
)
def test_a_wrong_comunik8_mapping_is_refused_at_load(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Comunik8Mapping.model_validate(config)


# --- hostile content, over real HTTP ------------------------------------------------------
HOSTILE = "Ёлка 🎄 <script>alert('x')</script> & «кавычки» 👨‍👩‍👧 " * 8


def hostile_lead() -> Lead:
    long = (HOSTILE * 2)[:300]
    return make_lead(
        client_name=f"Жанна-Мари {long}",
        client_email="a" * 300 + "@example.com",
        note=long,
        form_name=long,
        page_url="https://okna-spb.ru/?q=" + "я" * 290,
        page_name=long,
        form_data={
            f"f{index}": {"id": f"f{index}", "name": f"Поле <{index}>", "value": long}
            for index in range(5)
        },
        utm={"utm_source": long, "utm_content": "<b>&amp;</b>", "ga_client_id": "g" * 300},
    )


async def test_a_hostile_lead_maps_to_requests_both_fakes_accept(
    crm5_fake: Crm5Fake, comunik8_fake: Comunik8Fake
) -> None:
    lead = hostile_lead()
    crm5_mapping = Crm5Mapping(custom_fields={n: f"id:f{n}" for n in range(1, 4)})

    async with Crm5Client(crm5_fake.public_token, base_url=crm5_fake.base_url) as crm:
        await crm.add_deal(crm5_deal(lead, crm5_mapping))
        await crm.add_contact(crm5_contact(lead, crm5_mapping))
        await crm.add_task(crm5_task(lead, crm5_mapping, now=datetime.now(UTC)))
    async with Comunik8Client(comunik8_fake.base_url, comunik8_fake.api_key) as dialler:
        result = await dialler.add_lead(
            comunik8_lead(lead, Comunik8Mapping(), lead_type="callback")
        )

    [deal], [contact], [task] = crm5_fake.deals, crm5_fake.contacts, crm5_fake.tasks
    assert deal["name"].startswith("Ёлка 🎄 <script>") and deal["name"].endswith("…")
    assert len(deal["name"]) <= 255 and len(deal["description"]) <= 500
    assert deal["client_name"].startswith("Жанна-Мари Ёлка")
    assert len(deal["f_1"]) == 255 and deal["utm_content"] == "<b>&amp;</b>"
    assert "email" not in deal and "gaid" not in deal, "too long to be real: left out"
    assert contact["name"] == "Жанна-Мари" and len(contact["surname"]) <= 255
    assert len(task["description"]) == 1000
    assert isinstance(result, LeadQueued)
    [sent] = comunik8_fake.leads
    assert sent["first_name"] == "Жанна-Мари"
    data = json.loads(sent["data"])
    assert data["form"]["Поле <0>"] == (HOSTILE * 2)[:300], "the dialler gets it all, uncut"
