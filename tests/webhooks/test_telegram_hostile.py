"""Hostile Telegram updates at the webhook route: refused with a 422 (or, for a NUL in a
message, stored with the NUL read as U+FFFD), never a 5xx; the next update still goes in.
Run on SQLite and PostgreSQL: each column holds 64 bits, PostgreSQL's JSONB no NUL."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from storage.database import Database
from storage.models import TelegramUpdate
from storage.ranges import INT64_MAX, INT64_MIN
from tests.webhooks.test_telegram_route import SECRET, UPDATE, counts, headers, telegram_client
from webhooks.telegram_update import TELEGRAM_MAX_DEPTH

__all__ = ["telegram_client"]  # the fixture, shared with the route's own tests

CALLBACK = {
    "update_id": 1002,
    "callback_query": {
        "id": "4382bfdwdsb323b2d9",
        "from": {"id": 42, "is_bot": False, "first_name": "Anna"},
        "chat_instance": "-8934545",
        "data": "la:take:1",
        "message": {
            "message_id": 5,
            "date": 1767225600,
            "chat": {"id": -1001234567890, "type": "supergroup", "title": "Sales"},
        },
    },
}


def changed(update: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `update` with the field at the dotted `path` set to `value`."""
    update = copy.deepcopy(update)
    node = update
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return update


async def post(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(
        f"/telegram/{SECRET}",
        content=body,
        headers={**headers(), "Content-Type": "application/json"},
    )


async def assert_next_update_goes_in(client: httpx.AsyncClient, database: Database) -> None:
    following = await post(client, json.dumps(changed(UPDATE, "update_id", 77)).encode())
    assert following.status_code == 200, following.text
    async with database.read() as session:
        assert await session.get(TelegramUpdate, 77) is not None


REFUSED = [
    pytest.param(changed(UPDATE, "update_id", INT64_MAX + 1), "update_id", id="update-id-2**63"),
    pytest.param(changed(UPDATE, "update_id", 10**40), "update_id", id="update-id-huge"),
    pytest.param(changed(UPDATE, "update_id", -1), "update_id", id="update-id-negative"),
    pytest.param(changed(UPDATE, "update_id", True), "update_id", id="update-id-true"),
    pytest.param(
        changed(UPDATE, "message.from.id", INT64_MAX + 1),
        "update.message.from.id is past the 64-bit",
        id="user-id",
    ),
    pytest.param(
        changed(UPDATE, "message.chat.id", INT64_MIN - 1),
        "update.message.chat.id is past the 64-bit",
        id="chat-id",
    ),
    pytest.param(
        changed(UPDATE, "message.message_id", 2**64),
        "update.message.message_id is past the 64-bit",
        id="message-id",
    ),
    pytest.param(
        changed(CALLBACK, "callback_query.from.id", 2**63),
        "update.callback_query.from.id is past the 64-bit",
        id="callback-user-id",
    ),
    pytest.param(
        changed(CALLBACK, "callback_query.message.chat.id", -(2**70)),
        "update.callback_query.message.chat.id is past the 64-bit",
        id="callback-chat-id",
    ),
    pytest.param(
        changed(UPDATE, "message.entities", [{"type": "bot_command", "offset": 2**63}]),
        "update.message.entities.0.offset is past the 64-bit",
        id="in-a-list",
    ),
    pytest.param(
        changed(UPDATE, "message.text", "\ud800"), "unpaired surrogate", id="lone-surrogate"
    ),
]


@pytest.mark.parametrize(("update", "reason"), REFUSED)
async def test_update_that_fits_no_column_is_422(
    telegram_client: httpx.AsyncClient,
    database: Database,
    caplog: pytest.LogCaptureFixture,
    update: dict[str, Any],
    reason: str,
) -> None:
    response = await post(telegram_client, json.dumps(update).encode())

    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert any(
        "refused a Telegram update" in record.getMessage() and reason in record.getMessage()
        for record in caplog.records
    )
    assert await counts(database) == (0, 0)
    await assert_next_update_goes_in(telegram_client, database)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"update_id": 1, "message": ' + b"[" * 100_000, id="100000-open"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100000-deep-array"),
        pytest.param(
            b'{"update_id": 1, "x": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
            id="100000-deep-object",
        ),
    ],
)
async def test_json_nested_100000_deep_is_422(
    telegram_client: httpx.AsyncClient, database: Database, body: bytes
) -> None:
    response = await post(telegram_client, body)

    assert response.status_code == 422, response.text
    assert f"deeper than {TELEGRAM_MAX_DEPTH} levels" in response.json()["detail"]
    assert await counts(database) == (0, 0)
    await assert_next_update_goes_in(telegram_client, database)


async def test_ids_at_the_edge_of_64_bits_are_stored(
    telegram_client: httpx.AsyncClient, database: Database
) -> None:
    update = changed(CALLBACK, "update_id", INT64_MAX)
    update = changed(update, "callback_query.from.id", INT64_MAX)
    update = changed(update, "callback_query.message.chat.id", INT64_MIN)

    response = await post(telegram_client, json.dumps(update).encode())

    assert response.status_code == 200, response.text
    async with database.read() as session:
        stored = await session.get(TelegramUpdate, INT64_MAX)
    assert stored is not None and stored.payload == update


async def test_nul_in_a_message_is_kept_as_a_replacement_character(
    telegram_client: httpx.AsyncClient, database: Database
) -> None:
    # The update is real, and PostgreSQL's JSONB takes no NUL: it is stored with U+FFFD.
    update = changed(UPDATE, "message.text", "/leads\x00 today")
    update["message"]["from"]["first_name\x00"] = "x"
    body = json.dumps(update).encode()
    assert b"\\u0000" in body

    response = await post(telegram_client, body)

    assert response.status_code == 200, response.text
    async with database.read() as session:
        stored = await session.get(TelegramUpdate, 1001)
    assert stored is not None
    assert stored.payload["message"]["text"] == "/leads\ufffd today"
    assert stored.payload["message"]["from"]["first_name\ufffd"] == "x"
    await assert_next_update_goes_in(telegram_client, database)


async def test_escaped_backslash_before_u0000_is_text_not_a_nul(
    telegram_client: httpx.AsyncClient, database: Database
) -> None:
    update = changed(UPDATE, "message.text", "a\\u0000b")  # a backslash, then "u0000"

    response = await post(telegram_client, json.dumps(update).encode())

    assert response.status_code == 200, response.text
    async with database.read() as session:
        stored = await session.get(TelegramUpdate, 1001)
    assert stored is not None and stored.payload["message"]["text"] == "a\\u0000b"
