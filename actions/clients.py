"""Clients of the external services, built from the configuration.

`sleep` is how a client pauses between its own quick retries; tests pass a simulated one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from config.settings import Settings
from config.sites import EffectiveSite
from integrations.comunik8 import Comunik8Client
from integrations.crm5 import Crm5Client, Manager
from integrations.flexbe import FlexbeClient
from integrations.retries import Sleep


def flexbe_client_for(site: EffectiveSite, *, sleep: Sleep = asyncio.sleep) -> FlexbeClient:
    if site.flexbe_api_url is None or site.flexbe_api_key is None:
        raise LookupError(f"site {site.key} has no Flexbe API URL and key")
    return FlexbeClient(
        str(site.flexbe_api_url), site.flexbe_api_key.get_secret_value(), sleep=sleep
    )


def crm5_client_for(settings: Settings, *, sleep: Sleep = asyncio.sleep) -> Crm5Client:
    if settings.crm5_public_token is None:
        raise LookupError("5CRM is not configured (LEADRELAY_CRM5_PUBLIC_TOKEN)")
    secret = settings.crm5_secret_token
    return Crm5Client(
        settings.crm5_public_token.get_secret_value(),
        secret_token=secret.get_secret_value() if secret else None,
        base_url=str(settings.crm5_api_url),
        sleep=sleep,
    )


def crm5_managers_for(settings: Settings) -> Callable[[], Awaitable[Sequence[Manager]]]:
    """What admins pick from to credit a manager's deals: 5CRM's managers, asked afresh
    (once, no retries: an admin is waiting and can tap again)."""

    async def managers() -> Sequence[Manager]:
        if settings.crm5_public_token is None:
            raise LookupError("5CRM is not configured (LEADRELAY_CRM5_PUBLIC_TOKEN)")
        secret = settings.crm5_secret_token
        client = Crm5Client(
            settings.crm5_public_token.get_secret_value(),
            secret_token=secret.get_secret_value() if secret else None,
            base_url=str(settings.crm5_api_url),
            max_retries=0,
            timeout=10.0,
        )
        async with client:
            return await client.get_managers()

    return managers


def comunik8_client_for(settings: Settings, *, sleep: Sleep = asyncio.sleep) -> Comunik8Client:
    if settings.comunik8_api_url is None or settings.comunik8_api_key is None:
        raise LookupError("Comunik8 is not configured (LEADRELAY_COMUNIK8_API_URL and _KEY)")
    return Comunik8Client(
        str(settings.comunik8_api_url), settings.comunik8_api_key.get_secret_value(), sleep=sleep
    )
