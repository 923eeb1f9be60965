"""Settings built in code, as tests build them: one site, and no `.env` file read (a
developer's own would change what a test sees)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from config.settings import Settings
from config.sites import SiteConfig


def one_site_settings(
    token: str, *, key: str = "okna", site: Mapping[str, Any] | None = None, **values: Any
) -> Settings:
    """Settings with the one site `key`, whose webhooks come with `token`; `site`: the
    site's other fields, `values`: the other settings."""
    configured = SiteConfig(key=key, webhook_token=SecretStr(token), **dict(site or {}))
    return Settings(_env_file=None, sites=(configured,), **values)
