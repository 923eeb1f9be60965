"""The admin read API and the health check, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from storage.database import Database
from testkit.factories import lead_event, pay_event
from tests.webhooks.conftest import TOKEN
from webhooks.forms import encode_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def deliver(client: httpx.AsyncClient, event: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/flexbe/{TOKEN}", content=encode_form(event), headers=FORM)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_admin_api_needs_the_bearer_token(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/leads")
    wrong = await client.get("/api/leads", headers={"Authorization": "Bearer nope"})
    inbox = await client.get("/api/inbox", headers={"Authorization": "Basic abc"})

    assert [r.status_code for r in (missing, wrong, inbox)] == [401, 401, 401]
    assert missing.headers["www-authenticate"] == "Bearer"


async def test_lead_list_filters_and_pages(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    day = 86_400
    base = 1_767_225_600
    for index in range(5):
        await deliver(client, lead_event(200 + index, time=base + index * day))
    await deliver(client, lead_event(300, status=(1, "Обработан"), time=base))

    everything = (await client.get("/api/leads", headers=admin_headers)).json()
    assert [lead["flexbe_id"] for lead in everything["items"]] == [300, 204, 203, 202, 201, 200]
    assert everything["next_cursor"] is None

    first = (await client.get("/api/leads?limit=4", headers=admin_headers)).json()
    second = (
        await client.get(f"/api/leads?limit=4&cursor={first['next_cursor']}", headers=admin_headers)
    ).json()
    assert [lead["flexbe_id"] for lead in first["items"]] == [300, 204, 203, 202]
    assert [lead["flexbe_id"] for lead in second["items"]] == [201, 200]
    assert second["next_cursor"] is None

    window = (
        await client.get(
            "/api/leads",
            params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-04T00:00:00Z"},
            headers=admin_headers,
        )
    ).json()
    assert [lead["flexbe_id"] for lead in window["items"]] == [202, 201]

    processed = (await client.get("/api/leads?status=1", headers=admin_headers)).json()
    assert [lead["flexbe_id"] for lead in processed["items"]] == [300]

    by_site = (await client.get("/api/leads?site=dveri", headers=admin_headers)).json()
    assert by_site["items"] == []


async def test_bad_query_parameters_are_refused_with_a_reason(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for query in ("limit=0", "limit=501", "since=yesterday", "status=-1"):
        response = await client.get(f"/api/leads?{query}", headers=admin_headers)
        assert response.status_code == 422, query
    for query in ("cursor=%%%", "cursor=aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk", "since=2026-01-01T00:00"):
        response = await client.get(f"/api/leads?{query}", headers=admin_headers)
        assert response.status_code == 400, query
        assert response.json()["detail"], query


async def test_lead_detail_has_payments_and_events(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    accepted = await deliver(client, lead_event(400))
    await deliver(client, pay_event(400, status=(0, "Ожидает оплаты")))
    await deliver(client, pay_event(400, status=(2, "Оплачен")))
    await deliver(client, pay_event(400, status=(2, "Оплачен")))

    response = await client.get(f"/api/leads/{accepted['lead_id']}", headers=admin_headers)

    assert response.status_code == 200
    lead = response.json()
    assert lead["client_name"] == "Иван Петров" and lead["pay_status_code"] == 2
    assert [p["status_code"] for p in lead["payments"]] == [0, 2]
    assert [e["outcome"] for e in lead["events"]] == [
        "accepted",
        "accepted",
        "accepted",
        "duplicate",
    ]
    assert "data%5Bclient%5D%5Bname%5D" in lead["events"][0]["body"]
    missing = await client.get("/api/leads/999999", headers=admin_headers)
    assert missing.status_code == 404


async def test_inbox_lists_rejected_events(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await deliver(client, lead_event(500))
    bad = await client.post(f"/flexbe/{TOKEN}", content="event=pay&data%5Bid%5D=-3", headers=FORM)
    assert bad.status_code == 422

    response = await client.get("/api/inbox?outcome=rejected", headers=admin_headers)

    [event] = response.json()["items"]
    assert event["id"] == bad.json()["event_id"]
    assert event["body"] == "event=pay&data%5Bid%5D=-3"
    assert "data.id" in event["error"]


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert "/flexbe/{site_token}" in schema["paths"]
    assert "/api/leads" in schema["paths"]


async def test_healthz_reports_database_and_migrations(
    client: httpx.AsyncClient, database: Database
) -> None:
    healthy = await client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json() == {"status": "ok", "database": "ok", "migrations": "current"}

    saved = await set_versions(database, ["0000"])
    try:
        stale = await client.get("/healthz")
    finally:
        await set_versions(database, saved)
    assert stale.status_code == 503
    assert "leadrelay migrate" in stale.json()["migrations"]


async def set_versions(database: Database, versions: list[str]) -> list[str]:
    """Replace the recorded schema versions; returns the ones there before."""
    async with database.write() as session:
        before = await session.exec(text("SELECT version_num FROM alembic_version"))  # type: ignore[call-overload]
        saved = [row[0] for row in before]
        await session.exec(text("DELETE FROM alembic_version"))  # type: ignore[call-overload]
        for version in versions:
            await session.exec(  # type: ignore[call-overload]
                text("INSERT INTO alembic_version (version_num) VALUES (:v)").bindparams(v=version)
            )
    return saved
