"""The intake route's edges: what FastAPI answers for it, it answers the same."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from storage.database import Database
from testkit.factories import lead_event
from tests.webhooks.conftest import TOKEN
from webhooks.forms import encode_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_other_methods_and_paths_get_fastapis_answers(client: httpx.AsyncClient) -> None:
    get = await client.get(f"/flexbe/{TOKEN}")
    nested = await client.post(f"/flexbe/{TOKEN}/extra", content=b"event=lead", headers=FORM)
    empty = await client.post("/flexbe/", content=b"event=lead", headers=FORM)

    assert (get.status_code, get.headers["allow"], get.json()) == (
        405,
        "POST",
        {"detail": "Method Not Allowed"},
    )
    assert (nested.status_code, nested.json()) == (404, {"detail": "Not Found"})
    assert empty.status_code in (404, 405)


async def test_errors_keep_fastapis_shape(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/flexbe/no-such-token", content=b"event=lead", headers=FORM)
    bad_length = await client.post(
        f"/flexbe/{TOKEN}", content=b"event=lead", headers={**FORM, "Content-Length": "1x"}
    )

    assert (unknown.status_code, unknown.json()) == (404, {"detail": "unknown site"})
    assert bad_length.status_code == 400
    assert bad_length.json() == {"detail": "invalid Content-Length header"}


async def test_the_route_works_under_a_root_path(app: FastAPI, database: Database) -> None:
    # Behind a proxy that serves leadrelay under a prefix (uvicorn --root-path /leadrelay).
    transport = httpx.ASGITransport(app=app, root_path="/leadrelay")
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        response = await http.post(
            f"/leadrelay/flexbe/{TOKEN}", content=encode_form(lead_event(41)), headers=FORM
        )

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"


async def test_a_bug_in_intake_is_a_plain_500(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.state.intake, "receive", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        response = await http.post(
            f"/flexbe/{TOKEN}", content=encode_form(lead_event(42)), headers=FORM
        )

    assert (response.status_code, response.text) == (500, "Internal Server Error")
