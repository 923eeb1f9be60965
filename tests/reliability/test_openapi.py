"""Schemathesis against the served OpenAPI: no 500s, answers match the documented schema."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leadrelay.web import create_app
from storage.database import Database
from tests.webhooks.conftest import ADMIN_TOKEN, make_settings

# No 500, every status documented, every body as its schema says. (Not "schema-valid input
# is accepted": a cursor or a webhook body can be a valid string and still mean nothing.)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("openapi") / "api.db"
    shutil.copy(sqlite_template, path)
    # Nothing touches the database here: its first use is in the test client's loop.
    database = Database(f"sqlite+aiosqlite:///{path}")
    app = create_app(settings=make_settings(), database=database)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    asyncio.run(database.dispose())


def test_every_operation_is_documented(api_schema: Any) -> None:
    paths = {result.ok().path for result in api_schema.get_all_operations()}

    assert {"/flexbe/{site_token}", "/api/leads", "/api/leads/{lead_id}", "/api/inbox"} <= paths
    assert {"/healthz", "/telegram/{path_secret}"} <= paths


def test_api_never_fails_and_matches_its_schema(api_schema: Any) -> None:
    cases: dict[str, int] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def exercise(case: Any) -> None:
            cases[case.operation.label] = cases.get(case.operation.label, 0) + 1
            case.call_and_validate(
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=CHECKS
            )

        exercise()

    assert len(cases) >= 6, cases
    assert sum(cases.values()) >= 100, cases
