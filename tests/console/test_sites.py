"""The Sites page's set-up over HTTP, with the loopback Flexbe and Telegram behind it: a
Flexbe site added (its key checked with checkConnection, its webhook URL shown, a lead
accepted there), edited, its token rotated with a grace, disabled; chats with their source;
admins; the bot token and the first admin's link. Every refusal says what to do and
saves nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlmodel import col, select

from config.sealing import Sealer
from config.settings import Settings
from leadrelay.setup_watch import BOT_TOKEN, BOT_USERNAME, SetupWatch
from leadrelay.web import create_app
from storage.clock import utcnow
from storage.database import Database
from storage.models import ChatConnection, ConsoleSite, Job, Lead, Manager, ManagerRole, SetupValue
from storage.queries.setup import (
    bump_version,
    connect_chat,
    redeem_admin_link,
    setup_version,
)
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import closed_url, serve_app
from testkit.fakes.telegram import BOT_USERNAME as FAKE_BOT
from testkit.fakes.telegram import TelegramFake
from tests.console.conftest import FORM, csrf_of, log_in, post_form
from tests.webhooks.conftest import ADMIN_TOKEN, make_settings
from webhooks.forms import encode_form

SECRET_KEY = SecretStr("console-seal-key-0123456789abcdef")
_URL = re.compile(r'id="webhook-url" value="(http://[^"]+)"')
_LINK = re.compile(r'id="admin-link" value="([^"]+)"')
_PROBLEM = re.compile(r'id="problem">([^<]+)<')
_NOTICE = re.compile(r'id="notice">([^<]+)<')


class Fakes:
    def __init__(self, telegram: TelegramFake, flexbe: FlexbeFake) -> None:
        self.telegram, self.flexbe = telegram, flexbe


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    telegram, flexbe = TelegramFake(), FlexbeFake()
    async with telegram.running(), serve_app(flexbe.app) as flexbe.base_url:
        yield Fakes(telegram, flexbe)


def console_settings(fakes: Fakes, **changes: Any) -> Settings:
    """The web tests' two configured sites (okna, dveri), no bot token, a secret key."""
    options: dict[str, Any] = {
        "admin_token": SecretStr(ADMIN_TOKEN),
        "secret_key": SECRET_KEY,
        "telegram_api_url": fakes.telegram.base_url,
        **changes,
    }
    return Settings(_env_file=None, sites=make_settings().sites, **options)


async def started(database: Database, settings: Settings) -> FastAPI:
    async with database.write() as session:
        await ensure_sites(session, [(s.key, s.display_name) for s in settings.sites])
    await SetupWatch(database, settings).refresh()
    return create_app(settings=settings, database=database)


@pytest.fixture
async def app(database: Database, fakes: Fakes) -> AsyncIterator[FastAPI]:
    """Overrides the web tests' app: the console with a secret key and the fakes."""
    application = await started(database, console_settings(fakes))
    yield application
    await application.state.intake.aclose()


def settings_of(app: FastAPI) -> Settings:
    settings: Settings = app.state.console.settings
    return settings


async def merged(app: FastAPI, database: Database) -> None:
    """What the set-up watch of this process does within a second."""
    await SetupWatch(database, settings_of(app)).refresh()


def site_form(fakes: Fakes, **fields: str) -> dict[str, str]:
    return {
        "name": "Кухни Москва",
        "flexbe_api_url": fakes.flexbe.api_url,
        "flexbe_api_key": fakes.flexbe.api_key,
        **fields,
    }


async def add(admin: httpx.AsyncClient, data: dict[str, str]) -> httpx.Response:
    return await post_form(admin, "/admin/sites", "/admin/sites/new", data)


def problem_of(page: httpx.Response) -> str:
    found = _PROBLEM.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def notice_of(page: httpx.Response) -> str:
    found = _NOTICE.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def webhook_url_of(page: httpx.Response) -> str:
    found = _URL.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


async def post_lead(admin: httpx.AsyncClient, url: str, lead_id: int) -> httpx.Response:
    path = httpx.URL(url).path
    return await admin.post(path, content=encode_form(lead_event(lead_id)), headers=FORM)


async def console_rows(database: Database) -> list[ConsoleSite]:
    async with database.read() as session:
        return list((await session.exec(select(ConsoleSite))).all())


async def chat_rows(database: Database) -> list[ChatConnection]:
    async with database.read() as session:
        return list((await session.exec(select(ChatConnection))).all())


async def stored(database: Database) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Everything the console may store of a site, to tell that nothing changed."""
    async with database.read() as session:
        version = await setup_version(session)
    sites = [row.model_dump() for row in await console_rows(database)]
    chats = [row.model_dump() for row in await chat_rows(database)]
    return sites, chats, version


async def test_a_site_added_takes_leads_on_its_url(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    page = await add(admin, site_form(fakes, chats="-1005550001, -1005550002 : 15"))
    assert page.status_code == 200, problem_of(page)
    assert "kukhni-moskva" in notice_of(page)
    url = webhook_url_of(page)
    assert url.startswith("http://leadrelay.test/flexbe/")
    assert [r.fields["method"] for r in fakes.flexbe.requests] == ["checkConnection"]
    # The page shows the site at once, before any process merged it.
    assert 'id="site-row-kukhni-moskva"' in page.text and "added here" in page.text

    await merged(app, database)
    site = settings_of(app).site("kukhni-moskva")
    assert site.stored and site.name == "Кухни Москва" and site.has_flexbe_api
    assert site.chats == (-1005550001, -1005550002) and site.topic_in(-1005550002) == 15
    answered = await post_lead(admin, url, 3101)
    assert answered.status_code == 200 and answered.json()["status"] == "accepted"
    async with database.read() as session:
        lead = (await session.exec(select(Lead).where(col(Lead.flexbe_id) == 3101))).one()
        queues = {job.queue for job in (await session.exec(select(Job))).all()}
    assert lead.site_key == "kukhni-moskva"
    assert {"tg:-1005550001", "tg:-1005550002"} <= queues

    # Its secrets are kept sealed; the page never shows the Flexbe key again.
    token = url.rsplit("/", 1)[1]
    (row,) = await console_rows(database)
    assert fakes.flexbe.api_key not in str(row.model_dump()) and token not in str(row.model_dump())
    again = await admin.get("/admin/sites")
    assert fakes.flexbe.api_key not in again.text and token not in again.text


async def test_a_key_flexbe_refuses_saves_nothing(
    admin: httpx.AsyncClient, database: Database, fakes: Fakes
) -> None:
    before = await stored(database)
    page = await add(admin, site_form(fakes, flexbe_api_key="not-the-key-0123456789"))
    assert page.status_code == 400
    assert "Flexbe refused this API key" in problem_of(page)
    assert "not-the-key-0123456789" not in page.text
    assert 'value="Кухни Москва"' in page.text  # the form comes back as typed
    down = await add(admin, site_form(fakes, flexbe_api_url=f"{closed_url()}/mod/api/"))
    assert down.status_code == 400 and "cannot be reached" in problem_of(down)
    assert await stored(database) == before


@pytest.mark.parametrize(
    "url",
    ["ftp://yoursite.ru/mod/api/", "javascript:alert(1)", "yoursite.ru/mod/api/", "https://"],
)
async def test_a_url_that_is_not_http_is_refused_in_words(
    admin: httpx.AsyncClient, database: Database, fakes: Fakes, url: str
) -> None:
    page = await add(admin, site_form(fakes, flexbe_api_url=url))
    assert page.status_code == 400
    assert "must be a web address starting with https:// or http://" in problem_of(page)
    assert fakes.flexbe.requests == []
    assert (await stored(database))[0] == []


async def test_a_configured_sites_key_is_never_taken(
    admin: httpx.AsyncClient, database: Database, fakes: Fakes
) -> None:
    reused = await add(admin, site_form(fakes, key="okna"))
    assert reused.status_code == 400
    assert "okna is the key of a site from the configuration" in problem_of(reused)
    assert (await stored(database))[0] == []
    # A name that gives a configured key gets another one.
    named = await add(admin, site_form(fakes, name="Okna"))
    assert named.status_code == 200
    assert [row.key for row in await console_rows(database)] == ["okna-2"]
    twice = await add(admin, site_form(fakes, key="okna-2"))
    assert "has the key okna-2 already" in problem_of(twice)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"working_hours": "weekdays"}, "Working hours: "),
        ({"remind_after": "soon"}, "Remind after: "),
        ({"escalate_after": "400d"}, "Alert admins after: "),
        ({"region": "XX"}, "Phone region: unknown region"),
        ({"chats": "-100123, general"}, "general is not a chat"),
        ({"chats": "-100123, -100123:4"}, "Chat -100123 is listed twice."),
        ({"key": "Кухни"}, "Key: must be 1-32 lowercase letters"),
        ({"name": ""}, "Give the site a name"),
        ({"name": "x" * 201}, "Name is too long: at most 200 characters."),
        ({"name": "a\x00b"}, "Name holds a character that cannot be typed."),
        ({"flexbe_api_key": ""}, "Give the Flexbe API key with the Flexbe API URL."),
        ({"flexbe_api_url": ""}, "Give the Flexbe API URL with the Flexbe API key."),
    ],
)
async def test_a_site_is_validated_as_the_configuration_is(
    admin: httpx.AsyncClient,
    database: Database,
    fakes: Fakes,
    fields: dict[str, str],
    words: str,
) -> None:
    before = await stored(database)
    page = await add(admin, site_form(fakes, **fields))
    assert page.status_code == 400
    assert words in problem_of(page)
    assert await stored(database) == before
    assert fakes.flexbe.requests == []  # refused before Flexbe is asked


async def test_a_site_without_the_flexbe_api_still_takes_leads(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    page = await add(admin, {"name": "Лендинг", "chats": ""})
    assert page.status_code == 200, problem_of(page)
    await merged(app, database)
    site = settings_of(app).site("lending")
    assert not site.has_flexbe_api and site.chats == tuple(settings_of(app).telegram_chats)
    assert (await post_lead(admin, webhook_url_of(page), 3201)).status_code == 200


async def added(admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes) -> str:
    """A site added and merged: its webhook URL."""
    page = await add(admin, site_form(fakes, key="kukhni", chats="-1005550001"))
    assert page.status_code == 200, problem_of(page)
    await merged(app, database)
    return webhook_url_of(page)


async def test_editing_a_site(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    url = await added(admin, app, database, fakes)
    async with database.write() as session:  # a chat connected from Telegram, with its title
        await connect_chat(
            session, chat_id=-1005550009, site_key="kukhni", topic=3, title="Отдел", created_by=7
        )
    page = await admin.get("/admin/sites")
    assert 'value="-1005550001, -1005550009:3"' in page.text  # the edit form's chats
    changes = {
        "name": "Кухни и шкафы",
        "flexbe_api_url": fakes.flexbe.api_url,
        "region": "gb",
        "working_hours": "Mon-Fri 10:00-18:00",
        "remind_after": "20m",
        "escalate_after": "2h",
        "chats": "-1005550009:4, -1005550003",
    }
    saved = await post_form(admin, "/admin/sites", "/admin/sites/kukhni/edit", changes)
    assert saved.status_code == 303
    assert "Кухни и шкафы is saved." in (await admin.get("/admin/sites")).text
    assert [r.fields["method"] for r in fakes.flexbe.requests] == ["checkConnection"]  # kept

    await merged(app, database)
    site = settings_of(app).site("kukhni")
    assert site.name == "Кухни и шкафы" and site.region == "GB" and site.has_flexbe_api
    assert site.chats == (-1005550009, -1005550003) and site.topic_in(-1005550009) == 4
    assert site.timers.remind_after == timedelta(minutes=20)
    assert site.timers.escalate_after == timedelta(hours=2)
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert not site.timers.hours.is_working(monday.replace(hour=9))
    assert site.timers.hours.is_working(monday.replace(hour=11))
    chats = await chat_rows(database)
    assert {c.chat_id: c.title for c in chats} == {-1005550009: "Отдел", -1005550003: ""}
    assert (await post_lead(admin, url, 3301)).status_code == 200  # same key, same URL

    # A new key that Flexbe refuses, or bad hours: refused, nothing changed.
    before = await stored(database)
    wrong = await post_form(
        admin,
        "/admin/sites",
        "/admin/sites/kukhni/edit",
        {**changes, "name": "Другое", "flexbe_api_key": "wrong-key-0123456789"},
    )
    assert wrong.status_code == 400 and "Flexbe refused this API key" in problem_of(wrong)
    assert 'id="site-kukhni" open' in wrong.text and 'value="Другое"' in wrong.text
    hours = await post_form(
        admin, "/admin/sites", "/admin/sites/kukhni/edit", {**changes, "working_hours": "25:00"}
    )
    assert hours.status_code == 400 and "Working hours: " in problem_of(hours)
    assert await stored(database) == before

    # The API given up: its URL emptied, its key goes too.
    await post_form(
        admin, "/admin/sites", "/admin/sites/kukhni/edit", {**changes, "flexbe_api_url": ""}
    )
    (row,) = await console_rows(database)
    assert row.flexbe_api_url is None and row.flexbe_api_key_sealed is None


async def test_configured_sites_are_read_only(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/admin/sites")
    assert page.text.count("from the configuration") >= 2
    assert 'action="/admin/sites/okna/edit"' not in page.text
    for action in ["edit", "rotate", "enabled"]:
        refused = await post_form(admin, "/admin/sites", f"/admin/sites/okna/{action}", {})
        assert refused.status_code == 303
        shown = await admin.get("/admin/sites")
        assert "okna is a site from the configuration: change it there." in shown.text


async def old_token_until(database: Database, moment: Any) -> None:
    """The grace runs out (the stored moment moved, as time would move it)."""
    async with database.write() as session:
        row = (await session.exec(select(ConsoleSite))).one()
        row.previous_until = moment
        session.add(row)
        await bump_version(session)


async def test_a_rotated_token_keeps_working_for_its_grace(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    old_url = await added(admin, app, database, fakes)
    page = await post_form(
        admin, "/admin/sites", "/admin/sites/kukhni/rotate", {"grace_hours": "2"}
    )
    assert page.status_code == 200
    new_url = webhook_url_of(page)
    assert new_url != old_url and "The old one works until" in notice_of(page)
    (row,) = await console_rows(database)
    assert row.previous_until is not None
    left = row.previous_until.astimezone(UTC) - utcnow()
    assert timedelta(hours=1, minutes=59) < left <= timedelta(hours=2)

    await merged(app, database)
    assert (await post_lead(admin, old_url, 3401)).status_code == 200
    assert (await post_lead(admin, new_url, 3402)).status_code == 200
    await old_token_until(database, utcnow() - timedelta(seconds=1))
    await merged(app, database)
    assert (await post_lead(admin, old_url, 3403)).status_code == 404
    assert (await post_lead(admin, new_url, 3404)).status_code == 200

    # No grace: the old URL stops at once.
    at_once = await post_form(
        admin, "/admin/sites", "/admin/sites/kukhni/rotate", {"grace_hours": "0"}
    )
    assert "The old one no longer works." in notice_of(at_once)
    await merged(app, database)
    assert (await post_lead(admin, new_url, 3405)).status_code == 404
    assert (await post_lead(admin, webhook_url_of(at_once), 3406)).status_code == 200

    for grace in ["-1", "721", "soon", "1e3"]:
        refused = await post_form(
            admin, "/admin/sites", "/admin/sites/kukhni/rotate", {"grace_hours": grace}
        )
        assert refused.status_code == 400, grace
        assert "must be a whole number from 0 to 720" in problem_of(refused)


async def test_a_disabled_site_refuses_its_webhooks_until_enabled(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    url = await added(admin, app, database, fakes)
    off = await post_form(admin, "/admin/sites", "/admin/sites/kukhni/enabled", {"enabled": "0"})
    assert off.status_code == 303
    page = await admin.get("/admin/sites")
    assert "is disabled: its webhooks are refused" in notice_of(page)
    assert 'id="enable-kukhni"' in page.text
    await merged(app, database)
    assert "kukhni" not in settings_of(app).sites_by_key
    assert (await post_lead(admin, url, 3501)).status_code == 404

    await post_form(admin, "/admin/sites", "/admin/sites/kukhni/enabled", {"enabled": "1"})
    await merged(app, database)
    assert (await post_lead(admin, url, 3502)).status_code == 200


async def test_the_webhook_url_of_a_console_site_is_shown_when_asked(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    url = await added(admin, app, database, fakes)
    page = await admin.get("/admin/sites")
    assert url not in page.text
    shown = await post_form(admin, "/admin/sites", "/admin/sites/kukhni/webhook-url")
    assert webhook_url_of(shown) == url and 'data-copy="webhook-url"' in shown.text
    unknown = await post_form(admin, "/admin/sites", "/admin/sites/nope/webhook-url")
    assert unknown.status_code == 303


async def test_chats_are_listed_with_their_source_and_removed(
    admin: httpx.AsyncClient, app: FastAPI, database: Database
) -> None:
    async with database.write() as session:
        await connect_chat(
            session, chat_id=-1007770001, site_key="dveri", topic=12, title="Двери · заявки",
            created_by=1,
        )  # fmt: skip
        await connect_chat(
            session, chat_id=-1007770002, site_key=None, topic=None, title="Все", created_by=1
        )
    page = await admin.get("/admin/sites")
    rows = re.findall(r'<tr class="chat">(.*?)</tr>', page.text, re.DOTALL)
    text = [re.sub(r"<[^>]+>", " ", row) for row in rows]
    assert len(text) == 2 + 1 + 2  # okna's two and dveri's one configured, two connected
    assert sum("from the configuration" in row for row in text) == 3
    assert any("-1007770001" in r and "Двери · заявки" in r and " 12 " in r for r in text)
    assert any("-1007770002" in r and "every site" in r for r in text)
    assert 'id="remove--1001234567890-okna"' not in page.text  # configured: read-only

    await post_form(
        admin, "/admin/sites", "/admin/chats/remove", {"chat": "-1007770001", "site": "dveri"}
    )
    assert "no longer gets the cards of dveri" in (await admin.get("/admin/sites")).text
    await post_form(
        admin, "/admin/sites", "/admin/chats/remove", {"chat": "-1007770002", "site": "*"}
    )
    await merged(app, database)
    assert settings_of(app).site("dveri").chats == (777,)
    assert await chat_rows(database) == []
    for chat, site in [("-1001234567890", "okna"), ("oops", "okna"), ("-1", "")]:
        await post_form(admin, "/admin/sites", "/admin/chats/remove", {"chat": chat, "site": site})
        assert "That chat is not connected" in (await admin.get("/admin/sites")).text


async def test_admins_are_made_and_removed_never_the_last(
    admin: httpx.AsyncClient, app: FastAPI, database: Database
) -> None:
    async with database.write() as session:
        session.add(Manager(telegram_id=601, name="Анна", role=ManagerRole.ADMIN.value))
        session.add(Manager(telegram_id=602, name="Борис"))
    page = await admin.get("/admin/sites")
    assert 'id="unadmin-601"' in page.text and 'id="admin-602"' in page.text

    async def switch(member: int, admin_now: str) -> str:
        await post_form(
            admin, "/admin/sites", f"/admin/managers/{member}/admin", {"admin": admin_now}
        )
        return notice_of(await admin.get("/admin/sites"))

    assert "Анна is the last admin" in await switch(601, "0")
    assert await switch(602, "1") == "Борис is an admin now."
    assert "Анна is a manager now" in await switch(601, "0")
    assert "No such member" in await switch(999, "1")
    await merged(app, database)
    assert settings_of(app).admins == (602,)


async def test_admins_of_the_environment_are_shown_and_kept(
    database: Database, fakes: Fakes
) -> None:
    settings = console_settings(fakes, telegram_admins=[701])
    application = await started(database, settings)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        await log_in(http)
        page = await http.get("/admin/sites")
        row = page.text.split('id="manager-701"')[1].split("</tr>")[0]
        assert "from the environment" in row and "admin" in row and "<button" not in row
        await post_form(http, "/admin/sites", "/admin/managers/701/admin", {"admin": "0"})
        assert "LEADRELAY_TELEGRAM_ADMINS" in notice_of(await http.get("/admin/sites"))
    await application.state.intake.aclose()


async def test_a_bot_token_pasted_is_checked_and_kept_sealed(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    page = await admin.get("/admin/sites")
    assert 'id="bot-token"' in page.text and "Off: no bot token" in page.text

    async def paste(token: str) -> httpx.Response:
        return await post_form(
            admin, "/admin/sites", "/admin/setup/bot-token", {"bot_token": token}
        )

    malformed = await paste("hello")
    assert malformed.status_code == 400 and "This is not a bot token" in problem_of(malformed)
    wrong = await paste("999999:not-the-right-token-abc")
    assert wrong.status_code == 400 and "Telegram does not know this token" in problem_of(wrong)
    assert "999999:not-the-right-token-abc" not in wrong.text
    async with database.read() as session:
        assert (await session.exec(select(SetupValue))).all() == []

    right = await paste(fakes.telegram.token)
    assert right.status_code == 200
    assert f"The bot @{FAKE_BOT} (leadrelay) is connected: it starts within seconds" in (
        notice_of(right)
    )
    assert fakes.telegram.token not in right.text and 'id="bot-token"' not in right.text
    async with database.read() as session:
        values = {v.name: v for v in (await session.exec(select(SetupValue))).all()}
    assert values[BOT_TOKEN].sealed and fakes.telegram.token not in values[BOT_TOKEN].value
    assert Sealer(SECRET_KEY).open(values[BOT_TOKEN].value).get_secret_value() == (
        fakes.telegram.token
    )
    assert values[BOT_USERNAME].value == FAKE_BOT

    # Nobody is admin yet: the page gives the first admin's link at once.
    link = _LINK.search(right.text)
    assert link is not None and link.group(1).startswith(f"https://t.me/{FAKE_BOT}?start=admin-")
    async with database.write() as session:
        code = link.group(1).rsplit("start=", 1)[1]
        assert await redeem_admin_link(session, code=code, telegram_id=42)
        assert not await redeem_admin_link(session, code=code, telegram_id=43)

    await merged(app, database)
    assert settings_of(app).bot_token == SecretStr(fakes.telegram.token)
    assert settings_of(app).telegram_enabled
    again = await paste(fakes.telegram.token)
    assert "A bot token was pasted here already" in problem_of(again)


async def test_the_first_admins_link_while_there_is_none(
    admin: httpx.AsyncClient, database: Database, fakes: Fakes
) -> None:
    without_bot = await post_form(admin, "/admin/sites", "/admin/setup/admin-link")
    assert without_bot.status_code == 303
    assert "paste its token first" in notice_of(await admin.get("/admin/sites"))
    async with database.write() as session:
        session.add(SetupValue(name=BOT_USERNAME, value=FAKE_BOT))
        session.add(SetupValue(name=BOT_TOKEN, value="sealed", sealed=True))
    page = await admin.get("/admin/sites")
    assert 'id="make-admin-link"' in page.text
    shown = await post_form(admin, "/admin/sites", "/admin/setup/admin-link")
    link = _LINK.search(shown.text)
    assert link is not None and link.group(1).startswith(f"https://t.me/{FAKE_BOT}?start=admin-")
    assert "within 24 hours" in notice_of(shown)

    async with database.write() as session:
        session.add(Manager(telegram_id=42, name="Ada", role=ManagerRole.ADMIN.value))
    assert 'id="make-admin-link"' not in (await admin.get("/admin/sites")).text
    await post_form(admin, "/admin/sites", "/admin/setup/admin-link")
    assert "There is an admin already" in notice_of(await admin.get("/admin/sites"))


async def test_the_link_asks_getme_for_a_bot_of_the_environment(
    database: Database, fakes: Fakes
) -> None:
    settings = console_settings(fakes, telegram_bot_token=SecretStr(fakes.telegram.token))
    application = await started(database, settings)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        await log_in(http)
        page = await http.get("/admin/sites")
        assert 'id="bot-token"' not in page.text and 'id="make-admin-link"' in page.text
        shown = await post_form(http, "/admin/sites", "/admin/setup/admin-link")
        assert f"https://t.me/{FAKE_BOT}?start=admin-" in shown.text
        refused = await post_form(
            http, "/admin/sites", "/admin/setup/bot-token", {"bot_token": "1:abcdefghijklmn"}
        )
        assert "LEADRELAY_TELEGRAM_BOT_TOKEN is set" in problem_of(refused)
    await application.state.intake.aclose()
    assert [call.method for call in fakes.telegram.calls_of("getMe")] == ["getMe"]


async def test_without_a_secret_key_nothing_secret_is_saved(
    database: Database, fakes: Fakes
) -> None:
    application = await started(database, console_settings(fakes, secret_key=None))
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        await log_in(http)
        page = await http.get("/admin/sites")
        assert 'id="no-secret-key"' in page.text and 'id="add-site"' not in page.text
        refused = await post_form(http, "/admin/sites", "/admin/sites/new", site_form(fakes))
        assert refused.status_code == 400
        assert problem_of(refused).startswith("LEADRELAY_SECRET_KEY is not set")
        token = await post_form(
            http, "/admin/sites", "/admin/setup/bot-token", {"bot_token": fakes.telegram.token}
        )
        assert problem_of(token).startswith("LEADRELAY_SECRET_KEY is not set")
    await application.state.intake.aclose()
    assert await console_rows(database) == [] and await chat_rows(database) == []
    assert fakes.flexbe.requests == [] and fakes.telegram.calls_of("getMe") == []


SITE_FORMS = [
    "/admin/sites/new",
    "/admin/sites/kukhni/edit",
    "/admin/sites/kukhni/rotate",
    "/admin/sites/kukhni/enabled",
    "/admin/chats/remove",
    "/admin/managers/1/admin",
    "/admin/setup/bot-token",
    "/admin/setup/admin-link",
]


async def test_every_form_needs_a_session_and_its_csrf_token(
    client: httpx.AsyncClient, admin: httpx.AsyncClient, database: Database
) -> None:
    for action in SITE_FORMS:
        forged = await admin.post(action, data={"csrf": "0" * 64, "name": "x"})
        assert forged.status_code == 403, action
    await admin.post("/admin/logout", data={"csrf": csrf_of(await admin.get("/admin/sites"))})
    login = await client.get("/admin/login")
    for action in SITE_FORMS:
        anonymous = await client.post(action, data={"csrf": csrf_of(login)})
        assert anonymous.status_code == 303, action
        assert anonymous.headers["location"].startswith("/admin/login")
    assert (await stored(database))[:2] == ([], [])


async def test_a_russian_sites_page(admin: httpx.AsyncClient, fakes: Fakes) -> None:
    await admin.get("/admin/lang?to=ru&next=/admin/sites")
    page = await admin.get("/admin/sites")
    assert "Добавить сайт Flexbe" in page.text and "из конфигурации" in page.text
    refused = await add(admin, site_form(fakes, flexbe_api_url="ftp://x.ru/"))
    assert "https://" in problem_of(refused) and "must be" not in problem_of(refused)
    added_page = await add(admin, site_form(fakes))
    assert added_page.status_code == 200 and "добавлен" in notice_of(added_page)


async def test_the_checks_name_a_console_site_by_the_page(
    admin: httpx.AsyncClient, app: FastAPI, database: Database, fakes: Fakes
) -> None:
    await added(admin, app, database, fakes)
    fakes.flexbe.api_key = "a-key-changed-in-flexbe-0123"
    checks = await post_form(admin, "/admin/sites", "/admin/sites/doctor")
    rows = re.findall(r'<tr class="(\w+)"><td>[^<]*</td><td>([^<]+)</td>', checks.text)
    names = [name for _, name in rows]
    assert names[:4] == ["flexbe:okna", "flexbe:dveri", "flexbe:kukhni", "5crm"]
    assert ("fail", "flexbe:kukhni") in rows
    assert "the console&#39;s Sites page: kukhni, Flexbe API api key" in checks.text
