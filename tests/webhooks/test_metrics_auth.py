"""`/metrics` behind LEADRELAY_METRICS_TOKEN when it is set, open as before when it is not."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from jobs.metrics import render_metrics
from leadrelay.web import create_app
from storage.database import Database
from testkit.fakes.server import serve_app
from tests.webhooks.conftest import ADMIN_TOKEN, make_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
METRICS_TOKEN = "metrics-Zk3v0Hq_UyW7rE2bN9xLm4Tf"


async def get_metrics(database: Database, token: str | None, **headers: str) -> httpx.Response:
    settings = make_settings()
    if token is not None:
        settings = settings.model_copy(update={"metrics_token": SecretStr(token)})
    app = create_app(settings=settings, database=database, metrics=lambda: render_metrics(database))
    try:
        async with serve_app(app) as url, httpx.AsyncClient() as http:
            return await http.get(f"{url}/metrics", headers=headers)
    finally:
        await app.state.intake.aclose()


async def test_metrics_are_open_without_a_token(database: Database) -> None:
    response = await get_metrics(database, None)

    assert response.status_code == 200
    assert "leadrelay_job" in response.text


async def test_metrics_token_is_required_once_set(database: Database) -> None:
    missing = await get_metrics(database, METRICS_TOKEN)
    wrong = await get_metrics(database, METRICS_TOKEN, Authorization=f"Bearer {ADMIN_TOKEN}")
    basic = await get_metrics(database, METRICS_TOKEN, Authorization=f"Basic {METRICS_TOKEN}")
    right = await get_metrics(database, METRICS_TOKEN, Authorization=f"Bearer {METRICS_TOKEN}")

    assert [r.status_code for r in (missing, wrong, basic)] == [401, 401, 401]
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert all("leadrelay_job" not in r.text for r in (missing, wrong, basic))
    assert right.status_code == 200 and "leadrelay_job" in right.text
