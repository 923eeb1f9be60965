"""The stored set-up reaches a process's settings when its version moves: a site added in
the console takes webhooks on its URL, a rotated token keeps working for its grace, and
a set-up that cannot be read leaves the rest working."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from config.sealing import Sealer
from config.settings import Settings
from leadrelay.setup_watch import BOT_TOKEN, SetupWatch
from leadrelay.web import create_app
from storage.clock import utcnow
from storage.database import Database
from storage.models import ConsoleSite, Lead
from storage.queries.setup import connect_chat, move_chat, save_console_site, set_value
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from webhooks.forms import encode_form

ENV_TOKEN = "env-token-0123456789abcdef"
SECRET_KEY = SecretStr("seal-key-0123456789abcdefgh")
CONSOLE_TOKEN = "console-token-0123456789abcdef"
NEW_TOKEN = "rotated-token-0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def settings_with_key(key: SecretStr | None = SECRET_KEY) -> Settings:
    return Settings(
        _env_file=None,
        webhook_token=SecretStr(ENV_TOKEN),
        telegram_chats=[-42],
        secret_key=key,
    )


async def add_console_site(database: Database, *, previous: str | None = None) -> None:
    sealer = Sealer(SECRET_KEY)
    token = NEW_TOKEN if previous else CONSOLE_TOKEN
    async with database.write() as session:
        await save_console_site(
            session,
            ConsoleSite(
                key="dveri",
                name="Двери",
                webhook_token_sealed=sealer.seal(SecretStr(token)),
                previous_token_sealed=sealer.seal(SecretStr(previous)) if previous else None,
                previous_until=utcnow() + timedelta(hours=24) if previous else None,
                default_region="GB",
            ),
        )


@pytest.fixture
async def intake(database: Database) -> AsyncIterator[tuple[Settings, httpx.AsyncClient]]:
    settings = settings_with_key()
    async with database.write() as session:
        await ensure_sites(session, [("default", "default")])
    app = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        yield settings, http
    await app.state.intake.aclose()


async def post_lead(http: httpx.AsyncClient, token: str, flexbe_id: int) -> int:
    body = encode_form(lead_event(flexbe_id))
    return (await http.post(f"/flexbe/{token}", content=body, headers=FORM)).status_code


async def test_a_console_site_takes_webhooks_once_its_change_is_seen(
    database: Database, intake: tuple[Settings, httpx.AsyncClient]
) -> None:
    settings, http = intake
    watch = SetupWatch(database, settings)
    await watch.refresh()
    assert await post_lead(http, CONSOLE_TOKEN, 1) == 404, "not added yet"

    await add_console_site(database)
    assert await watch.refresh() is True
    assert await watch.refresh() is False, "nothing moved: nothing read again"

    assert await post_lead(http, CONSOLE_TOKEN, 2) == 200
    async with database.read() as session:
        lead = (await session.exec(select(Lead))).one()
    assert lead.site_key == "dveri"
    assert settings.site("dveri").region == "GB" and settings.site("dveri").chats == (-42,)


async def test_a_rotated_token_works_until_its_grace_ends(
    database: Database, intake: tuple[Settings, httpx.AsyncClient]
) -> None:
    settings, http = intake
    await add_console_site(database, previous=CONSOLE_TOKEN)
    await SetupWatch(database, settings).refresh()

    assert await post_lead(http, NEW_TOKEN, 3) == 200
    assert await post_lead(http, CONSOLE_TOKEN, 4) == 200, "within the grace"
    async with database.write() as session:
        row = await session.get(ConsoleSite, "dveri")
        assert row is not None
        row.previous_until = utcnow() - timedelta(seconds=1)
        await save_console_site(session, row)
    await SetupWatch(database, settings).refresh()

    assert await post_lead(http, CONSOLE_TOKEN, 5) == 404, "after it, refused"
    assert await post_lead(http, NEW_TOKEN, 6) == 200


async def test_chats_moves_and_the_bot_token_are_merged(database: Database) -> None:
    settings = settings_with_key()
    bot_token = "123456:" + "t" * 35
    async with database.write() as session:
        await connect_chat(
            session, chat_id=-4001, site_key=None, topic=None, title="Sales", created_by=7
        )
        await connect_chat(
            session, chat_id=-100500, site_key="default", topic=15, title="Forum", created_by=7
        )
        await move_chat(session, old_id=-4001, new_id=-1004001)
        await set_value(
            session, BOT_TOKEN, Sealer(SECRET_KEY).seal(SecretStr(bot_token)), sealed=True
        )
    seen: list[tuple[int, int]] = []
    watch = SetupWatch(
        database,
        settings,
        listeners=[lambda before, after: seen.append((before.version, after.version))],
    )

    await watch.refresh()

    site = settings.site("default")
    assert site.chats == (-42, -1004001, -100500)
    assert site.topic_in(-100500) == 15
    assert settings.bot_token is not None and settings.bot_token.get_secret_value() == bot_token
    assert seen == [(0, 4)], "one listener call, from the empty set-up to the stored one"


async def test_without_the_secret_key_the_console_sites_wait_and_the_rest_works(
    database: Database,
) -> None:
    await add_console_site(database)
    settings = settings_with_key(None)

    await SetupWatch(database, settings).refresh()

    assert [site.key for site in settings.effective_sites] == ["default"]
    assert settings.stored.version >= 1 and settings.stored.sites == ()


async def test_a_listener_added_after_the_watch_started_is_told(database: Database) -> None:
    """The runtime adds the digests' listener once the worker is built, after the watch."""
    settings = settings_with_key()
    watch = SetupWatch(database, settings)
    await watch.refresh()
    told: list[int] = []
    watch.listeners.append(lambda _before, after: told.append(after.version))

    async with database.write() as session:
        await connect_chat(
            session, chat_id=-4002, site_key=None, topic=None, title="Sales", created_by=7
        )
    await watch.refresh()

    assert len(told) == 1 and settings.site("default").chats == (-42, -4002)
