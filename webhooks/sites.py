"""Finding the site a webhook belongs to, by the secret token in its URL."""

from __future__ import annotations

import hmac
from collections.abc import Collection, Sequence

from config.regions import DEFAULT_REGION
from config.settings import SiteConfig
from webhooks.intake import IntakeSite


class SiteRegistry:
    def __init__(
        self,
        sites: Sequence[SiteConfig],
        *,
        default_chats: Sequence[int] = (),
        default_region: str = DEFAULT_REGION,
        with_rules: Collection[str] = (),
    ) -> None:
        """`with_rules`: the keys of the sites whose new leads get their rules applied."""
        self._entries = [
            (
                site.webhook_token.get_secret_value().encode(),
                IntakeSite(
                    key=site.key,
                    chats=tuple(site.chats or default_chats),
                    region=site.default_region or default_region,
                    rules=site.key in with_rules,
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
