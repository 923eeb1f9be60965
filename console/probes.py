"""The calls the console makes before it saves: Flexbe's `checkConnection` for a site's API
key, Telegram's `getMe` for a bot token. Each failure is a sentence in the admin's language
saying what to do; none repeats the key or the token."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from console.forms import Refused
from integrations.errors import APIConnectionError, IntegrationError
from integrations.flexbe import FlexbeClient, InvalidApiKey, RateLimited, UnknownMethod
from integrations.health import (
    CHECK_TIMEOUT_SECONDS,
    BotApiUnreachable,
    BotIdentity,
    BotTokenRefused,
    identify_bot,
)

# What @BotFather gives: the bot's id, a colon, then 35 characters (a bound, not a guess).
_BOT_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,100}$")


def host_of(url: str) -> str:
    return urlsplit(url).hostname or url[:60]


async def check_flexbe_key(url: str, key: str, _: Callable[[str], str]) -> None:
    """Refused unless the site's API at `url` takes `key` (one call, no retry)."""
    client = FlexbeClient(url, key, max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
    try:
        async with client:
            connected = await client.check_connection()
    except InvalidApiKey:
        raise Refused(
            _(
                "Flexbe refused this API key: copy it again from the site's settings in "
                "Flexbe (API) and paste it whole."
            )
        ) from None
    except RateLimited:
        raise Refused(
            _("Flexbe's 100 requests a minute are spent for this site: try again in a minute.")
        ) from None
    except UnknownMethod:
        raise Refused(
            _(
                "{host} answers, but not as Flexbe's API: the address ends in /mod/api/, "
                "e.g. https://yoursite.ru/mod/api/."
            ).format(host=host_of(url))
        ) from None
    except APIConnectionError:
        raise Refused(
            _("{host} cannot be reached: check the Flexbe API URL.").format(host=host_of(url))
        ) from None
    except IntegrationError:
        raise Refused(
            _(
                "{host} did not answer as Flexbe's API does: is the address right (…/mod/api/)?"
            ).format(host=host_of(url))
        ) from None
    if not connected:
        raise Refused(_("Flexbe answered that this API key is not connected: check the key."))


async def check_bot_token(api_url: str, token: str, _: Callable[[str], str]) -> BotIdentity:
    """The bot the token belongs to; refused if it is not a token or Telegram does not know it."""
    if not _BOT_TOKEN.fullmatch(token):
        raise Refused(
            _(
                "This is not a bot token: @BotFather gives one like "
                "123456789:AAE…, digits, a colon, then letters and digits."
            )
        )
    try:
        return await identify_bot(api_url, token)
    except BotTokenRefused:
        raise Refused(
            _(
                "Telegram does not know this token: copy it again from @BotFather "
                "(/mybots → the bot → API Token); a revoked token no longer works."
            )
        ) from None
    except BotApiUnreachable:
        raise Refused(
            _(
                "Telegram's Bot API at {host} cannot be reached: check the network or "
                "LEADRELAY_TELEGRAM_API_URL, then try again."
            ).format(host=host_of(api_url))
        ) from None
