"""Flexbe webhook intake over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from storage.database import Database
from storage.models import InboxEvent, Job, Lead, Payment
from testkit.factories import lead_event, pay_event
from tests.webhooks.conftest import CHATS, OTHER_TOKEN, TOKEN
from webhooks.forms import encode_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def post_form(
    client: httpx.AsyncClient, event: dict[str, Any], token: str = TOKEN
) -> httpx.Response:
    return await client.post(f"/flexbe/{token}", content=encode_form(event), headers=FORM)


async def post_raw(client: httpx.AsyncClient, content: Any) -> httpx.Response:
    """`content` posted as it is, under the form's content type."""
    return await client.post(f"/flexbe/{TOKEN}", content=content, headers=FORM)


async def count(database: Database, model: Any, *where: Any) -> int:
    async with database.read() as session:
        result = await session.exec(select(func.count()).select_from(model).where(*where))
        return int(result.one())


async def all_rows(database: Database, model: Any) -> list[Any]:
    async with database.read() as session:
        return list((await session.exec(select(model).order_by(col(model.id)))).all())


async def test_lead_form_event_is_stored_with_every_field(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await post_form(client, lead_event(1414))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    [lead] = await all_rows(database, Lead)
    assert body["lead_id"] == lead.id
    assert (lead.site_key, lead.flexbe_id, lead.num) == ("okna", 1414, 414)
    assert lead.created_at is not None and lead.created_at.timestamp() == 1_767_225_600
    assert (lead.status_code, lead.status_name) == (0, "Новый")
    assert lead.client_name == "Иван Петров"
    assert lead.client_phone == "+7 (999) 123-45-67"
    assert lead.client_phone_normalized == "+79991234567"
    assert lead.client_email == "ivan@example.ru"
    assert lead.form_name == "Заявка на замер"
    comment = lead.form_data["f27b7c6e2"]
    assert comment["value"] == "Окно 2×1.5 м & подоконник, цена=?"
    assert comment["type"] == "textarea" and comment["orig_name"] == "Комментарий"
    assert lead.form_data["f11aa"]["value"] == ["утро", "вечер"]
    assert lead.form_data["f5"]["value"] == "on"
    assert (lead.page_url, lead.page_name) == ("https://okna-spb.ru/zamer", "Замер")
    assert lead.utm["utm_term"] == "пластиковые окна"
    assert lead.utm["ym_client_id"] == "1700000000123"
    assert lead.utm["cookies"] == {"_ga": "GA1.2.3.4", "roistat_visit": "12345"}
    assert lead.utm["yclid"] == "98765", "unknown utm keys are kept as they are"
    assert lead.origin == "webhook"


async def test_new_lead_enqueues_one_notify_job_per_chat(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await post_form(client, lead_event(1))
    lead_id = response.json()["lead_id"]

    jobs = await all_rows(database, Job)
    assert sorted(job.dedupe_key for job in jobs) == sorted(
        f"notify:{lead_id}:{chat}" for chat in CHATS
    )
    assert all(job.kind == "notify" and job.status == "pending" for job in jobs)
    assert {job.payload["chat_id"] for job in jobs} == set(CHATS)
    assert all(
        job.payload == {"lead_id": lead_id, "chat_id": job.payload["chat_id"], "reason": "new"}
        for job in jobs
    )


async def test_json_body_is_accepted_like_a_form(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(f"/flexbe/{TOKEN}", json=lead_event(7, name="Anna"))

    assert response.status_code == 200
    [lead] = await all_rows(database, Lead)
    assert (lead.flexbe_id, lead.client_name) == (7, "Anna")


async def test_same_event_as_form_then_json_is_one_event(
    client: httpx.AsyncClient, database: Database
) -> None:
    first = await post_form(client, lead_event(8))
    second = await client.post(f"/flexbe/{TOKEN}", json=lead_event(8))

    assert first.json()["status"] == "accepted"
    assert second.json()["status"] == "duplicate"
    assert await count(database, Lead) == 1


async def test_repeated_delivery_is_marked_duplicate_and_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    answers = [await post_form(client, lead_event(9)) for _ in range(3)]

    assert [a.json()["status"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    assert {a.json()["lead_id"] for a in answers} == {answers[0].json()["lead_id"]}
    assert await count(database, Lead) == 1
    assert await count(database, Job) == len(CHATS)
    outcomes = [e.outcome for e in await all_rows(database, InboxEvent)]
    assert outcomes == ["accepted", "duplicate", "duplicate"]


async def test_fifty_concurrent_deliveries_make_one_lead_and_one_job_per_chat(
    client: httpx.AsyncClient, database: Database
) -> None:
    event = lead_event(50)
    answers = await asyncio.gather(*(post_form(client, event) for _ in range(50)))

    assert [a.status_code for a in answers] == [200] * 50
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses.count("accepted") == 1 and statuses.count("duplicate") == 49
    assert await count(database, Lead) == 1
    assert await count(database, Job) == len(CHATS)
    assert await count(database, InboxEvent, InboxEvent.outcome == "duplicate") == 49


async def test_fifty_concurrent_pay_deliveries_make_one_payment_entry(
    client: httpx.AsyncClient, database: Database
) -> None:
    event = pay_event(51)
    answers = await asyncio.gather(*(post_form(client, event) for _ in range(50)))

    assert {a.status_code for a in answers} == {200}
    assert await count(database, Lead) == 1
    assert await count(database, Payment) == 1


async def test_pay_event_updates_lead_and_appends_payment_history(
    client: httpx.AsyncClient, database: Database
) -> None:
    await post_form(client, lead_event(60))
    pending = await post_form(client, pay_event(60, status=(0, "Ожидает оплаты")))
    paid = await post_form(client, pay_event(60, status=(2, "Оплачен")))
    again = await post_form(client, pay_event(60, status=(2, "Оплачен")))

    assert [r.json()["status"] for r in (pending, paid, again)] == [
        "accepted",
        "accepted",
        "duplicate",
    ]
    [lead] = await all_rows(database, Lead)
    assert (lead.pay_status_code, lead.pay_status_name) == (2, "Оплачен")
    assert Decimal(lead.pay_summ or "0") == Decimal("4990.00")
    assert lead.pay_id == "inv-77" and lead.pay_link == "https://okna-spb.ru/pay/inv-77"
    assert lead.pay_test is False
    assert lead.client_name == "Иван Петров", "a pay event keeps the lead's data"
    history = await all_rows(database, Payment)
    assert [(p.status_code, p.status_name) for p in history] == [
        (0, "Ожидает оплаты"),
        (2, "Оплачен"),
    ]
    reasons = [j.payload["reason"] for j in await all_rows(database, Job)]
    assert reasons.count("paid") == 2 * len(CHATS), "each new payment state refreshes each card"


async def test_pay_for_unknown_lead_creates_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await post_form(client, pay_event(61))

    assert response.json()["status"] == "accepted"
    [lead] = await all_rows(database, Lead)
    assert (lead.flexbe_id, lead.client_name, lead.pay_status_code) == (61, "Иван Петров", 2)
    assert await count(database, Payment) == 1


async def test_changed_lead_event_updates_lead_and_refreshes_cards(
    client: httpx.AsyncClient, database: Database
) -> None:
    await post_form(client, lead_event(70))
    changed = await post_form(client, lead_event(70, status=(1, "Обработан"), name="Иван П."))

    assert changed.json()["status"] == "accepted"
    [lead] = await all_rows(database, Lead)
    assert (lead.status_code, lead.client_name, lead.version) == (1, "Иван П.", 2)
    keys = sorted(j.dedupe_key for j in await all_rows(database, Job))
    assert keys == sorted(
        [f"notify:{lead.id}:{c}" for c in CHATS] + [f"notify:{lead.id}:{c}:v2" for c in CHATS]
    )


async def test_each_site_gets_its_own_lead_and_chats(
    client: httpx.AsyncClient, database: Database
) -> None:
    await post_form(client, lead_event(80))
    await post_form(client, lead_event(80), token=OTHER_TOKEN)

    leads = await all_rows(database, Lead)
    assert sorted(lead.site_key for lead in leads) == ["dveri", "okna"]
    jobs = await all_rows(database, Job)
    assert sorted(j.payload["chat_id"] for j in jobs) == sorted([*CHATS, 777])


async def test_unknown_event_is_stored_raw_and_ignored(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await post_raw(client, "event=callback&data%5Bphone%5D=1")

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    [event] = await all_rows(database, InboxEvent)
    assert (event.event, event.outcome) == ("callback", "ignored")
    assert event.body == b"event=callback&data%5Bphone%5D=1"
    assert await count(database, Lead) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "status", "outcome"),
    [
        (b"data%5Bid%5D=1", FORM["Content-Type"], 422, "rejected"),  # no name
        (b"event=&data%5Bid%5D=1", FORM["Content-Type"], 422, "rejected"),  # empty
        (b"event=" + b"x" * 65, FORM["Content-Type"], 422, "rejected"),  # too long
        (b"event=" + b"x" * 64, FORM["Content-Type"], 200, "ignored"),  # as long as allowed
        (b'{"event": 5}', "application/json", 200, "ignored"),  # a number, read as text
        (b'{"event": ["lead"]}', "application/json", 422, "rejected"),
    ],
)
async def test_event_names_are_checked_before_anything_else(
    client: httpx.AsyncClient,
    database: Database,
    body: bytes,
    content_type: str,
    status: int,
    outcome: str,
) -> None:
    response = await client.post(
        f"/flexbe/{TOKEN}", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == status
    [event] = await all_rows(database, InboxEvent)
    assert event.outcome == outcome
    if status == 422:
        assert response.json()["detail"].startswith("event:")


async def test_unknown_token_is_404_and_stores_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await post_form(client, lead_event(90), token="x" * 27)

    assert response.status_code == 404
    assert await count(database, InboxEvent) == 0
    assert await count(database, Lead) == 0


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient, database: Database) -> None:
    event = lead_event(91)
    event["data"]["note"] = "x" * (1024 * 1024)
    response = await post_form(client, event)

    assert response.status_code == 413
    assert await count(database, InboxEvent) == 0


async def test_body_over_limit_without_content_length_is_413(
    client: httpx.AsyncClient, database: Database
) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b"a" * 65536

    response = await post_raw(client, chunks())

    assert response.status_code == 413
    assert await count(database, InboxEvent) == 0


async def test_malformed_event_is_422_with_reason_and_kept_as_rejected(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await post_raw(client, "event=lead&data%5Bid%5D=abc")

    assert response.status_code == 422
    assert "data.id" in response.json()["detail"]
    [event] = await all_rows(database, InboxEvent)
    assert event.outcome == "rejected" and "data.id" in (event.error or "")
    assert event.body == b"event=lead&data%5Bid%5D=abc"
    assert response.json()["event_id"] == event.id


async def test_event_without_data_is_422(client: httpx.AsyncClient, database: Database) -> None:
    response = await post_raw(client, "event=lead")

    assert response.status_code == 422
    assert "data" in response.json()["detail"]
    assert await count(database, InboxEvent, InboxEvent.outcome == "rejected") == 1


async def test_invalid_utf8_and_broken_json_are_422_never_500(
    client: httpx.AsyncClient, database: Database
) -> None:
    bad_utf8 = await post_raw(client, b"event=lead&x=\xff\xfe")
    bad_json = await client.post(
        f"/flexbe/{TOKEN}",
        content=b'{"event": "lead", ',
        headers={"Content-Type": "application/json"},
    )
    json_list = await client.post(f"/flexbe/{TOKEN}", json=[1, 2])

    assert [r.status_code for r in (bad_utf8, bad_json, json_list)] == [422, 422, 422]
    assert all(r.json()["detail"] for r in (bad_utf8, bad_json, json_list))
    assert await count(database, InboxEvent, InboxEvent.outcome == "rejected") == 3


async def test_numbers_as_integers_and_empty_groups_are_fine(
    client: httpx.AsyncClient, database: Database
) -> None:
    event = {
        "event": "lead",
        "site": [],
        "data": {
            "id": 100,
            "num": 42,
            "time": 1_767_225_600,
            "status": {"code": 1, "name": "x"},
            "client": [],
            "form_data": [],
            "utm": "",
            "page": {},
            "pay": [],
        },
    }
    response = await client.post(
        f"/flexbe/{TOKEN}", content=json.dumps(event), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200, response.text
    [lead] = await all_rows(database, Lead)
    assert (lead.flexbe_id, lead.num, lead.status_code, lead.client_name) == (100, 42, 1, "")
    assert lead.form_data == {} and lead.utm == {} and lead.pay_id is None


async def test_form_with_literal_brackets_and_list_values(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = (
        "event=lead&site[id]=1&data[id]=5&data[client][name]=%D0%AF%20%26%20%3D"
        "&data[form_data][f1][id]=f1&data[form_data][f1][value][]=a&data[form_data][f1][value][]=b"
    )
    response = await post_raw(client, body)

    assert response.status_code == 200, response.text
    [lead] = await all_rows(database, Lead)
    assert lead.client_name == "Я & ="
    assert lead.form_data["f1"]["value"] == ["a", "b"]
