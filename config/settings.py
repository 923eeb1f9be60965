"""Configuration: `LEADRELAY_*` environment variables and `.env`, plus an optional TOML file.

Every package may read this module; like all of `config`, it imports nothing of the project.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.chats import ChatAddress
from config.durations import parse_duration
from config.lost_reasons import checked_lost_reasons
from config.regions import DEFAULT_REGION, check_region
from config.rules import Rule, named_in_order
from config.sites import (
    ChatLink,
    EffectiveSite,
    SiteConfig,
    SiteTimers,
    SlaConfig,
    StoredSetup,
    check_token,
    checked_clock,
    checked_dates,
    checked_hours,
    checked_wait,
)
from config.telegram_webhook import derive_webhook_secrets
from config.working_time import (
    MAX_WAIT,
    WorkingHours,
    parse_clock,
)

ENV_PREFIX = "LEADRELAY_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./leadrelay.db"
DEFAULT_SITE_KEY = "default"
# How far back a lead's phone or e-mail is looked for among earlier leads (a repeat).
DEFAULT_REPEAT_WINDOW = timedelta(days=90)
# How late a repeat can still come from outside, which the retention must outlast.
# Telegram keeps an undelivered update for 24 hours. Flexbe documents no redelivery
# policy: a week covers a queue stuck on its side and a resend from its admin.
TELEGRAM_REDELIVERY_HOURS = 24
FLEXBE_REDELIVERY_HOURS = 7 * 24


class ConfigError(Exception):
    """Configuration that cannot run; the message names the setting to fix."""


def _split_ids(value: Any) -> Any:
    """Accept `1,2, 3`, a single id, or a list, as environment variables hold strings."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


IdList = Annotated[list[int], NoDecode]
DateList = Annotated[list[str], NoDecode]
ReasonList = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Every setting of the service; see `.env.example` for each one's meaning."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # A copied `.env.example` leaves settings blank: blank means "not set".
        env_ignore_empty=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    config: Path | None = None
    public_url: AnyHttpUrl | None = None
    log_level: str = "INFO"

    webhook_token: SecretStr | None = None
    flexbe_api_url: AnyHttpUrl | None = None
    flexbe_api_key: SecretStr | None = None
    admin_token: SecretStr | None = None
    # Bearer token that /metrics asks for; /metrics is open while this is unset.
    metrics_token: SecretStr | None = None

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    telegram_admins: IdList = Field(default_factory=list)
    telegram_chats: IdList = Field(default_factory=list)
    telegram_language: str = "en"
    timezone: str = "UTC"
    # The country whose national numbers visitors type, for sites that name none.
    default_region: str = DEFAULT_REGION
    # The hour (0-23) at which a call asked for "in the morning" rings, for sites that name
    # none: the next working day's (Monday to Friday), or today's if the hour is still to come.
    call_morning_hour: int = Field(default=9, ge=0, le=23)
    # How long a worker holds a job before another may take it over (a dead worker's jobs).
    job_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    # How long a worker may miss its heartbeats (one every quarter of this) before another
    # takes its jobs over: how soon a killed worker's jobs move on.
    job_liveness_seconds: float = Field(default=10.0, ge=2, le=3600)
    job_concurrency: int = Field(default=32, ge=1, le=1000)
    # The pace the worker keeps, whatever the number of processes (Telegram's and
    # Flexbe's documented limits by default; lower them if you share the bot or the key).
    telegram_chat_per_second: int = Field(default=1, ge=1, le=1000)
    telegram_group_per_minute: int = Field(default=20, ge=1, le=60_000)
    telegram_per_second: int = Field(default=25, ge=1, le=10_000)
    flexbe_per_minute: int = Field(default=100, ge=1, le=60_000)
    reconcile_interval_minutes: int = Field(default=5, ge=1, le=1440)
    reconcile_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    reconcile_flood_threshold: int = Field(default=10, ge=1, le=1000)
    # Finished jobs and received events older than this are deleted (actions.retention).
    retention_days: int = Field(default=30, ge=1, le=3650)
    # Working time and timers of the single env site, and of TOML sites that set none.
    working_hours: str | None = None
    holidays: DateList = Field(default_factory=list)
    sla_remind_after: str | None = None
    sla_escalate_after: str | None = None
    sla_take_back_after: str | None = None
    digest_at: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Seals the secrets kept in the database (console sites' keys, the bot token).
    secret_key: SecretStr | None = None
    # An earlier lead with the same phone or e-mail within this makes a lead a repeat.
    repeat_window: timedelta = DEFAULT_REPEAT_WINDOW
    # The env site's reasons for Cancelled (`;` between them), and of sites that set none.
    lost_reasons: ReasonList | None = None

    crm5_api_url: AnyHttpUrl = AnyHttpUrl("https://api.5crm.ru")
    crm5_public_token: SecretStr | None = None
    crm5_secret_token: SecretStr | None = None

    comunik8_api_url: AnyHttpUrl | None = None
    comunik8_api_key: SecretStr | None = None
    comunik8_lead_type: str | None = None

    sites: tuple[SiteConfig, ...] = ()
    # Top-level [[rules]] of the TOML, each naming its `site` (e.g. the env site, `default`);
    # they come after that site's own [[sites.rules]].
    rules: tuple[Rule, ...] = ()
    # Each site merged over the settings above, by key (`site`), built once at load.
    _effective: dict[str, EffectiveSite] = PrivateAttr(default_factory=dict)
    # What the database keeps beside the configuration (`use_stored`).
    _stored: StoredSetup = PrivateAttr(default_factory=StoredSetup)

    @field_validator("telegram_admins", "telegram_chats", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        return _split_ids(value)

    @field_validator("repeat_window", mode="before")
    @classmethod
    def _repeat_window(cls, value: object) -> timedelta:
        return parse_duration(value)

    _hours = field_validator("working_hours")(checked_hours)
    _durations = field_validator("sla_remind_after", "sla_escalate_after", "sla_take_back_after")(
        checked_wait
    )
    _digest = field_validator("digest_at")(checked_clock)
    _holidays = field_validator("holidays", mode="before")(checked_dates)
    _lost_reasons = field_validator("lost_reasons", mode="before")(checked_lost_reasons)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {value.split('://', 1)[0]}://)"
            )
        return value

    @field_validator(
        "webhook_token", "admin_token", "metrics_token", "secret_key", "telegram_webhook_secret"
    )
    @classmethod
    def _strong_token(cls, value: SecretStr | None) -> SecretStr | None:
        return check_token(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value[:40]!r}, e.g. Europe/Moscow") from None
        return value

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("telegram_language")
    @classmethod
    def _spoken_language(cls, value: str) -> str:
        if value not in {"en", "ru"}:
            raise ValueError("must be en or ru")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @model_validator(mode="after")
    def _assemble_sites(self) -> Settings:
        if self.sites:
            _check_rule_sites(self.rules, self.sites)
            return self
        document = _read_file(self.config) if self.config else {}
        sites = _sites_from(document, self.config) if self.config else []
        if self.webhook_token is not None:
            if any(site.key == DEFAULT_SITE_KEY for site in sites):
                raise ValueError(
                    f"LEADRELAY_WEBHOOK_TOKEN defines site '{DEFAULT_SITE_KEY}', "
                    "which the config file defines too"
                )
            sites.append(
                SiteConfig(
                    key=DEFAULT_SITE_KEY,
                    webhook_token=self.webhook_token,
                    flexbe_api_url=self.flexbe_api_url,
                    flexbe_api_key=self.flexbe_api_key,
                    chats=tuple(ChatAddress(chat) for chat in self.telegram_chats),
                )
            )
        _check_unique_sites(sites)
        self.sites = tuple(sites)
        if self.config and not self.rules:
            self.rules = _rules_from(document, self.config)
        _check_rule_sites(self.rules, self.sites)
        return self

    @model_validator(mode="after")
    def _merge_sites(self) -> Settings:
        self._effective = self._merged_sites()
        return self

    @model_validator(mode="after")
    def _retention_outlasts_repeats(self) -> Settings:
        """A dedupe key pruned while its repeat can still arrive would let the repeat act."""
        look_backs = {
            f"{ENV_PREFIX}RECONCILE_WINDOW_HOURS": self.reconcile_window_hours,
            "Flexbe's webhook redelivery": FLEXBE_REDELIVERY_HOURS,
            "Telegram's update redelivery": TELEGRAM_REDELIVERY_HOURS,
        }
        name, hours = max(look_backs.items(), key=lambda item: item[1])
        if self.retention_days * 24 < hours:
            raise ValueError(
                f"{ENV_PREFIX}RETENTION_DAYS: {self.retention_days} days is shorter than "
                f"{name} ({hours} hours); a repeat arriving later would no longer be "
                f"recognised. Set it to at least {-(-hours // 24)}."
            )
        return self

    @property
    def telegram_enabled(self) -> bool:
        return self.bot_token is not None

    @property
    def bot_token(self) -> SecretStr | None:
        """LEADRELAY_TELEGRAM_BOT_TOKEN, else the token pasted in the console."""
        return self.telegram_bot_token or self._stored.bot_token

    @property
    def admins(self) -> tuple[int, ...]:
        """LEADRELAY_TELEGRAM_ADMINS, then the admins kept in the database."""
        return tuple(dict.fromkeys([*self.telegram_admins, *sorted(self._stored.admins)]))

    @property
    def stored(self) -> StoredSetup:
        return self._stored

    def chat_now(self, chat_id: int) -> int:
        """Where chat `chat_id` is now: a group may have become a supergroup."""
        return _moved(chat_id, self._stored.moves)

    def follow_move(self, old_id: int, new_id: int) -> None:
        """Group `old_id` just became supergroup `new_id` (the caller stored the move):
        this process follows it at once, before its set-up watch reads it back."""
        if old_id == new_id or self._stored.moves.get(old_id) == new_id:
            return
        moves = {**self._stored.moves, old_id: new_id}
        self.use_stored(replace(self._stored, moves=moves))

    @property
    def effective_sites(self) -> tuple[EffectiveSite, ...]:
        """Every site as the service reads it: the configured ones in their order, then the
        enabled ones of the console."""
        return tuple(self._effective.values())

    @property
    def sites_by_key(self) -> Mapping[str, EffectiveSite]:
        """The effective sites by key, as merged now: a later merge replaces the mapping,
        never changes it, so a reader holding it sees one consistent set."""
        return self._effective

    def site(self, key: str) -> EffectiveSite:
        """The site `key`, its own settings over the LEADRELAY_ ones; KeyError if unknown."""
        return self._effective[key]

    def use_stored(self, stored: StoredSetup) -> None:
        """Merge what the database keeps beside the configuration, replacing what was merged
        before. The sites are swapped whole: a reader sees the old set or the new one."""
        self._stored = stored
        self._effective = self._merged_sites()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        # A copy with other settings merges its sites again over them.
        copied = super().model_copy(update=update, deep=deep)
        copied._effective = copied._merged_sites()
        return copied

    def _merged_sites(self) -> dict[str, EffectiveSite]:
        merged = {site.key: self._merged(site) for site in self.sites}
        for stored in self._stored.sites:
            # A console site never takes a configured one's key (the console refuses it).
            if stored.enabled and stored.config.key not in merged:
                merged[stored.config.key] = self._merged(
                    stored.config,
                    stored=True,
                    previous_token=stored.previous_token,
                    previous_until=stored.previous_until,
                )
        return merged

    def _chats_of(self, site: SiteConfig) -> tuple[tuple[int, ...], dict[int, int]]:
        """Its chats and their topics: configured ones (moved where a group became a
        supergroup), then those connected to it or to every site from Telegram."""
        moves = self._stored.moves
        configured = site.chats or tuple(ChatAddress.parse(chat) for chat in self.telegram_chats)
        links: list[ChatAddress | ChatLink] = [*configured]
        links += [link for link in self._stored.links if link.site_key in (site.key, None)]
        chats: dict[int, None] = {}
        topics: dict[int, int] = {}
        for link in links:
            chat_id = _moved(link.chat_id, moves)
            chats[chat_id] = None
            if link.topic is not None:
                topics[chat_id] = link.topic
        return tuple(chats), topics

    def _merged(
        self,
        site: SiteConfig,
        *,
        stored: bool = False,
        previous_token: SecretStr | None = None,
        previous_until: datetime | None = None,
    ) -> EffectiveSite:
        sla = site.sla or SlaConfig()
        remind = sla.remind_after or self.sla_remind_after
        escalate = sla.escalate_after or self.sla_escalate_after
        take_back = sla.take_back_after or self.sla_take_back_after
        digest = site.digest_at or self.digest_at
        holidays = self.holidays if site.holidays is None else site.holidays
        rules = named_in_order((*site.rules, *(r for r in self.rules if r.site == site.key)))
        chats, topics = self._chats_of(site)
        return EffectiveSite(
            key=site.key,
            name=site.name,
            webhook_token=site.webhook_token,
            flexbe_api_url=site.flexbe_api_url,
            flexbe_api_key=site.flexbe_api_key,
            chats=chats,
            topics=topics,
            region=site.default_region or self.default_region,
            morning_hour=(
                self.call_morning_hour if site.call_morning_hour is None else site.call_morning_hour
            ),
            repeat_window=site.repeat_window or self.repeat_window,
            timers=SiteTimers(
                hours=WorkingHours.parse(
                    site.working_hours or self.working_hours, zone=self.timezone, holidays=holidays
                ),
                remind_after=parse_duration(remind, at_most=MAX_WAIT) if remind else None,
                escalate_after=parse_duration(escalate, at_most=MAX_WAIT) if escalate else None,
                digest_at=parse_clock(digest) if digest else None,
                take_back_after=(
                    parse_duration(take_back, at_most=MAX_WAIT) if take_back else None
                ),
            ),
            rules=rules,
            # Rules run in the worker with the bot: without Telegram none apply.
            applies_rules=self.telegram_enabled and bool(rules),
            crm5=site.crm5,
            comunik8=site.comunik8,
            stored=stored,
            previous_webhook_token=previous_token,
            previous_token_until=previous_until,
            lost_reasons=site.lost_reasons or self.lost_reasons,
        )

    def secrets(self) -> list[str]:
        """Every configured secret value, for masking and for the tests that hunt leaks:
        every `SecretStr` among the settings and their sites, found by type, so that a new
        secret setting is masked without being listed here."""
        found = {*_secret_values(self), *_secret_values(self._stored)}
        if self.telegram_webhook_secret is not None:
            derived = derive_webhook_secrets(self.telegram_webhook_secret.get_secret_value())
            found |= {derived.path, derived.header}
        return sorted(found)


def _moved(chat_id: int, moves: Mapping[int, int]) -> int:
    """Where a chat is now: a group may have become a supergroup (once; guarded anyway)."""
    for _ in range(len(moves)):
        if chat_id not in moves:
            break
        chat_id = moves[chat_id]
    return chat_id


def _secret_values(value: object) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))
    elif is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            yield from _secret_values(getattr(value, item.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _secret_values(item)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"LEADRELAY_CONFIG: file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"LEADRELAY_CONFIG: cannot read {path}: {exc}") from exc


def _sites_from(document: dict[str, Any], path: Path) -> list[SiteConfig]:
    return [
        _validated(SiteConfig, entry, f"sites[{index}]", path)
        for index, entry in enumerate(_tables(document, "sites", path))
    ]


def _rules_from(document: dict[str, Any], path: Path) -> tuple[Rule, ...]:
    rules = []
    for index, entry in enumerate(_tables(document, "rules", path)):
        rule = _validated(Rule, entry, f"rules[{index}]", path)
        if rule.site is None:
            raise ValueError(
                f"LEADRELAY_CONFIG: rules[{index}] in {path}: {rule.label}: a top-level "
                "rule names its `site` (or goes under its [[sites]] as [[sites.rules]])"
            )
        rules.append(rule)
    return tuple(rules)


def _tables(document: dict[str, Any], name: str, path: Path) -> list[Any]:
    entries = document.get(name, [])
    if not isinstance(entries, list):
        raise ValueError(f"LEADRELAY_CONFIG: [[{name}]] in {path} must be an array of tables")
    return entries


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], entry: Any, place: str, path: Path) -> M:
    try:
        return model.model_validate(entry)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: "
            + str(err["msg"]).removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ValueError(f"LEADRELAY_CONFIG: {place} in {path}: {problems}") from None


def _check_rule_sites(rules: Sequence[Rule], sites: Sequence[SiteConfig]) -> None:
    """A top-level rule names a site that exists (the env site is `default`)."""
    keys = [site.key for site in sites]
    for index, rule in enumerate(rules):
        if rule.site not in keys:
            raise ValueError(
                f"LEADRELAY_CONFIG: rules[{index}] ({rule.label}): unknown site "
                f"{str(rule.site)[:40]!r} (the sites are: {', '.join(keys) or 'none'})"
            )


def _check_unique_sites(sites: list[SiteConfig]) -> None:
    keys = [site.key for site in sites]
    tokens = [site.webhook_token.get_secret_value() for site in sites]
    if len(set(keys)) != len(keys):
        raise ValueError("two sites have the same key")
    if len(set(tokens)) != len(tokens):
        raise ValueError("two sites share a webhook token")


def describe_validation_error(error: ValidationError) -> str:
    """Turn a settings error into lines that name the environment variable to fix."""
    lines = []
    for err in error.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        setting = f"{ENV_PREFIX}{field.upper()}" if field else "configuration"
        message = str(err["msg"]).removeprefix("Value error, ")
        if message.startswith(ENV_PREFIX):
            lines.append(message)
        else:
            lines.append(f"{setting}: {message}")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, raising `ConfigError` with a message that names the bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
