"""Out-of-range and hostile input at the Flexbe webhook: a 422 with the raw body kept as
rejected and listed for admins, never a 5xx, and the next request on the client still works.
Run on SQLite and PostgreSQL: both must refuse alike, whatever each column would take."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from storage.database import Database
from storage.models import InboxEvent, Lead
from storage.ranges import INT32_MAX, INT32_MIN, INT64_MAX
from testkit.factories import lead_event, pay_event
from tests.webhooks.conftest import TOKEN
from webhooks.forms import MAX_DEPTH, MAX_FIELDS, MAX_KEY_LENGTH, encode_form
from webhooks.schemas import MAX_BODY_SHOWN

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


def with_data(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """The event with `data.<path>` (dotted) set to `value`."""
    node = event["data"]
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return event


# Each integer of a webhook that is stored, just past its column's range.
OUT_OF_RANGE = [
    ("status.code", lead_event(), 2**63, "data.status.code"),
    ("status.code", lead_event(), INT32_MAX + 1, "data.status.code"),
    ("status.code", lead_event(), INT32_MIN - 1, "data.status.code"),
    ("pay.status.code", pay_event(), 2**63, "data.pay.status.code"),
    ("pay.status.code", pay_event(), INT32_MAX + 1, "data.pay.status.code"),
    ("id", lead_event(), INT64_MAX + 1, "data.id"),
    ("id", lead_event(), 10**40, "data.id"),
    ("num", lead_event(), INT64_MAX + 1, "data.num"),
    ("num", lead_event(), -1, "data.num"),
]


async def assert_kept_as_rejected(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    response: httpx.Response,
    body: bytes,
    reason: str,
) -> None:
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    listed = await client.get("/api/inbox?outcome=rejected", headers=admin_headers)
    [event] = listed.json()["items"]
    assert event["id"] == response.json()["event_id"]
    assert reason in event["error"]
    assert event["body"] == body[:MAX_BODY_SHOWN].decode("utf-8", "replace")
    assert event["body_truncated"] == (len(body) > MAX_BODY_SHOWN)


async def assert_next_lead_is_accepted(client: httpx.AsyncClient, database: Database) -> None:
    following = await client.post(
        f"/flexbe/{TOKEN}", content=encode_form(lead_event(7)), headers=FORM
    )
    assert following.status_code == 200, following.text
    async with database.read() as session:
        lead = await session.get(Lead, following.json()["lead_id"])
    assert lead is not None and lead.flexbe_id == 7


def as_form(event: dict[str, Any], path: str, value: int) -> tuple[bytes, dict[str, str]]:
    return encode_form(with_data(event, path, str(value))).encode(), FORM


def as_json(event: dict[str, Any], path: str, value: int) -> tuple[bytes, dict[str, str]]:
    return json.dumps(with_data(event, path, value)).encode(), JSON


@pytest.mark.parametrize("encoded", [as_form, as_json], ids=["form", "json"])
@pytest.mark.parametrize(("path", "event", "value", "reason"), OUT_OF_RANGE)
async def test_an_integer_past_its_column_is_422_and_kept(
    client: httpx.AsyncClient,
    database: Database,
    admin_headers: dict[str, str],
    encoded: Callable[[dict[str, Any], str, int], tuple[bytes, dict[str, str]]],
    path: str,
    event: dict[str, Any],
    value: int,
    reason: str,
) -> None:
    body, headers = encoded(event, path, value)

    response = await client.post(f"/flexbe/{TOKEN}", content=body, headers=headers)

    await assert_kept_as_rejected(client, admin_headers, response, body, reason)
    await assert_next_lead_is_accepted(client, database)


async def test_integers_at_the_edge_of_their_columns_are_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    event = with_data(pay_event(INT64_MAX), "num", str(INT64_MAX))
    with_data(event, "status.code", str(INT32_MIN))
    with_data(event, "pay.status.code", str(INT32_MAX))

    response = await client.post(f"/flexbe/{TOKEN}", content=encode_form(event), headers=FORM)

    assert response.status_code == 200, response.text
    async with database.read() as session:
        lead = await session.get(Lead, response.json()["lead_id"])
    assert lead is not None
    assert (lead.flexbe_id, lead.num) == (INT64_MAX, INT64_MAX)
    assert (lead.status_code, lead.pay_status_code) == (INT32_MIN, INT32_MAX)


async def test_blank_num_is_no_number(client: httpx.AsyncClient, database: Database) -> None:
    # `data[num]=` once reached the `ge=0` bound as None: a TypeError, so a 500.
    body = encode_form(with_data(lead_event(), "num", "")).encode()

    response = await client.post(f"/flexbe/{TOKEN}", content=body, headers=FORM)

    assert response.status_code == 200, response.text
    async with database.read() as session:
        lead = await session.get(Lead, response.json()["lead_id"])
    assert lead is not None and lead.num is None


def leaves(value: Any) -> int:
    """How many form fields the same event would take."""
    if isinstance(value, dict | list) and value:
        return sum(
            leaves(child) for child in (value.values() if isinstance(value, dict) else value)
        )
    return 1


def deep_json(levels: int) -> bytes:
    return b'{"event": "lead", "data": ' + b'{"a": ' * levels + b"1" + b"}" * levels + b"}"


HOSTILE_JSON = [
    # PostgreSQL stores a NUL in no text or JSON; the raw body column is bytes, so it is kept.
    pytest.param(
        json.dumps(with_data(lead_event(), "client.name", "Ива\x00н")).encode(),
        "NUL character",
        id="nul-in-value",
    ),
    pytest.param(
        json.dumps({"event": "lead", "data": {"id": 1, "a\x00": 1}}).encode(),
        "NUL character",
        id="nul-in-key",
    ),
    pytest.param(
        b'{"event": "lead", "data": ' + b'{"a": ' * 100_000, "deeper than", id="100000-open"
    ),
    pytest.param(deep_json(100_000), "deeper than", id="100000-deep"),
    pytest.param(deep_json(MAX_DEPTH + 1), "deeper than", id="one-past-the-form-depth"),
    pytest.param(
        json.dumps(
            {"event": "lead", "data": {"id": 1, "utm": {f"k{i}": i for i in range(MAX_FIELDS)}}}
        ).encode(),
        f"more than {MAX_FIELDS} fields",
        id="too-many-fields",
    ),
    pytest.param(
        json.dumps({"event": "lead", "data": {"id": 1, "k" * (MAX_KEY_LENGTH + 1): 1}}).encode(),
        f"longer than {MAX_KEY_LENGTH} characters",
        id="key-too-long",
    ),
]


@pytest.mark.parametrize(("body", "reason"), HOSTILE_JSON)
async def test_hostile_json_is_422_and_kept(
    client: httpx.AsyncClient,
    database: Database,
    admin_headers: dict[str, str],
    body: bytes,
    reason: str,
) -> None:
    response = await client.post(f"/flexbe/{TOKEN}", content=body, headers=JSON)

    await assert_kept_as_rejected(client, admin_headers, response, body, reason)
    async with database.read() as session:
        stored = await session.get(InboxEvent, response.json()["event_id"])
    assert stored is not None and stored.body == body, "the raw bytes are kept as sent"
    await assert_next_lead_is_accepted(client, database)


async def test_json_as_deep_and_wide_as_a_form_is_accepted(
    client: httpx.AsyncClient, database: Database
) -> None:
    # JSON nests one level more than the form's brackets: `a[b]=1` is {"a": {"b": "1"}}.
    deep: dict[str, Any] = {"v": "1"}
    for _ in range(MAX_DEPTH - 3):  # below data.utm, which are two levels already
        deep = {"k": deep}
    event = with_data(lead_event(), "utm.cookies", deep)
    event["data"]["utm"]["k" * MAX_KEY_LENGTH] = "1"
    event["data"]["utm"].update({f"x{i}": "1" for i in range(MAX_FIELDS - leaves(event))})
    assert leaves(event) == MAX_FIELDS

    response = await client.post(f"/flexbe/{TOKEN}", content=json.dumps(event), headers=JSON)

    assert response.status_code == 200, response.text
    async with database.read() as session:
        lead = await session.get(Lead, response.json()["lead_id"])
    assert lead is not None and lead.utm["k" * MAX_KEY_LENGTH] == "1"
