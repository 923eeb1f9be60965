"""Telegram webhook mode: authenticated, stored before the 200, each update_id once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import func, select

from config.telegram_webhook import derive_webhook_secrets
from leadrelay.web import create_app
from storage.database import Database
from storage.models import Job, TelegramUpdate
from tests.webhooks.conftest import make_settings

SETTING = "Hq3v0Zk_UyW7rE2bN9xLm4TfA6sJd1Pc"
DERIVED = derive_webhook_secrets(SETTING)
SECRET, HEADER = DERIVED.path, DERIVED.header
UPDATE = {
    "update_id": 1001,
    "message": {
        "message_id": 5,
        "date": 1767225600,
        "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "Anna"},
        "text": "/leads",
    },
}


@pytest.fixture
async def telegram_client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings().model_copy(
        update={
            "telegram_bot_token": SecretStr("123:bot-token"),
            "telegram_webhook_secret": SecretStr(SETTING),
        }
    )
    app = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.intake.aclose()


def headers(secret: str = HEADER) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret}


async def counts(database: Database) -> tuple[int, int]:
    async with database.read() as session:
        updates = (await session.exec(select(func.count()).select_from(TelegramUpdate))).one()
        jobs = (await session.exec(select(func.count()).select_from(Job))).one()
    return int(updates), int(jobs)


async def test_update_is_stored_with_its_job_before_200(
    telegram_client: httpx.AsyncClient, database: Database
) -> None:
    response = await telegram_client.post(f"/telegram/{SECRET}", json=UPDATE, headers=headers())

    assert response.status_code == 200
    assert response.json() == {"ok": True, "duplicate": False}
    async with database.read() as session:
        stored = await session.get(TelegramUpdate, 1001)
        job = (await session.exec(select(Job))).one()
    assert stored is not None and stored.payload == UPDATE
    assert (job.kind, job.payload, job.dedupe_key) == (
        "telegram.update",
        {"update_id": 1001},
        "tg.update:1001",
    )


async def test_redelivered_update_is_stored_once(
    telegram_client: httpx.AsyncClient, database: Database
) -> None:
    answers = await asyncio.gather(
        *(
            telegram_client.post(f"/telegram/{SECRET}", json=UPDATE, headers=headers())
            for _ in range(10)
        )
    )

    assert {answer.status_code for answer in answers} == {200}
    assert sum(not answer.json()["duplicate"] for answer in answers) == 1
    assert await counts(database) == (1, 1)


async def test_wrong_secrets_are_refused(
    telegram_client: httpx.AsyncClient, database: Database
) -> None:
    wrong_path = await telegram_client.post("/telegram/nope", json=UPDATE, headers=headers())
    wrong_header = await telegram_client.post(
        f"/telegram/{SECRET}", json=UPDATE, headers=headers("x" * 28)
    )
    no_header = await telegram_client.post(f"/telegram/{SECRET}", json=UPDATE)

    assert [r.status_code for r in (wrong_path, wrong_header, no_header)] == [404, 403, 403]
    assert await counts(database) == (0, 0)


async def test_path_and_header_secrets_differ_and_do_not_stand_in_for_each_other(
    telegram_client: httpx.AsyncClient, database: Database
) -> None:
    assert SECRET != HEADER and SETTING not in (SECRET, HEADER)

    path_as_header = await telegram_client.post(
        f"/telegram/{SECRET}", json=UPDATE, headers=headers(SECRET)
    )
    setting_as_header = await telegram_client.post(
        f"/telegram/{SECRET}", json=UPDATE, headers=headers(SETTING)
    )
    header_as_path = await telegram_client.post(
        f"/telegram/{HEADER}", json=UPDATE, headers=headers()
    )
    setting_as_path = await telegram_client.post(
        f"/telegram/{SETTING}", json=UPDATE, headers=headers()
    )

    assert [
        r.status_code for r in (path_as_header, setting_as_header, header_as_path, setting_as_path)
    ] == [403, 403, 404, 404]
    assert await counts(database) == (0, 0)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"update_id": "7"}', b'{"x": 1}'])
async def test_garbage_is_422(
    telegram_client: httpx.AsyncClient, database: Database, body: bytes
) -> None:
    response = await telegram_client.post(f"/telegram/{SECRET}", content=body, headers=headers())

    assert response.status_code == 422
    assert await counts(database) == (0, 0)


async def test_webhook_route_is_off_without_a_secret(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(f"/telegram/{SECRET}", json=UPDATE, headers=headers())

    assert response.status_code == 404
