"""Finding the site a webhook belongs to, by the secret token in its URL."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from config.settings import EffectiveSite
from webhooks.intake import IntakeSite


class SiteRegistry:
    def __init__(self, sites: Sequence[EffectiveSite]) -> None:
        self._entries = [
            (
                site.webhook_token.get_secret_value().encode(),
                IntakeSite(
                    key=site.key,
                    chats=site.chats,
                    region=site.region,
                    rules=site.applies_rules,
                ),
            )
            for site in sites
        ]

    def match(self, token: str) -> IntakeSite | None:
        """Compares against every site in constant time, so timing reveals no token."""
        candidate = token.encode("utf-8", "surrogateescape")
        found = None
        for secret, site in self._entries:
            if hmac.compare_digest(candidate, secret):
                found = site
        return found

    def by_key(self, key: str) -> IntakeSite | None:
        return next((site for _, site in self._entries if site.key == key), None)

    def __len__(self) -> int:
        return len(self._entries)
