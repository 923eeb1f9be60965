"""Who gets into the console: every access rule, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select

from console.security import FAILURE_LIMIT
from leadrelay.web import create_app
from storage.clock import utcnow
from storage.database import Database
from storage.models import ConsoleLogin
from storage.queries.console_logins import create_login_link, hash_token
from testkit.fakes.fixtures import Sleeps
from tests.console.conftest import csrf_of, log_in, post_form
from tests.webhooks.conftest import ADMIN_TOKEN, make_settings

PAGES = ["/admin", "/admin/leads", "/admin/leads/1", "/admin/inbox", "/admin/jobs", "/admin/sites"]


async def new_link(database: Database) -> str:
    async with database.write() as session:
        return await create_login_link(session, created_by=42)


async def test_no_page_without_a_session(client: httpx.AsyncClient) -> None:
    for page in [*PAGES, "/admin/leads/export.csv?site=okna"]:
        response = await client.get(page)
        assert response.status_code == 303, page
        assert response.headers["location"].startswith("/admin/login?next=%2Fadmin")
    login = await client.get("/admin/login")
    assert login.status_code == 200
    assert 'name="token"' in login.text


async def test_no_change_without_a_session(client: httpx.AsyncClient) -> None:
    login = await client.get("/admin/login")  # an anonymous session and its token
    for action in ["/admin/jobs/1/retry", "/admin/inbox/1/reprocess", "/admin/sites/doctor"]:
        response = await client.post(action, data={"csrf": csrf_of(login)})
        assert response.status_code == 303, action
        assert response.headers["location"].startswith("/admin/login")


async def test_the_console_is_off_without_an_admin_token(database: Database) -> None:
    settings = make_settings().model_copy(update={"admin_token": None})
    app = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        answers = [
            (await http.get(page)).status_code
            for page in ["/admin", "/admin/login", "/admin/static/console.css"]
        ]
    await app.state.intake.aclose()
    assert answers == [404, 404, 404]


async def test_log_in_with_the_admin_token(client: httpx.AsyncClient, delays: Sleeps) -> None:
    wrong = await log_in(client, token="not-the-token")
    assert wrong.status_code == 401
    assert "Wrong admin token." in wrong.text
    assert (await client.get("/admin")).status_code == 303

    right = await log_in(client)
    assert right.status_code == 303
    assert right.headers["location"] == "/admin"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert "secure" not in cookie  # plain HTTP here; see the HTTPS test
    assert ADMIN_TOKEN not in right.headers["set-cookie"]
    for page in PAGES[:1] + PAGES[2:]:
        response = await client.get(page)
        assert response.status_code in {200, 404}, page
        assert ADMIN_TOKEN not in response.text


async def test_the_session_changes_at_login(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/login")
    before = client.cookies.get("leadrelay_console")
    await client.post("/admin/login", data={"csrf": csrf_of(page), "token": ADMIN_TOKEN})
    assert client.cookies.get("leadrelay_console") != before
    # The token of the anonymous session is worth nothing in the new one.
    replayed = await client.post("/admin/logout", data={"csrf": csrf_of(page)})
    assert replayed.status_code == 403


async def test_the_cookie_is_secure_behind_https(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://leadrelay.test") as http:
        response = await log_in(http)
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()


async def test_forms_need_the_sessions_csrf_token(admin: httpx.AsyncClient, app: FastAPI) -> None:
    missing = await admin.post("/admin/jobs/1/retry", data={})
    forged = await admin.post("/admin/jobs/1/retry", data={"csrf": "0" * 64})
    assert [missing.status_code, forged.status_code] == [403, 403]
    assert "This form has expired" in forged.text

    # A token from another session (another browser, or this one before it logged out).
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as other:
        await log_in(other)
        foreign = csrf_of(await other.get("/admin/jobs"))
    replayed = await admin.post("/admin/jobs/1/retry", data={"csrf": foreign})
    assert replayed.status_code == 403

    valid = await post_form(admin, "/admin/jobs", "/admin/jobs/1/retry")
    assert valid.status_code == 303
    old = csrf_of(await admin.get("/admin/jobs"))
    assert (await admin.post("/admin/logout", data={"csrf": old})).status_code == 303
    after_logout = await admin.post("/admin/jobs/1/retry", data={"csrf": old})
    assert after_logout.status_code == 303  # no session any more: to the login page
    assert after_logout.headers["location"].startswith("/admin/login")


async def test_a_forged_session_cookie_is_no_session(client: httpx.AsyncClient) -> None:
    client.cookies.set("leadrelay_console", "abc.1.9999999999.0000", path="/admin")
    assert (await client.get("/admin")).status_code == 303


async def test_a_login_link_works_once(client: httpx.AsyncClient, database: Database) -> None:
    token = await new_link(database)
    page = await client.get(f"/admin/link/{token}")  # as a link preview would: nothing used
    again = await client.get(f"/admin/link/{token}")
    assert page.status_code == again.status_code == 200
    used = await client.post("/admin/link", data={"csrf": csrf_of(again), "link": token})
    assert used.status_code == 303
    assert (await client.get("/admin")).status_code == 200

    await client.post("/admin/logout", data={"csrf": csrf_of(await client.get("/admin"))})
    reused_page = await client.get(f"/admin/link/{token}")
    reused = await client.post("/admin/link", data={"csrf": csrf_of(reused_page), "link": token})
    assert reused.status_code == 410
    assert "cannot be used" in reused.text
    assert (await client.get("/admin")).status_code == 303


async def test_an_expired_link_does_not_log_in(
    client: httpx.AsyncClient, database: Database, delays: Sleeps
) -> None:
    token = await new_link(database)
    async with database.write() as session:
        await session.exec(
            update(ConsoleLogin)
            .where(col(ConsoleLogin.token_hash) == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    page = await client.get(f"/admin/link/{token}")
    expired = await client.post("/admin/link", data={"csrf": csrf_of(page), "link": token})
    unknown = await client.post("/admin/link", data={"csrf": csrf_of(page), "link": "nope"})
    assert [expired.status_code, unknown.status_code] == [410, 410]
    assert (await client.get("/admin")).status_code == 303


async def test_links_are_stored_hashed(database: Database) -> None:
    token = await new_link(database)
    async with database.read() as session:
        rows = (await session.exec(select(ConsoleLogin))).all()
    assert [row.token_hash for row in rows] == [hash_token(token)]
    assert all(token not in repr(row) for row in rows)


async def test_failed_logins_are_slowed_then_refused(
    client: httpx.AsyncClient, delays: Sleeps
) -> None:
    for _ in range(FAILURE_LIMIT):
        assert (await log_in(client, token="wrong")).status_code == 401
    assert delays.delays == sorted(delays.delays)
    assert delays.delays[-1] > delays.delays[0]
    refused = await log_in(client)  # even the right token, once locked out
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.text


async def test_pages_carry_a_strict_policy(admin: httpx.AsyncClient) -> None:
    for page in [*PAGES, "/admin/login"]:
        response = await admin.get(page)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "<script>" not in response.text  # every script is a file of the package
        assert response.headers["x-frame-options"] == "DENY"


async def test_next_never_leaves_the_console(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/login")
    response = await client.post(
        "/admin/login",
        data={"csrf": csrf_of(page), "token": ADMIN_TOKEN, "next": "//evil.example/admin"},
    )
    assert response.headers["location"] == "/admin"
