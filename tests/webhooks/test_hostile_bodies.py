"""Arbitrary bytes at the webhook endpoint: a 200 or a clean 422, never a 500."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrelay.web import create_app
from storage.database import Database
from storage.queries.sites import ensure_sites
from tests.webhooks.conftest import TOKEN, make_settings


@pytest.fixture(scope="module")
def database_file(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    shutil.copy(sqlite_template, path)
    return path


async def post(database_file: Path, body: bytes, content_type: str) -> httpx.Response:
    settings = make_settings()
    database = Database(f"sqlite+aiosqlite:///{database_file}")
    try:
        async with database.write() as session:
            await ensure_sites(session, [(s.key, s.display_name) for s in settings.sites])
        app = create_app(settings=settings, database=database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(
                f"/flexbe/{TOKEN}", content=body, headers={"Content-Type": content_type}
            )
        await app.state.intake.aclose()
        return response
    finally:
        await database.dispose()


bodies = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(lambda text: text.encode()),
    st.builds(
        lambda prefix, rest: prefix + rest,
        st.sampled_from([b"event=lead&", b"event=pay&data[id]=1&", b'{"event":"lead","data":']),
        st.binary(max_size=200),
    ),
)


@settings(
    max_examples=120,
    deadline=None,
)
@given(
    body=bodies,
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "application/json", "text/plain", ""]
    ),
)
def test_any_body_gets_200_or_422(database_file: Path, body: bytes, content_type: str) -> None:
    response = asyncio.run(post(database_file, body, content_type))

    assert response.status_code in {200, 422}, response.text
    if response.status_code == 422:
        assert response.json()["detail"]
        assert response.json()["event_id"] > 0, "the rejected body is kept"
