"""Finding the site a webhook belongs to, by the secret token in its URL."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime

from config.settings import Settings
from config.sites import EffectiveSite
from storage.clock import utcnow
from webhooks.intake import IntakeSite


class SiteRegistry:
    """The sites of the settings as they are merged now: a site added in the console, or a
    token rotated, is matched from the next webhook on, in every process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._merged: Mapping[str, EffectiveSite] | None = None
        # (token, site, accepted until): a rotated token keeps working for its grace.
        self._entries: list[tuple[bytes, IntakeSite, datetime | None]] = []

    def _current(self) -> list[tuple[bytes, IntakeSite, datetime | None]]:
        merged = self._settings.sites_by_key
        if merged is not self._merged:
            entries: list[tuple[bytes, IntakeSite, datetime | None]] = []
            for site in merged.values():
                intake = IntakeSite(
                    key=site.key, chats=site.chats, region=site.region, rules=site.applies_rules
                )
                entries.append((site.webhook_token.get_secret_value().encode(), intake, None))
                if site.previous_webhook_token is not None:
                    old = site.previous_webhook_token.get_secret_value().encode()
                    entries.append((old, intake, site.previous_token_until))
            self._entries, self._merged = entries, merged
        return self._entries

    def match(self, token: str) -> IntakeSite | None:
        """Compares against every token in constant time, so timing reveals no token."""
        candidate = token.encode("utf-8", "surrogateescape")
        found = None
        for secret, site, until in self._current():
            if hmac.compare_digest(candidate, secret) and (until is None or utcnow() < until):
                found = site
        return found

    def by_key(self, key: str) -> IntakeSite | None:
        return next((site for _, site, _until in self._current() if site.key == key), None)

    def __len__(self) -> int:
        return len(self._settings.sites_by_key)
