"""What the bot needs to know of the configuration, handed to handlers as `config`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from zoneinfo import ZoneInfo

from config.regions import DEFAULT_REGION
from config.settings import Settings, SiteTimers
from config.working_time import WorkingHours


@dataclass(frozen=True, slots=True)
class BotConfig:
    site_names: Mapping[str, str]
    zone: tzinfo
    group_language: str = "en"
    admins: Sequence[int] = ()
    can_deal: bool = False
    can_call: bool = False
    # Sites with a Flexbe API key: only their status buttons can work.
    flexbe_sites: frozenset[str] = field(default_factory=frozenset)
    # The chats that get each site's cards: where its leads may be shown (bot.scope).
    site_chats: Mapping[str, frozenset[int]] = field(default_factory=dict)
    # The region each site's national phone numbers are read in, and for sites not listed.
    regions: Mapping[str, str] = field(default_factory=dict)
    default_region: str = DEFAULT_REGION
    # Names the configuration gives; a site without one is named by its leads (`site_title`).
    configured_names: Mapping[str, str] = field(default_factory=dict)
    # Each site's working time, SLA and digest time.
    timers: Mapping[str, SiteTimers] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> BotConfig:
        return cls(
            site_names={site.key: site.display_name for site in settings.sites},
            configured_names={site.key: site.name for site in settings.sites if site.name},
            zone=ZoneInfo(settings.timezone),
            group_language=settings.telegram_language,
            admins=tuple(settings.telegram_admins),
            can_deal=settings.crm5_public_token is not None,
            can_call=settings.comunik8_api_url is not None
            and settings.comunik8_api_key is not None,
            flexbe_sites=frozenset(
                site.key
                for site in settings.sites
                if site.flexbe_api_url is not None and site.flexbe_api_key is not None
            ),
            site_chats={
                site.key: frozenset(site.chats or settings.telegram_chats)
                for site in settings.sites
            },
            regions={site.key: settings.region(site.key) for site in settings.sites},
            default_region=settings.default_region,
            timers={site.key: settings.timers(site.key) for site in settings.sites},
        )

    def timers_of(self, site_key: str) -> SiteTimers:
        """A site's timers; a site not configured (any more) is always working, no timers."""
        found = self.timers.get(site_key)
        if found is not None:
            return found
        return SiteTimers(
            hours=WorkingHours(zone=ZoneInfo(str(self.zone))),
            remind_after=None,
            escalate_after=None,
            digest_at=None,
        )

    def region(self, site_key: str) -> str:
        return self.regions.get(site_key, self.default_region)
