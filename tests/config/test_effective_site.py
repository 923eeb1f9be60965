"""Each site merged once over the LEADRELAY_ settings, and every secret found by its type."""

from __future__ import annotations

import secrets
import types
import typing
from datetime import timedelta

from pydantic import BaseModel, SecretStr

from config.chats import ChatAddress
from config.rules import Rule
from config.settings import Settings
from config.sites import SiteConfig, SlaConfig

TOKEN = "env-token-0123456789abcdef"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def is_secret(annotation: object) -> bool:
    """`SecretStr`, `SecretStr | None`, or a tuple of them."""
    if annotation is SecretStr:
        return True
    if typing.get_origin(annotation) in {types.UnionType, typing.Union, tuple}:
        return any(is_secret(part) for part in typing.get_args(annotation))
    return False


def secret_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items() if is_secret(info.annotation)]


def test_every_secret_field_is_masked() -> None:
    """Whatever field is typed a secret, in the settings or in a site, is in `secrets()`."""
    given = {name: SecretStr(secrets.token_urlsafe(24)) for name in secret_fields(Settings)}
    site_values = {name: SecretStr(secrets.token_urlsafe(24)) for name in secret_fields(SiteConfig)}
    site = SiteConfig(key="okna", **site_values)  # type: ignore[arg-type]

    found = settings(**given, sites=(site,)).secrets()

    expected = [value.get_secret_value() for value in [*given.values(), *site_values.values()]]
    assert len(expected) >= 11, "the tokens and keys known today are all typed SecretStr"
    assert set(expected) <= set(found)


def test_a_new_secret_setting_is_masked_without_being_listed() -> None:
    class WithAnotherSecret(Settings):
        sms_gateway_key: SecretStr | None = None

    value = secrets.token_urlsafe(24)
    extended = WithAnotherSecret(_env_file=None, sms_gateway_key=SecretStr(value))

    assert value in extended.secrets()


def test_a_site_reads_its_own_settings_over_the_environment() -> None:
    own = SiteConfig(
        key="okna",
        webhook_token=SecretStr("okna-token-0123456789abcdef"),
        chats=(ChatAddress(-100500),),
        default_region="GB",
        call_morning_hour=11,
        repeat_window=timedelta(days=30),
        working_hours="Mon-Fri 10:00-18:00",
        sla=SlaConfig(remind_after="20m"),
        digest_at="08:00",
        rules=(Rule.model_validate({"do": ["call"]}),),
    )
    configured = settings(
        webhook_token=SecretStr(TOKEN),
        telegram_bot_token=SecretStr("123456:" + "b" * 35),
        telegram_chats=[-42],
        call_morning_hour=8,
        working_hours="Mon-Sun 00:00-23:59",
        sla_remind_after="5m",
        sla_escalate_after="1h",
        sites=(own, SiteConfig(key="dveri", webhook_token=SecretStr(TOKEN + "x"))),
    )

    okna, dveri = configured.site("okna"), configured.site("dveri")

    assert (okna.chats, okna.region, okna.morning_hour) == ((-100500,), "GB", 11)
    assert okna.repeat_window == timedelta(days=30)
    assert okna.timers.remind_after == timedelta(minutes=20), "its own SLA"
    assert okna.timers.escalate_after == timedelta(hours=1), "the one it leaves unset"
    assert [rule.name for rule in okna.rules] == ["rule 1"] and okna.applies_rules
    assert (dveri.chats, dveri.region, dveri.morning_hour) == ((-42,), "RU", 8)
    assert dveri.timers.remind_after == timedelta(minutes=5) and not dveri.applies_rules
    assert [site.key for site in configured.effective_sites] == ["okna", "dveri"]
    assert configured.site("okna").timers is okna.timers, "merged once, not per call"


def test_a_copy_with_other_settings_merges_its_sites_again() -> None:
    rule = Rule.model_validate({"site": "default", "do": ["call"]})
    without_bot = settings(webhook_token=SecretStr(TOKEN), rules=(rule,))

    with_bot = without_bot.model_copy(update={"telegram_bot_token": SecretStr("1:" + "c" * 35)})

    assert not without_bot.site("default").applies_rules, "rules run only with the bot"
    assert with_bot.site("default").applies_rules
