"""The set-up the database keeps, merged beside the configuration: console sites, chats
connected from Telegram (with their topics), groups moved to supergroups, admins, the bot
token; and the secrets of it, sealed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from config.chats import ChatAddress
from config.sealing import Sealer, SealError
from config.settings import Settings, load_settings
from config.sites import ChatLink, SiteConfig, StoredSetup, StoredSite
from tests.config.refusals import toml_refusal, use_toml

TOKEN = "env-token-0123456789abcdef"
CONSOLE_TOKEN = "console-token-0123456789abcdef"
OLD_TOKEN = "old-console-token-0123456789ab"


def configured(**values: object) -> Settings:
    return Settings(_env_file=None, webhook_token=SecretStr(TOKEN), **values)  # type: ignore[arg-type]


def console_site(key: str = "dveri", **values: object) -> StoredSite:
    return StoredSite(SiteConfig(key=key, webhook_token=SecretStr(CONSOLE_TOKEN)), **values)  # type: ignore[arg-type]


def test_a_console_site_comes_after_the_configured_ones_and_never_over_one() -> None:
    settings = configured(telegram_chats=[-42])
    settings.use_stored(
        StoredSetup(
            version=3,
            sites=(
                console_site("dveri"),
                console_site("default"),  # the env site's key: the configured one stays
                console_site("off", enabled=False),
            ),
        )
    )

    assert [site.key for site in settings.effective_sites] == ["default", "dveri"]
    assert settings.site("default").webhook_token.get_secret_value() == TOKEN
    dveri = settings.site("dveri")
    assert dveri.stored and not settings.site("default").stored
    assert dveri.chats == (-42,), "no chats of its own: LEADRELAY_TELEGRAM_CHATS"
    assert CONSOLE_TOKEN in settings.secrets()


def test_connected_chats_and_topics_join_the_configured_ones() -> None:
    settings = configured(telegram_chats=[-42])
    settings.use_stored(
        StoredSetup(
            sites=(console_site("dveri"),),
            links=(
                ChatLink(chat_id=-100777, site_key="dveri", topic=15),
                ChatLink(chat_id=-100888, site_key=None),
                ChatLink(chat_id=-42, site_key="default", topic=3),
            ),
        )
    )

    env_site, dveri = settings.site("default"), settings.site("dveri")
    assert env_site.chats == (-42, -100888)
    assert (env_site.topic_in(-42), env_site.topic_in(-100888)) == (3, None)
    assert dveri.chats == (-42, -100777, -100888)
    assert dveri.topic_in(-100777) == 15 and dveri.topic_in(-42) is None


def test_a_group_that_became_a_supergroup_is_followed_wherever_it_is_named() -> None:
    settings = configured(telegram_chats=[-4001])
    settings.use_stored(StoredSetup(moves={-4001: -1004001}))

    assert settings.site("default").chats == (-1004001,)


def test_a_rotated_token_is_kept_with_its_grace() -> None:
    until = datetime(2027, 1, 2, tzinfo=UTC)
    settings = configured()
    settings.use_stored(
        StoredSetup(
            sites=(
                console_site("dveri", previous_token=SecretStr(OLD_TOKEN), previous_until=until),
            )
        )
    )

    dveri = settings.site("dveri")
    assert dveri.previous_webhook_token is not None
    assert (dveri.previous_webhook_token.get_secret_value(), dveri.previous_token_until) == (
        OLD_TOKEN,
        until,
    )
    assert OLD_TOKEN in settings.secrets()


def test_stored_admins_and_bot_token_join_the_environments() -> None:
    settings = configured(telegram_admins=[7])
    assert not settings.telegram_enabled

    bot_token = "123456:" + "x" * 35
    settings.use_stored(StoredSetup(admins=frozenset({9, 7}), bot_token=SecretStr(bot_token)))

    assert settings.admins == (7, 9)
    assert settings.telegram_enabled and bot_token in settings.secrets()
    environment_token = "654321:" + "y" * 35
    both = configured(telegram_bot_token=SecretStr(environment_token))
    both.use_stored(StoredSetup(bot_token=SecretStr(bot_token)))
    assert both.bot_token is not None
    assert both.bot_token.get_secret_value() == environment_token, "the environment wins"


def test_a_merge_replaces_the_last_one_whole() -> None:
    settings = configured()
    settings.use_stored(StoredSetup(sites=(console_site("dveri"),)))
    before = settings.sites_by_key

    settings.use_stored(StoredSetup())

    assert "dveri" in before and "dveri" not in settings.sites_by_key
    assert list(before) == ["default", "dveri"], "a reader's mapping never changes under it"


def test_a_toml_chat_may_name_a_forum_topic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_toml(
        monkeypatch,
        tmp_path,
        '[[sites]]\nkey = "okna"\nwebhook_token = "okna-token-0123456789abcdef"\n'
        'chats = ["-1001234567890:15", -100500]\n',
    )

    okna = load_settings().site("okna")

    assert okna.chats == (-1001234567890, -100500)
    assert (okna.topic_in(-1001234567890), okna.topic_in(-100500)) == (15, None)
    message = toml_refusal(
        monkeypatch,
        tmp_path,
        '[[sites]]\nkey = "okna"\nwebhook_token = "okna-token-0123456789abcdef"\n'
        'chats = ["general"]\n',
    )
    assert "sites[0]" in message and "'general' is not a chat" in message


@pytest.mark.parametrize("written", ["-100123", "-100123:7", " -100123 : 7 ", -100123])
def test_chat_addresses_read(written: object) -> None:
    address = ChatAddress.parse(written)
    assert address.chat_id == -100123
    assert address.topic == (7 if ":" in str(written) else None)


def test_a_sealed_secret_opens_only_with_its_key() -> None:
    sealer = Sealer(SecretStr("k" * 8 + "seal-key-0123456789abcdef"))
    sealed = sealer.seal(SecretStr("flexbe-api-key-42"))

    assert "flexbe-api-key-42" not in sealed
    assert sealer.open(sealed).get_secret_value() == "flexbe-api-key-42"
    other = Sealer(SecretStr("another-seal-key-0123456789"))
    with pytest.raises(SealError, match="LEADRELAY_SECRET_KEY"):
        other.open(sealed)
    with pytest.raises(SealError):
        sealer.open("not a sealed value")
