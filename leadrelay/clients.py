"""Clients of the external services, built from the configuration."""

from __future__ import annotations

from integrations.flexbe import FlexbeClient
from leadrelay.settings import SiteConfig


def flexbe_client_for(site: SiteConfig) -> FlexbeClient:
    if site.flexbe_api_url is None or site.flexbe_api_key is None:
        raise LookupError(f"site {site.key} has no Flexbe API URL and key")
    return FlexbeClient(str(site.flexbe_api_url), site.flexbe_api_key.get_secret_value())
