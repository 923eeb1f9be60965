"""No key or token in any log line, exception text or repr, whatever goes wrong."""

from __future__ import annotations

import logging

import pytest

from integrations._redact import redact_url
from integrations.comunik8 import (
    Comunik8Cancel,
    Comunik8Client,
    Comunik8ConnectionError,
    InvalidKey,
)
from integrations.crm5 import Crm5Client, Crm5InvalidToken, DealAddRequest
from integrations.flexbe import FlexbeClient, InvalidApiKey
from integrations.health import check_telegram
from integrations.ratelimit import SlidingWindowLimiter
from testkit.fakes.comunik8 import Comunik8Fake
from testkit.fakes.crm5 import Crm5Fake
from testkit.fakes.fixtures import Sleeps
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import DOWN, closed_url

WRONG = "wrong-secret-value-777"
BOT_TOKEN = "424242:bot-token-secret"


async def test_no_secret_leaks_anywhere(
    caplog: pytest.LogCaptureFixture,
    flexbe_fake: FlexbeFake,
    crm5_fake: Crm5Fake,
    comunik8_fake: Comunik8Fake,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    sleeps = Sleeps()
    flexbe_fake.fail_next(503, DOWN)
    crm5_fake.fail_next(500, DOWN)
    comunik8_fake.fail_next(500, DOWN)
    cancel = Comunik8Cancel(type="callback", mobile="+79991234567")

    flexbe = FlexbeClient(
        flexbe_fake.api_url,
        flexbe_fake.api_key,
        limiter=SlidingWindowLimiter(100, 60),
        sleep=sleeps,
    )
    crm5 = Crm5Client(
        crm5_fake.public_token,
        secret_token=crm5_fake.secret_token,
        base_url=crm5_fake.base_url,
        sleep=sleeps,
    )
    comunik8 = Comunik8Client(comunik8_fake.base_url, comunik8_fake.api_key, sleep=sleeps)
    async with flexbe, crm5, comunik8:
        texts.extend(repr(client) for client in (flexbe, crm5, comunik8))
        texts.extend(str(vars(client)) for client in (flexbe, crm5, comunik8))
        # Retries after failures, then success: every log line along the way.
        await flexbe.check_connection()
        await crm5.get_managers()
        await comunik8.cancel_lead(cancel)

    async with FlexbeClient(flexbe_fake.api_url, WRONG, sleep=sleeps) as wrong_flexbe:
        with pytest.raises(InvalidApiKey) as flexbe_error:
            await wrong_flexbe.check_connection()
    async with Crm5Client(WRONG, base_url=crm5_fake.base_url, sleep=sleeps) as wrong_crm5:
        with pytest.raises(Crm5InvalidToken) as crm5_error:
            await wrong_crm5.add_deal(DealAddRequest(name="x"))
    async with Comunik8Client(comunik8_fake.base_url, WRONG, sleep=sleeps) as wrong_comunik8:
        with pytest.raises(InvalidKey) as comunik8_error:
            await wrong_comunik8.cancel_lead(cancel)
    async with Comunik8Client(closed_url(), WRONG, max_retries=1, sleep=sleeps) as down:
        with pytest.raises(Comunik8ConnectionError) as down_error:
            await down.cancel_lead(cancel)
    for error in (flexbe_error, crm5_error, comunik8_error, down_error):
        texts.extend([str(error.value), repr(error.value), str(error.value.args)])

    telegram = await check_telegram(closed_url(), BOT_TOKEN)
    texts.append(telegram.detail)

    secrets = [
        flexbe_fake.api_key,
        crm5_fake.public_token,
        crm5_fake.secret_token,
        comunik8_fake.api_key,
        WRONG,
        BOT_TOKEN,
    ]
    everything = "\n".join([caplog.text, *texts])
    leaks = [secret for secret in secrets if secret in everything]
    assert leaks == []
    assert "retry 1 of 2" in caplog.text, "the retries were logged"
    assert "key=***" in caplog.text, "httpx's request lines were kept, with the key masked"
    assert "secret_token=***" in caplog.text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://d.example/lead/add?key=abc", "https://d.example/lead/add?key=***"),
        (
            "https://crm/x?public_token=a&secret_token=b",
            "https://crm/x?public_token=***&secret_token=***",
        ),
        ("https://api.telegram.org/bot123:ABC-def/getMe", "https://api.telegram.org/bot***/getMe"),
        ("https://site.ru/mod/api/", "https://site.ru/mod/api/"),
    ],
)
def test_urls_are_shown_without_their_secrets(url: str, shown: str) -> None:
    assert redact_url(url) == shown
