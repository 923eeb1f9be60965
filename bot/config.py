"""What the bot needs to know of the configuration, handed to handlers as `config`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from zoneinfo import ZoneInfo

from config.regions import DEFAULT_REGION
from config.rules import Rule
from config.settings import DEFAULT_REPEAT_WINDOW, Settings, SiteTimers
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
    # The hour of each site's "next working morning" calls, and for sites not listed.
    morning_hours: Mapping[str, int] = field(default_factory=dict)
    default_morning_hour: int = 9
    # Names the configuration gives; a site without one is named by its leads (`site_title`).
    configured_names: Mapping[str, str] = field(default_factory=dict)
    # How far back an earlier lead makes a site's lead a repeat, and for sites not listed.
    repeat_windows: Mapping[str, timedelta] = field(default_factory=dict)
    default_repeat_window: timedelta = DEFAULT_REPEAT_WINDOW
    # How many messages a minute a group, and a private chat, may receive (the worker's
    # Telegram limits): more cards than this waiting for one chat become a summary.
    group_per_minute: int = 20
    private_per_minute: int = 60
    # Where the admin console is (`/admin` sends a login link to it); None while it is off
    # (no LEADRELAY_ADMIN_TOKEN) or its address unknown (no LEADRELAY_PUBLIC_URL).
    console_url: str | None = None
    # Each site's working time, SLA and digest time.
    timers: Mapping[str, SiteTimers] = field(default_factory=dict)
    # Each site's speed-to-lead rules, in the order they are tried.
    rules: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict)

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
            repeat_windows={
                site.key: settings.repeat_window_of(site.key) for site in settings.sites
            },
            default_repeat_window=settings.repeat_window,
            group_per_minute=settings.telegram_group_per_minute,
            private_per_minute=settings.telegram_chat_per_second * 60,
            console_url=(
                f"{str(settings.public_url).rstrip('/')}/admin"
                if settings.public_url is not None and settings.admin_token is not None
                else None
            ),
            morning_hours={site.key: settings.morning_hour(site.key) for site in settings.sites},
            default_morning_hour=settings.call_morning_hour,
            timers={site.key: settings.timers(site.key) for site in settings.sites},
            rules={site.key: settings.rules_of(site.key) for site in settings.sites},
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

    def repeat_window(self, site_key: str) -> timedelta:
        return self.repeat_windows.get(site_key, self.default_repeat_window)

    def per_minute(self, chat_id: int) -> int:
        """How many messages `chat_id` can receive in a minute (groups have negative ids)."""
        return self.group_per_minute if chat_id < 0 else self.private_per_minute

    def morning_hour(self, site_key: str) -> int:
        return self.morning_hours.get(site_key, self.default_morning_hour)
