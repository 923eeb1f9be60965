"""A site as the TOML (or the LEADRELAY_ variables, or the console) configures it, and as
the service reads it once merged over the LEADRELAY_ settings (`EffectiveSite`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator

from config.chats import ChatAddress
from config.durations import parse_duration
from config.lost_reasons import checked_lost_reasons
from config.mappings import Comunik8Mapping, Crm5Mapping
from config.regions import check_region
from config.rules import Rule
from config.secrets import refusal, weakness
from config.working_time import MAX_WAIT, WorkingHours, parse_clock, parse_holidays, parse_week

_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-.~]+$")
_SITE_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def check_token(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value()
    if not _TOKEN_PATTERN.fullmatch(raw):
        raise ValueError("may only contain letters, digits and - _ . ~ (it is part of a URL)")
    reason = weakness(raw)
    if reason is not None:
        raise ValueError(refusal(reason))
    return value


def checked_hours(value: str | None) -> str | None:
    if value is not None:
        parse_week(value)
    return value


def checked_wait(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value, at_most=MAX_WAIT)
    return value


def checked_clock(value: str | None) -> str | None:
    if value is not None:
        parse_clock(value)
    return value


def checked_dates(value: Any) -> Any:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        parse_holidays(str(part) for part in value)
    return value


class SlaConfig(BaseModel):
    """A site's `[sites.sla]`: how long a new lead may wait untaken, and a taken one
    without action (working time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A reply to the card in its chats; then an alert to each admin. Unset: off.
    remind_after: str | None = None
    escalate_after: str | None = None
    # A taken or assigned lead its owner does nothing on goes back to the pool. Unset: off.
    take_back_after: str | None = None

    _durations = field_validator("remind_after", "escalate_after", "take_back_after")(checked_wait)


@dataclass(frozen=True, slots=True)
class SiteTimers:
    """What a site's timers need: its working time and its delays (None: off)."""

    hours: WorkingHours
    remind_after: timedelta | None
    escalate_after: timedelta | None
    digest_at: time | None
    take_back_after: timedelta | None = None


class SiteConfig(BaseModel):
    """One Flexbe site: where its webhooks come in and where its leads go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="Short name of the site, used in commands and the API.")
    name: str = ""
    webhook_token: SecretStr
    flexbe_api_url: AnyHttpUrl | None = None
    flexbe_api_key: SecretStr | None = None
    # Chat ids, or "id:topic" for a topic of a forum supergroup.
    chats: tuple[ChatAddress, ...] = ()
    # The country whose national numbers this site's visitors type (RU, GB…);
    # none: LEADRELAY_DEFAULT_REGION.
    default_region: str | None = None
    # The hour (0-23, in LEADRELAY_TIMEZONE) of the "next working morning" call; none:
    # LEADRELAY_CALL_MORNING_HOUR.
    call_morning_hour: int | None = Field(default=None, ge=0, le=23)
    # How this site's leads become 5CRM deals and Comunik8 calls ([sites.crm5], [sites.comunik8]).
    crm5: Crm5Mapping = Field(default_factory=Crm5Mapping)
    comunik8: Comunik8Mapping = Field(default_factory=Comunik8Mapping)
    # How far back an earlier lead with the same phone or e-mail makes this site's lead a
    # repeat (`90d`); none: LEADRELAY_REPEAT_WINDOW.
    repeat_window: timedelta | None = None
    # Working time (`Mon-Fri 09:00-19:00, Sat 10:00-16:00`, in LEADRELAY_TIMEZONE) and days
    # off; the SLA timers and the digest time. Each unset here takes the LEADRELAY_ one.
    working_hours: str | None = None
    holidays: tuple[str, ...] | None = None
    sla: SlaConfig | None = None
    digest_at: str | None = None
    # Speed-to-lead rules ([[sites.rules]]): the first that matches a new lead acts on it.
    rules: tuple[Rule, ...] = Field(default=(), max_length=100)
    # The buttons asking why a lead is Cancelled, shown as written; none:
    # LEADRELAY_LOST_REASONS, else the default list in the reader's language.
    lost_reasons: tuple[str, ...] | None = None

    _hours = field_validator("working_hours")(checked_hours)
    _lost_reasons = field_validator("lost_reasons", mode="before")(checked_lost_reasons)
    _digest = field_validator("digest_at")(checked_clock)
    _holidays = field_validator("holidays", mode="before")(checked_dates)

    @field_validator("rules")
    @classmethod
    def _rules_are_its_own(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        for rule in rules:
            if rule.site is not None:
                raise ValueError(
                    f"{rule.label}: `site` is for a top-level [[rules]]; "
                    "a site's own rules are for that site"
                )
        return rules

    @field_validator("chats", mode="before")
    @classmethod
    def _chat_addresses(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(ChatAddress.parse(item) for item in value)
        return value

    @field_validator("key")
    @classmethod
    def _key_is_slug(cls, value: str) -> str:
        if not _SITE_KEY_PATTERN.fullmatch(value):
            raise ValueError("must be 1-32 lowercase letters, digits, - or _")
        return value

    @field_validator("webhook_token")
    @classmethod
    def _token_is_strong(cls, value: SecretStr) -> SecretStr:
        checked = check_token(value)
        assert checked is not None
        return checked

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)

    @field_validator("repeat_window", mode="before")
    @classmethod
    def _repeat_window(cls, value: object) -> timedelta | None:
        return None if value is None else parse_duration(value)

    @property
    def display_name(self) -> str:
        return self.name or self.key


@dataclass(frozen=True, slots=True)
class EffectiveSite:
    """A site as every part of the service reads it: its own settings over the LEADRELAY_
    ones, merged once when the settings load (`Settings.site`)."""

    key: str
    name: str
    webhook_token: SecretStr
    flexbe_api_url: AnyHttpUrl | None
    flexbe_api_key: SecretStr | None
    # Its own chats (else LEADRELAY_TELEGRAM_CHATS), then those connected from Telegram.
    chats: tuple[int, ...]
    # Where its national phone numbers are read, and the hour of its "morning" calls.
    region: str
    morning_hour: int
    # How far back an earlier lead with the same phone or e-mail makes its lead a repeat.
    repeat_window: timedelta
    timers: SiteTimers
    # Its own rules, then the top-level ones naming it, each named, in the order tried.
    rules: tuple[Rule, ...]
    # Whether its new leads get a `rules.apply` job.
    applies_rules: bool
    crm5: Crm5Mapping
    comunik8: Comunik8Mapping
    # The forum topic its cards go to in a chat, for the chats where it has one.
    topics: Mapping[int, int] = field(default_factory=dict)
    # Whether it is kept in the database (added in the console) rather than configured.
    stored: bool = False
    # After a rotation of its webhook token, the old one, still accepted until then.
    previous_webhook_token: SecretStr | None = None
    previous_token_until: datetime | None = None
    # Why a lead is Cancelled, as configured; None: the default list, translated.
    lost_reasons: tuple[str, ...] | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.key

    def topic_in(self, chat_id: int) -> int | None:
        """The `message_thread_id` of its messages in `chat_id` (None: the chat itself)."""
        return self.topics.get(chat_id)

    @property
    def has_flexbe_api(self) -> bool:
        """Whether leadrelay can call its Flexbe API (statuses, edits, reconcile)."""
        return self.flexbe_api_url is not None and self.flexbe_api_key is not None


@dataclass(frozen=True, slots=True)
class StoredSite:
    """A site added in the console, its secrets opened."""

    config: SiteConfig
    enabled: bool = True
    previous_token: SecretStr | None = None
    previous_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChatLink:
    """A chat connected from Telegram to a site or, `site_key` None, to every site."""

    chat_id: int
    site_key: str | None
    topic: int | None = None


@dataclass(frozen=True, slots=True)
class StoredSetup:
    """What the database keeps of the set-up beside the configuration: sites added in the
    console, chats connected from Telegram, groups that became supergroups, admins made by
    a link or in the console, the bot token pasted in the console. `Settings.use_stored`
    merges it; the composition root reads it from storage whenever its version changes."""

    version: int = 0
    sites: tuple[StoredSite, ...] = ()
    links: tuple[ChatLink, ...] = ()
    # A group's old id → the id of the supergroup it became.
    moves: Mapping[int, int] = field(default_factory=dict)
    admins: frozenset[int] = frozenset()
    bot_token: SecretStr | None = None
