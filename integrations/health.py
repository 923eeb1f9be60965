"""One live check per external service, for `leadrelay doctor`.

Each check makes one cheap call (Flexbe `checkConnection`, 5CRM's funnels and managers, a
Comunik8 `test: true` lead, Telegram `getMe`), never retries, and returns a `CheckResult`
whose `setting` names what to fix. Each site's 5CRM ids are checked against the account's
funnels, custom fields and managers (`integrations.crm5_ids`). Details never hold a key or
token: the secrets a check was given are masked in whatever text a service sent back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from config.settings import DEFAULT_SITE_KEY, ENV_PREFIX, Settings
from config.sites import EffectiveSite
from integrations import _redact
from integrations.comunik8 import (
    Comunik8Client,
    Comunik8Error,
    Comunik8Lead,
    DryRunPassed,
    InvalidKey,
    UnknownLeadType,
    ValidationFailed,
)
from integrations.crm5 import Crm5Client, Crm5Error, Crm5InvalidToken, Crm5Refused, Manager
from integrations.crm5_ids import configured, mapping_problems
from integrations.errors import APIConnectionError, IntegrationError
from integrations.flexbe import FlexbeClient, InvalidApiKey, RateLimited, UnknownMethod

CHECK_TIMEOUT_SECONDS = 10.0
_redact.install()


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    # The setting to fix when not ok (or to set, when skipped), e.g. LEADRELAY_FLEXBE_API_KEY.
    setting: str | None = None
    # Not configured, so not checked: fine for optional services.
    skipped: bool = False


def _env(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def _site_setting(site: EffectiveSite, name: str) -> str:
    if site.stored:
        return f"the console's Sites page: {site.key}, Flexbe API {name.replace('_', ' ')}"
    if site.key == DEFAULT_SITE_KEY:
        return _env(f"flexbe_{name}")
    return f"{_env('config')}: sites.{site.key}.flexbe_{name}"


def _mask(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _skipped(name: str, detail: str, setting: str) -> CheckResult:
    """Not configured, so not checked; `setting` is what would turn it on."""
    return CheckResult(name, True, detail, setting, skipped=True)


def _unreachable(service: str, url: str, error: IntegrationError) -> str:
    return f"cannot reach {service} at {_redact.redact_url(url)} ({type(error).__name__})"


async def check_flexbe(
    site: EffectiveSite,
    *,
    http_client: httpx.AsyncClient | None = None,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> CheckResult:
    name = f"flexbe:{site.key}"
    url_setting, key_setting = _site_setting(site, "api_url"), _site_setting(site, "api_key")
    if site.flexbe_api_url is None:
        return _skipped(name, "no Flexbe API URL: sync is off", url_setting)
    if site.flexbe_api_key is None:
        return CheckResult(name, False, "a Flexbe API URL but no API key", key_setting)
    url, key = str(site.flexbe_api_url), site.flexbe_api_key.get_secret_value()
    client = FlexbeClient(url, key, max_retries=0, timeout=timeout, http_client=http_client)
    try:
        async with client:
            connected = await client.check_connection()
    except InvalidApiKey:
        return CheckResult(name, False, "Flexbe refused the API key", key_setting)
    except RateLimited:
        return CheckResult(name, False, "Flexbe's 100 requests a minute are spent; try later")
    except UnknownMethod:
        detail = "the API URL answers, but not as a Flexbe site API (…/mod/api/)"
        return CheckResult(name, False, detail, url_setting)
    except APIConnectionError as error:
        return CheckResult(name, False, _unreachable("Flexbe", url, error), url_setting)
    except IntegrationError as error:
        detail = _mask(f"{error.message}: is the API URL right (…/mod/api/)?", key)
        return CheckResult(name, False, detail, url_setting)
    if not connected:
        return CheckResult(
            name, False, "Flexbe answered checkConnection with status 0", key_setting
        )
    return CheckResult(name, True, f"connected to {_redact.redact_url(url)}")


async def check_crm5(
    api_url: str,
    public_token: str | None,
    secret_token: str | None = None,
    *,
    http_client: httpx.AsyncClient | None = None,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> CheckResult:
    """The public token by listing the funnels; the secret token, when given, by listing the
    managers (a refusal names the token of the step refused)."""
    name = "5crm"
    if not public_token:
        return _skipped(name, "not configured: deals are off", _env("crm5_public_token"))
    client = _crm5_client(api_url, public_token, secret_token, http_client, timeout)
    step, setting = "funnels", _env("crm5_public_token")
    try:
        async with client:
            funnels = await client.get_funnels()
            detail = f"{len(funnels)} funnel(s)"
            if secret_token:
                step, setting = "managers", _env("crm5_secret_token")
                detail += f", {len(await client.get_managers())} manager(s)"
    except Crm5InvalidToken:
        return CheckResult(name, False, f"5CRM refused the token (asking for {step})", setting)
    except APIConnectionError as error:
        return CheckResult(name, False, _unreachable("5CRM", api_url, error), _env("crm5_api_url"))
    except Crm5Refused as error:
        detail = _mask(f"5CRM refused ({step}): {error.body[:200]}", public_token, secret_token)
        return CheckResult(name, False, detail, setting)
    except Crm5Error as error:
        detail = _mask(error.message, public_token, secret_token)
        return CheckResult(name, False, detail, _env("crm5_api_url"))
    return CheckResult(name, True, detail)


async def check_crm5_sites(
    sites: Sequence[EffectiveSite],
    api_url: str,
    public_token: str | None,
    secret_token: str | None = None,
    *,
    http_client: httpx.AsyncClient | None = None,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> list[CheckResult]:
    """One result per site whose `[sites.crm5]` names ids (none when 5CRM cannot be asked:
    `check_crm5` says why); a failed one per wrong id, naming its setting."""
    sites = [site for site in sites if configured(site.crm5)]
    if not public_token or not sites:
        return []
    client = _crm5_client(api_url, public_token, secret_token, http_client, timeout)
    try:
        async with client:
            funnels = await client.get_funnels()
            fields = await client.get_custom_fields()
            managers: list[Manager] | None = None
            if secret_token and any(site.crm5.manager_id is not None for site in sites):
                managers = await client.get_managers()
    except Crm5Error:
        return []
    results: list[CheckResult] = []
    for site in sites:
        name = f"5crm:{site.key}"
        if site.crm5.send_as == "form":
            detail = "sends forms (ctm/form/send): 5CRM routes them, the ids are not sent"
            results.append(CheckResult(name, True, detail))
            continue
        problems = mapping_problems(
            site.key, site.crm5, funnels=funnels, fields=fields, managers=managers
        )
        results += [
            CheckResult(name, False, problem.message, _crm5_setting(site, problem.setting))
            for problem in problems
        ]
        if not problems:
            unchecked = (
                ""
                if managers is not None or site.crm5.manager_id is None
                else ("; manager_id unchecked without the secret token")
            )
            results.append(
                CheckResult(name, True, f"funnel, stage and custom fields exist{unchecked}")
            )
    return results


def _crm5_client(
    api_url: str,
    public_token: str,
    secret_token: str | None,
    http_client: httpx.AsyncClient | None,
    timeout: float,
) -> Crm5Client:
    """A client for one look, without retries: a check says what it found at once."""
    return Crm5Client(
        public_token,
        secret_token=secret_token,
        base_url=api_url,
        max_retries=0,
        timeout=timeout,
        http_client=http_client,
    )


def _crm5_setting(site: EffectiveSite, name: str) -> str:
    return f"{_env('config')}: sites.{site.key}.crm5.{name}"


async def check_comunik8(
    api_url: str | None,
    api_key: str | None,
    lead_type: str | None,
    *,
    http_client: httpx.AsyncClient | None = None,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> CheckResult:
    name = "comunik8"
    if not api_url or not api_key:
        setting = _env("comunik8_api_url" if not api_url else "comunik8_api_key")
        return _skipped(name, "not configured: calls are off", setting)
    if not lead_type:
        return CheckResult(name, False, "no lead type to send", _env("comunik8_lead_type"))
    # Validated by the dialler, never saved.
    lead = Comunik8Lead(
        email="doctor@leadrelay.invalid",
        first_name="leadrelay",
        surname="doctor",
        mobile="+79990000000",
        type=lead_type,
        test=True,
    )
    client = Comunik8Client(
        api_url, api_key, max_retries=0, timeout=timeout, http_client=http_client
    )
    try:
        async with client:
            result = await client.add_lead(lead)
    except InvalidKey:
        return CheckResult(name, False, "Comunik8 refused the API key", _env("comunik8_api_key"))
    except UnknownLeadType:
        detail = f"Comunik8 does not know the lead type {lead_type!r}"
        return CheckResult(name, False, detail, _env("comunik8_lead_type"))
    except ValidationFailed as error:
        return CheckResult(name, False, _mask(error.message, api_key))
    except APIConnectionError as error:
        detail = _unreachable("Comunik8", api_url, error)
        return CheckResult(name, False, detail, _env("comunik8_api_url"))
    except Comunik8Error as error:
        return CheckResult(name, False, _mask(error.message, api_key), _env("comunik8_api_url"))
    if not isinstance(result, DryRunPassed):
        # The dialler ignored `test` and saved the lead: worth knowing, not a failure.
        return CheckResult(name, True, f"reachable, but the test lead was {result.outcome}")
    return CheckResult(name, True, f"test lead of type {lead_type!r} accepted")


@dataclass(frozen=True)
class BotIdentity:
    """The bot a token belongs to, as `getMe` names it."""

    username: str
    name: str


class BotCheckFailed(Exception):
    """`getMe` did not name a bot; `detail` says why (never with the token)."""

    def __init__(self, detail: str, setting: str) -> None:
        super().__init__(detail)
        self.detail, self.setting = detail, setting


class BotTokenRefused(BotCheckFailed):
    """Telegram does not know the token (401 or 404)."""


class BotApiUnreachable(BotCheckFailed):
    """The Bot API did not answer, or not as the Bot API does."""


async def identify_bot(
    api_url: str,
    token: str,
    *,
    http_client: httpx.AsyncClient | None = None,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> BotIdentity:
    """The bot of `token` by `getMe`; `BotTokenRefused` or `BotApiUnreachable` if not."""
    url = f"{api_url.rstrip('/')}/bot{token}/getMe"
    http = http_client or httpx.AsyncClient()
    try:
        response = await http.get(url, timeout=timeout)
    except httpx.HTTPError as error:
        # The exception's text may hold the URL, and with it the token: name the kind only.
        detail = (
            f"cannot reach the Bot API at {_redact.redact_url(api_url)} ({type(error).__name__})"
        )
        raise BotApiUnreachable(detail, _env("telegram_api_url")) from None
    finally:
        if http_client is None:
            await http.aclose()
    if response.status_code in {401, 404}:
        raise BotTokenRefused("Telegram refused the bot token", _env("telegram_bot_token"))
    answer: Any = None
    with contextlib.suppress(ValueError):
        answer = response.json()
    if response.status_code != 200 or not isinstance(answer, dict) or not answer.get("ok"):
        detail = f"the Bot API answered HTTP {response.status_code} without ok=true"
        raise BotApiUnreachable(detail, _env("telegram_api_url"))
    result = answer.get("result")
    bot = result if isinstance(result, dict) else {}
    username, name = bot.get("username"), bot.get("first_name")
    return BotIdentity(
        username=_mask(username if isinstance(username, str) else "?", token)[:64],
        name=_mask(name if isinstance(name, str) else "", token)[:128],
    )


async def check_telegram(
    api_url: str,
    token: str | None,
    *,
    http_client: httpx.AsyncClient | None = None,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> CheckResult:
    name = "telegram"
    if not token:
        return _skipped(name, "no bot token: Telegram is off", _env("telegram_bot_token"))
    try:
        bot = await identify_bot(api_url, token, http_client=http_client, timeout=timeout)
    except BotCheckFailed as failed:
        return CheckResult(name, False, failed.detail, failed.setting)
    return CheckResult(name, True, f"bot @{bot.username}")


async def check_all(
    settings: Settings, *, http_client: httpx.AsyncClient | None = None
) -> list[CheckResult]:
    """Every service the settings configure, checked at once, in a stable order."""

    def secret(value: Any) -> str | None:
        return None if value is None else str(value.get_secret_value())

    # Read once: a set-up merged meanwhile must not shift the order below.
    every_site = settings.effective_sites
    checks: list[Awaitable[CheckResult]] = [
        check_flexbe(site, http_client=http_client) for site in every_site
    ]
    crm5_url = str(settings.crm5_api_url)
    crm5_public, crm5_secret = (
        secret(settings.crm5_public_token),
        secret(settings.crm5_secret_token),
    )
    checks += [
        check_crm5(crm5_url, crm5_public, crm5_secret, http_client=http_client),
        check_comunik8(
            None if settings.comunik8_api_url is None else str(settings.comunik8_api_url),
            secret(settings.comunik8_api_key),
            settings.comunik8_lead_type,
            http_client=http_client,
        ),
        check_telegram(
            str(settings.telegram_api_url),
            secret(settings.bot_token),
            http_client=http_client,
        ),
    ]
    results, sites = await asyncio.gather(
        asyncio.gather(*checks),
        check_crm5_sites(every_site, crm5_url, crm5_public, crm5_secret, http_client=http_client),
    )
    # Each site's 5CRM ids right after the 5CRM check.
    after = len(every_site) + 1
    return [*results[:after], *sites, *results[after:]]
