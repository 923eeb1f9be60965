"""What the bot needs to know of the configuration, handed to handlers as `config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from zoneinfo import ZoneInfo

from config.regions import DEFAULT_REGION
from config.rules import Rule
from config.settings import DEFAULT_REPEAT_WINDOW, Settings
from config.sites import EffectiveSite, SiteTimers
from config.working_time import WorkingHours


@dataclass(frozen=True, slots=True)
class BotConfig:
    # The settings, read live: the sites and admins they merge change with the stored set-up.
    live: Settings
    zone: tzinfo
    group_language: str = "en"
    can_deal: bool = False
    can_call: bool = False
    # What a lead of a site no longer configured is read with.
    default_region: str = DEFAULT_REGION
    default_morning_hour: int = 9
    default_repeat_window: timedelta = DEFAULT_REPEAT_WINDOW
    # How many messages a minute a group, and a private chat, may receive (the worker's
    # Telegram limits): more cards than this waiting for one chat become a summary.
    group_per_minute: int = 20
    private_per_minute: int = 60
    # Where the admin console is (`/admin` sends a login link to it); None while it is off
    # (no LEADRELAY_ADMIN_TOKEN) or its address unknown (no LEADRELAY_PUBLIC_URL).
    console_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> BotConfig:
        return cls(
            live=settings,
            zone=ZoneInfo(settings.timezone),
            group_language=settings.telegram_language,
            can_deal=settings.crm5_public_token is not None,
            can_call=settings.comunik8_api_url is not None
            and settings.comunik8_api_key is not None,
            default_region=settings.default_region,
            default_morning_hour=settings.call_morning_hour,
            default_repeat_window=settings.repeat_window,
            group_per_minute=settings.telegram_group_per_minute,
            private_per_minute=settings.telegram_chat_per_second * 60,
            console_url=(
                f"{str(settings.public_url).rstrip('/')}/admin"
                if settings.public_url is not None and settings.admin_token is not None
                else None
            ),
        )

    @property
    def sites(self) -> Mapping[str, EffectiveSite]:
        """Each site as the settings merge it now: its chats, region, timers, rules..."""
        return self.live.sites_by_key

    @property
    def admins(self) -> tuple[int, ...]:
        """Who is told what fails: the configured admins and those kept in the database."""
        return self.live.admins

    @property
    def configured_admins(self) -> frozenset[int]:
        """The admins of LEADRELAY_TELEGRAM_ADMINS: admins there, and only there, are removed."""
        return frozenset(self.live.telegram_admins)

    @property
    def site_names(self) -> dict[str, str]:
        return {key: site.display_name for key, site in self.sites.items()}

    def configured_name(self, site_key: str) -> str | None:
        """The name the configuration gives; None: the site is named by its leads."""
        site = self.sites.get(site_key)
        return site.name if site is not None and site.name else None

    @property
    def flexbe_sites(self) -> frozenset[str]:
        """The sites with a Flexbe API key: only their status buttons can work."""
        return frozenset(key for key, site in self.sites.items() if site.has_flexbe_api)

    @property
    def site_chats(self) -> dict[str, frozenset[int]]:
        """The chats that get each site's cards: where its leads may be shown (bot.scope)."""
        return {key: frozenset(site.chats) for key, site in self.sites.items()}

    def timers_of(self, site_key: str) -> SiteTimers:
        """A site's timers; a site not configured (any more) is always working, no timers."""
        site = self.sites.get(site_key)
        if site is not None:
            return site.timers
        return SiteTimers(
            hours=WorkingHours(zone=ZoneInfo(str(self.zone))),
            remind_after=None,
            escalate_after=None,
            digest_at=None,
        )

    def rules_of(self, site_key: str) -> tuple[Rule, ...]:
        """A site's speed-to-lead rules, in the order they are tried."""
        site = self.sites.get(site_key)
        return site.rules if site is not None else ()

    def region(self, site_key: str) -> str:
        site = self.sites.get(site_key)
        return site.region if site is not None else self.default_region

    def repeat_window(self, site_key: str) -> timedelta:
        site = self.sites.get(site_key)
        return site.repeat_window if site is not None else self.default_repeat_window

    def per_minute(self, chat_id: int) -> int:
        """How many messages `chat_id` can receive in a minute (groups have negative ids)."""
        return self.group_per_minute if chat_id < 0 else self.private_per_minute

    def morning_hour(self, site_key: str) -> int:
        site = self.sites.get(site_key)
        return site.morning_hour if site is not None else self.default_morning_hour
