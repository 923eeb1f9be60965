"""Flexbe's loose shapes: a status as its code alone, `form_data` as a flat map of name to
value. A lead sent either way is stored as the same lead and shows the same card."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import select

from bot.card_view import CardView, site_title
from bot.i18n import build_i18n
from bot.notifier import render_card
from config.mappings import Crm5Mapping
from integrations.mapping import crm5_deal, form_fields, resolve
from storage.database import Database
from storage.models import Lead, Payment
from testkit.factories import SITE, lead_event, pay_event
from tests.webhooks.conftest import OTHER_TOKEN, TOKEN
from webhooks.forms import encode_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Set by the database or by how the lead arrived, not by what Flexbe sent.
NOT_FROM_FLEXBE = {"id", "site_key", "received_at", "updated_at", "form_data"}


def loose(event: dict[str, Any], *, as_text: bool) -> dict[str, Any]:
    """The same event in Flexbe's other shapes: statuses as bare codes (2 or "2"), and
    `form_data` as {name: value}."""
    loose_event = copy.deepcopy(event)
    data = loose_event["data"]
    code = int(data["status"]["code"])
    data["status"] = str(code) if as_text else code
    if "pay" in data:
        pay_code = int(data["pay"]["status"]["code"])
        data["pay"]["status"] = str(pay_code) if as_text else pay_code
    data["form_data"] = {field["name"]: field["value"] for field in data["form_data"].values()}
    return loose_event


async def deliver(
    client: httpx.AsyncClient, event: dict[str, Any], *, token: str, as_json: bool
) -> int:
    if as_json:
        response = await client.post(f"/flexbe/{token}", json=event)
    else:
        response = await client.post(f"/flexbe/{token}", content=encode_form(event), headers=FORM)
    assert response.status_code == 200, response.text
    lead_id: int = response.json()["lead_id"]
    return lead_id


async def lead_and_payments(database: Database, lead_id: int) -> tuple[Lead, list[Any]]:
    async with database.read() as session:
        lead = await session.get(Lead, lead_id)
        payments = (await session.exec(select(Payment).where(Payment.lead_id == lead_id))).all()
    assert lead is not None
    return lead, [(p.pay_id, p.summ, p.status_code, p.status_name) for p in payments]


def ordered(items: list[Any]) -> list[Any]:
    return items


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n()


def card_text(lead: Lead, i18n: I18n, language: str) -> str:
    with i18n.context(), i18n.use_locale(language):
        return render_card(CardView(lead=lead, site_name=site_title(lead, None))).text


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
async def test_a_lead_in_either_shape_is_the_same_lead_and_card(
    client: httpx.AsyncClient, database: Database, i18n: I18n, as_json: bool
) -> None:
    # Each site gets the lead in one shape; the two stored leads must not differ.
    strict = [pay_event(1414), lead_event(1414, status=(2, "Выполнен"))]
    for event in strict:
        await deliver(client, event, token=TOKEN, as_json=as_json)
        await deliver(client, loose(event, as_text=not as_json), token=OTHER_TOKEN, as_json=as_json)
    async with database.read() as session:
        ids = {lead.site_key: lead.id for lead in (await session.exec(select(Lead))).all()}
    assert set(ids) == {"okna", "dveri"}
    strict_lead, strict_payments = await lead_and_payments(database, ids["okna"] or 0)
    loose_lead, loose_payments = await lead_and_payments(database, ids["dveri"] or 0)

    columns = set(Lead.model_fields) - NOT_FROM_FLEXBE
    assert {name: getattr(loose_lead, name) for name in columns} == {
        name: getattr(strict_lead, name) for name in columns
    }
    assert (loose_lead.status_code, loose_lead.status_name) == (2, "Выполнен")
    assert (loose_lead.pay_status_code, loose_lead.pay_status_name) == (2, "Оплачен")
    assert loose_payments == strict_payments == [("inv-77", "4990.00", 2, "Оплачен")]
    # PostgreSQL's JSONB keeps no key order (shortest key first), so there the form's
    # fields may come back in another order: compared in order on SQLite, as sets on both.
    in_order = ordered if database.is_sqlite else sorted
    assert in_order(form_fields(loose_lead)) == in_order(form_fields(strict_lead))
    assert sorted(form_fields(loose_lead)) == [
        ("Комментарий", "Окно 2×1.5 м & подоконник, цена=?"),
        ("Согласие", "on"),
        ("Удобное время", "утро, вечер"),
    ]
    assert resolve(loose_lead, "name:Удобное время") == "утро, вечер"
    for language in ("en", "ru"):
        loose_card = card_text(loose_lead, i18n, language).splitlines()
        strict_card = card_text(strict_lead, i18n, language).splitlines()
        assert in_order(loose_card) == in_order(strict_card)
    assert "Комментарий: Окно 2×1.5 м &amp; подоконник" in card_text(loose_lead, i18n, "en")
    if database.is_sqlite:
        assert crm5_deal(loose_lead, Crm5Mapping()) == crm5_deal(strict_lead, Crm5Mapping())


async def test_flat_form_data_as_php_form_lists_and_numbers(
    client: httpx.AsyncClient, database: Database
) -> None:
    event = lead_event(77)
    event["data"]["form_data"] = {"Имя": "Иван", "Площадь": 42, "Окна": ["ПВХ", "дерево"]}

    as_form = await client.post(f"/flexbe/{TOKEN}", content=encode_form(event), headers=FORM)
    as_json = await client.post(f"/flexbe/{OTHER_TOKEN}", content=json.dumps(event).encode())

    assert (as_form.status_code, as_json.status_code) == (200, 200)
    async with database.read() as session:
        leads = (await session.exec(select(Lead))).all()
    assert len(leads) == 2
    for lead in leads:
        assert sorted(form_fields(lead)) == [
            ("Имя", "Иван"),
            ("Окна", "ПВХ, дерево"),
            ("Площадь", "42"),
        ]


async def test_site_block_is_kept_and_listed_by_the_api(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    lead_id = await deliver(client, lead_event(9), token=OTHER_TOKEN, as_json=False)
    # A later event without a `site` block leaves what the first one said.
    without_site = pay_event(9)
    del without_site["site"]
    await deliver(client, without_site, token=OTHER_TOKEN, as_json=True)

    listed = (await client.get("/api/leads", headers=admin_headers)).json()["items"]
    detail = (await client.get(f"/api/leads/{lead_id}", headers=admin_headers)).json()

    for lead in (listed[0], detail):
        assert (lead["flexbe_site_id"], lead["site_domain"], lead["site_name"]) == (
            SITE["id"],
            SITE["domain"],
            SITE["name"],
        )
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["LeadPublic"]
    for name in ("flexbe_site_id", "site_domain", "site_name"):
        assert "site" in schema["properties"][name]["description"]
