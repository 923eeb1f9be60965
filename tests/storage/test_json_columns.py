"""JSON columns are written by orjson, falling back to the standard library: whatever
`json.dumps` could store before still goes in, and reads back the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Table, insert, select

from storage.database import Database
from storage.models import Job
from storage.tables import table_of
from storage.types import dump_json

JOB: Table = table_of(Job)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

# Lone surrogates and integers past 64 bits are what orjson refuses; both are in here.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(), max_size=12),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(st.characters(), max_size=8), children, max_size=4),
    ),
    max_leaves=25,
)


@given(values)
def test_json_text_reads_back_as_the_standard_library_wrote_it(value: Any) -> None:
    assert json.loads(dump_json(value)) == json.loads(json.dumps(value))


def test_keys_that_are_not_text_become_text_as_before() -> None:
    assert json.loads(dump_json({1: "a", "b": {2: None}})) == {"1": "a", "b": {"2": None}}


async def test_a_payload_orjson_refuses_is_still_stored(database: Database) -> None:
    payload = {"lead_id": 7, "reason": "Новый <лид>", "counter": 10**30, "tags": ["ё", None]}
    row = {
        "kind": "notify",
        "payload": payload,
        "dedupe_key": "json-columns",
        "run_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }

    def write_and_read(connection: Any) -> Any:
        connection.execute(insert(JOB), [row])
        return connection.execute(
            select(JOB.c.payload).where(JOB.c.dedupe_key == "json-columns")
        ).scalar_one()

    assert await database.run_in_transaction(write_and_read) == payload
