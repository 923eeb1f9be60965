"""The doctor's checks against the fakes: what is fine, what is wrong and which setting to fix."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from config.settings import Settings
from config.sites import EffectiveSite, SiteConfig
from integrations.health import (
    CheckResult,
    check_all,
    check_comunik8,
    check_crm5,
    check_flexbe,
    check_telegram,
)
from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import closed_url, serve_app

BOT_TOKEN = "123456:AAF-bot-token-secret"
WEBHOOK_TOKEN = "webhook-token-0123456789abcdef"


def bot_api(token: str) -> Starlette:
    async def get_me(request: Request) -> JSONResponse:
        if request.path_params["token"] != token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        return JSONResponse({"ok": True, "result": {"id": 1, "username": "okna_leads_bot"}})

    return Starlette(routes=[Route("/bot{token}/getMe", get_me)])


@pytest.fixture
async def telegram_url() -> AsyncIterator[str]:
    async with serve_app(bot_api(BOT_TOKEN)) as base_url:
        yield base_url


def site_config(api_url: str | None, key: str | None, site_key: str = "default") -> SiteConfig:
    return SiteConfig(
        key=site_key,
        webhook_token=SecretStr(WEBHOOK_TOKEN),
        flexbe_api_url=api_url,  # type: ignore[arg-type]
        flexbe_api_key=None if key is None else SecretStr(key),
    )


def site(api_url: str | None, key: str | None, site_key: str = "default") -> EffectiveSite:
    configured = site_config(api_url, key, site_key)
    return Settings(_env_file=None, sites=(configured,)).site(site_key)


def settings_for(
    flexbe: FlexbeFake, crm5: Crm5Fake, comunik8: Comunik8Fake, telegram_url: str, **more: Any
) -> Settings:
    values: dict[str, Any] = {
        "sites": (site_config(flexbe.api_url, flexbe.api_key, "okna"),),
        "crm5_api_url": crm5.base_url,
        "crm5_public_token": crm5.public_token,
        "crm5_secret_token": crm5.secret_token,
        "comunik8_api_url": comunik8.base_url,
        "comunik8_api_key": comunik8.api_key,
        "comunik8_lead_type": "callback",
        "telegram_api_url": telegram_url,
        "telegram_bot_token": BOT_TOKEN,
    }
    return Settings(_env_file=None, **(values | more))


async def test_everything_configured_and_right_is_ok(
    flexbe_fake: FlexbeFake,
    crm5_fake: Crm5Fake,
    comunik8_fake: Comunik8Fake,
    telegram_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(flexbe_fake, crm5_fake, comunik8_fake, telegram_url)

    results = await check_all(settings)

    assert [(result.name, result.ok, result.skipped) for result in results] == [
        ("flexbe:okna", True, False),
        ("5crm", True, False),
        ("comunik8", True, False),
        ("telegram", True, False),
    ]
    details = {result.name: result.detail for result in results}
    assert details["5crm"] == "1 funnel(s), 2 manager(s)"
    assert details["telegram"] == "bot @okna_leads_bot"
    assert comunik8_fake.leads == [], "the test lead was not saved"
    assert comunik8_fake.calls("lead/add")[0].body["test"] is True
    for text in [caplog.text, *(result.detail for result in results)]:
        assert not any(secret in text for secret in settings.secrets())
    assert "/bot***/getMe" in caplog.text


async def test_a_wrong_flexbe_key_says_so_and_names_the_setting(flexbe_fake: FlexbeFake) -> None:
    result = await check_flexbe(site(flexbe_fake.api_url, "wrong-flexbe-key-42"))

    assert result == CheckResult(
        "flexbe:default", False, "Flexbe refused the API key", "LEADRELAY_FLEXBE_API_KEY"
    )


async def test_a_config_file_site_names_its_entry(flexbe_fake: FlexbeFake) -> None:
    result = await check_flexbe(site(flexbe_fake.api_url, "wrong-flexbe-key-42", "okna"))
    assert result.setting == "LEADRELAY_CONFIG: sites.okna.flexbe_api_key"


async def test_flexbe_at_a_wrong_url(flexbe_fake: FlexbeFake) -> None:
    unreachable = await check_flexbe(site(closed_url() + "/mod/api/", flexbe_fake.api_key))
    not_the_api = await check_flexbe(site(flexbe_fake.base_url + "/api/", flexbe_fake.api_key))

    assert not unreachable.ok and unreachable.setting == "LEADRELAY_FLEXBE_API_URL"
    assert unreachable.detail.startswith("cannot reach Flexbe at http://127.0.0.1:")
    assert not not_the_api.ok and not_the_api.setting == "LEADRELAY_FLEXBE_API_URL"
    assert "HTTP 404" in not_the_api.detail


async def test_flexbe_out_of_requests_is_not_ok_without_blaming_a_setting(
    flexbe_fake: FlexbeFake,
) -> None:
    flexbe_fake.rate_limited()
    result = await check_flexbe(site(flexbe_fake.api_url, flexbe_fake.api_key))
    assert not result.ok and result.setting is None and "100 requests" in result.detail


async def test_a_site_without_flexbe_api_is_skipped() -> None:
    result = await check_flexbe(site(None, None))
    assert result.ok and result.skipped and result.setting == "LEADRELAY_FLEXBE_API_URL"


@pytest.mark.parametrize(
    ("public", "secret", "setting"),
    [
        ("wrong-public", None, "LEADRELAY_CRM5_PUBLIC_TOKEN"),
        (None, "wrong-secret", "LEADRELAY_CRM5_SECRET_TOKEN"),
    ],
)
async def test_wrong_5crm_tokens(
    crm5_fake: Crm5Fake, public: str | None, secret: str | None, setting: str
) -> None:
    result = await check_crm5(
        crm5_fake.base_url, public or crm5_fake.public_token, secret or crm5_fake.secret_token
    )
    assert not result.ok and result.setting == setting
    assert "refused the token" in result.detail


async def test_5crm_down_and_unconfigured() -> None:
    down = await check_crm5(closed_url(), "public-token")
    off = await check_crm5("https://api.5crm.ru/", None)
    assert not down.ok and down.setting == "LEADRELAY_CRM5_API_URL"
    assert off.ok and off.skipped


async def test_a_5crm_refusal_is_shown_without_the_tokens(crm5_fake: Crm5Fake) -> None:
    crm5_fake.fail_next({"ans": "false", "error": f"token {crm5_fake.public_token} is blocked"})
    result = await check_crm5(crm5_fake.base_url, crm5_fake.public_token)
    assert not result.ok and "is blocked" in result.detail
    assert crm5_fake.public_token not in result.detail


@pytest.mark.parametrize(
    ("key", "lead_type", "setting"),
    [
        ("wrong-key", "callback", "LEADRELAY_COMUNIK8_API_KEY"),
        (None, "no-such-type", "LEADRELAY_COMUNIK8_LEAD_TYPE"),
        (None, None, "LEADRELAY_COMUNIK8_LEAD_TYPE"),
    ],
)
async def test_comunik8_problems(
    comunik8_fake: Comunik8Fake, key: str | None, lead_type: str | None, setting: str
) -> None:
    result = await check_comunik8(comunik8_fake.base_url, key or comunik8_fake.api_key, lead_type)
    assert not result.ok and result.setting == setting
    assert comunik8_fake.leads == []


async def test_comunik8_down_and_unconfigured() -> None:
    down = await check_comunik8(closed_url(), "key", "callback")
    off = await check_comunik8(None, None, None)
    assert not down.ok and down.setting == "LEADRELAY_COMUNIK8_API_URL"
    assert off.ok and off.skipped and off.setting == "LEADRELAY_COMUNIK8_API_URL"


async def test_telegram_wrong_token_down_and_off(telegram_url: str) -> None:
    wrong = await check_telegram(telegram_url, "999:wrong-token-value")
    down = await check_telegram(closed_url(), BOT_TOKEN)
    off = await check_telegram("https://api.telegram.org", None)

    assert not wrong.ok and wrong.setting == "LEADRELAY_TELEGRAM_BOT_TOKEN"
    assert "wrong-token-value" not in wrong.detail
    assert not down.ok and down.setting == "LEADRELAY_TELEGRAM_API_URL"
    assert BOT_TOKEN not in down.detail
    assert off.ok and off.skipped
