"""`bot.delivery`'s edges, with the real aiogram `Bot` over HTTP to the loopback Telegram:
the topic chosen for several sites, a 429 and other refusals left to the caller, an edit
in a group that moved, the lines of the configuration that name a moved group, and the
ids a migration update may carry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from pydantic import AnyHttpUrl, SecretStr
from sqlmodel import select

from bot.alerts import configured_lines
from bot.config import BotConfig
from bot.delivery import ChatMoved, Delivery
from bot.handlers.migration import is_move
from config.chats import ChatAddress
from config.settings import Settings
from config.sites import ChatLink, SiteConfig, StoredSetup
from domain.jobs import MOVED_ALERT, TOPIC_ALERT
from storage.database import Database
from storage.models import ChatMove, Job
from testkit.fakes.telegram import TelegramFake

FORUM, OLD_GROUP, SUPERGROUP = -1002000, -4001, -1004001
ADMIN = 11


def settings_of(fake: TelegramFake) -> Settings:
    sites = (
        SiteConfig(
            key="okna",
            webhook_token=SecretStr("okna-token-0123456789abcdef"),
            chats=(ChatAddress(FORUM, 15), ChatAddress(OLD_GROUP)),
        ),
        SiteConfig(
            key="dveri",
            webhook_token=SecretStr("dveri-token-0123456789abcdef"),
            chats=(ChatAddress(FORUM, 16),),
        ),
    )
    return Settings(
        _env_file=None,
        sites=sites,
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_url=AnyHttpUrl(fake.base_url),
        telegram_admins=[ADMIN],
        telegram_chats=[OLD_GROUP, -4002],
    )


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    telegram = TelegramFake()
    async with telegram.running():
        telegram.make_forum(FORUM, {15, 16})
        yield telegram


@pytest.fixture
async def delivery(fake: TelegramFake, database: Database) -> AsyncIterator[Delivery]:
    bot = Bot(fake.token, session=fake.session())
    config = BotConfig.from_settings(settings_of(fake))
    yield Delivery(bot=bot, database=database, config=config)
    await bot.session.close()


async def jobs_of(database: Database, kind: str) -> list[Job]:
    async with database.read() as session:
        return list((await session.exec(select(Job).where(Job.kind == kind))).all())


async def test_sites_that_share_a_topic_get_it_others_general(delivery: Delivery) -> None:
    assert delivery.topic(FORUM, ["okna"]) == 15
    assert delivery.topic(FORUM, ["okna", "okna"]) == 15
    assert delivery.topic(FORUM, ["okna", "dveri"]) is None, "two topics: General"
    assert delivery.topic(FORUM, ["gone"]) is None, "a site no longer configured"
    assert delivery.topic(FORUM, []) is None


async def test_a_stored_topic_is_read_from_memory(delivery: Delivery) -> None:
    delivery.config.live.use_stored(StoredSetup(links=(ChatLink(-1005000, "dveri", 9),)))
    assert delivery.topic(-1005000, ["dveri"]) == 9
    assert delivery.topic(-1005000, ["okna"]) is None


async def test_a_429_and_other_refusals_are_the_callers(
    delivery: Delivery, fake: TelegramFake, database: Database
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as waited:
        await delivery.send_message(FORUM, "card", sites=["okna"])
    assert waited.value.retry_after == 7
    # A refusal that is not about the topic is not answered by dropping it.
    fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    with pytest.raises(TelegramBadRequest):
        await delivery.send_message(FORUM, "card", sites=["okna"])
    assert fake.chat(FORUM) == []
    assert await jobs_of(database, TOPIC_ALERT.name) == []


async def test_a_missing_topic_is_asked_once(
    delivery: Delivery, fake: TelegramFake, database: Database
) -> None:
    fake.delete_topic(FORUM, 15)
    first = await delivery.send_message(FORUM, "one", sites=["okna"])
    second = await delivery.send_message(FORUM, "two", sites=["okna"])
    assert first is not None and second is not None
    assert [m["message_thread_id"] for m in fake.chat(FORUM)] == [None, None]
    refused = [r for r in fake.rejected if "thread not found" in r[1]]
    assert len(refused) == 1, "known missing: General at once"
    alerts = await jobs_of(database, TOPIC_ALERT.name)
    assert [(a.payload["topic"], a.payload["site"]) for a in alerts] == [(15, "okna")]
    # Another site's topic in the same forum still works.
    await delivery.send_message(FORUM, "three", sites=["dveri"])
    assert fake.chat(FORUM)[-1]["message_thread_id"] == 16


async def test_an_edit_in_a_moved_group_records_the_move(
    delivery: Delivery, fake: TelegramFake, database: Database
) -> None:
    sent = await delivery.send_message(OLD_GROUP, "card", sites=["okna"])
    assert sent is not None and sent.chat_id == OLD_GROUP
    fake.migrate_group(OLD_GROUP, SUPERGROUP)
    with pytest.raises(ChatMoved) as moved:
        await delivery.edit_text(
            OLD_GROUP, sent.message_id, "edited", reply_markup=None, parse_mode=None
        )
    assert moved.value.new_chat == SUPERGROUP
    assert delivery.chat_now(OLD_GROUP) == SUPERGROUP, "this process follows it at once"
    async with database.read() as session:
        assert (await session.get(ChatMove, OLD_GROUP)) is not None
    assert len(await jobs_of(database, MOVED_ALERT.name)) == 1
    # The next message to the old id goes to the new one without asking the old.
    asked = len(fake.requests)
    again = await delivery.send_message(OLD_GROUP, "next", sites=["okna"])
    assert again is not None and again.chat_id == SUPERGROUP
    assert len(fake.requests) == asked + 1
    assert len(await jobs_of(database, MOVED_ALERT.name)) == 1


async def test_the_lines_to_change_name_every_place_of_the_old_id(fake: TelegramFake) -> None:
    settings = settings_of(fake)
    assert configured_lines(settings, OLD_GROUP, SUPERGROUP) == [
        f"LEADRELAY_TELEGRAM_CHATS={SUPERGROUP},-4002",
        f'[[sites]] key = "okna": chats = ["{FORUM}:15", {SUPERGROUP}]',
    ]
    assert configured_lines(settings, -4999, SUPERGROUP) == [], "a chat connected in Telegram"


@pytest.mark.parametrize(
    ("old_id", "new_id", "valid"),
    [
        (OLD_GROUP, SUPERGROUP, True),
        (-123456789, -1001234567890, True),
        (4001, SUPERGROUP, False),  # a private chat does not migrate
        (OLD_GROUP, -4002, False),  # not a supergroup's id
        (OLD_GROUP, 1004001, False),
        (OLD_GROUP, -(2**60), False),  # not an id Telegram gives
    ],
)
def test_a_migration_names_a_group_and_a_supergroup(old_id: int, new_id: int, valid: bool) -> None:
    assert is_move(old_id, new_id) is valid
