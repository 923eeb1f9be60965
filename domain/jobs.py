"""The job catalogue: every kind of job, its payload, its queue and its dedupe keys.

A job is stored as strings (kind, JSON payload, dedupe key, queue); this module is the
one place that spells them. Whoever enqueues a job builds its payload here and `dump`s
it; whoever runs one `parse`s the stored dict back, which checks it. The strings must
stay as they are: existing databases hold them, and a changed dedupe key would let a
repeat through.

Retention: each kind says whether its done jobs may be pruned (`pruned_after_retention`;
why each is safe or not is argued in `actions.retention`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable


class PayloadError(ValueError):
    """A stored job payload lacks a field or holds one of the wrong type."""


class Payload(Protocol):
    def dump(self) -> dict[str, Any]: ...


@runtime_checkable
class Queued(Protocol):
    """A payload whose jobs run in order on one queue (a chat's messages)."""

    @property
    def queue(self) -> str: ...


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True, slots=True)
class JobKind(Generic[P]):
    """`name` is the stored `job.kind`; `parse` reads a stored payload back."""

    name: str
    parse: Callable[[Mapping[str, Any]], P]
    pruned_after_retention: bool


# Queues ---------------------------------------------------------------------------------


TELEGRAM_QUEUE_PREFIX = "tg:"


def telegram_queue(chat_id: int) -> str:
    """One chat's messages go out in order: one queue per chat."""
    return f"{TELEGRAM_QUEUE_PREFIX}{chat_id}"


# Reading stored payloads ----------------------------------------------------------------


def _int(raw: Mapping[str, Any], key: str) -> int:
    if key not in raw:
        raise PayloadError(f"job payload has no {key!r}")
    return _as_int(raw[key], key)


def _as_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PayloadError(f"job payload's {key!r} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise PayloadError(f"job payload's {key!r} is not an integer") from None


def _optional_int(raw: Mapping[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return None if value is None else _as_int(value, key)


def _str(raw: Mapping[str, Any], key: str, default: str | None = None) -> str:
    if key not in raw or raw[key] is None:
        if default is None:
            raise PayloadError(f"job payload has no {key!r}")
        return default
    value = raw[key]
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PayloadError(f"job payload's {key!r} is not a string")
    return str(value)


# Payloads -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardPayload:
    """`notify`: post or edit one lead's card in one chat. `reason`: new, updated,
    repost, or what intake saw (paid…)."""

    lead_id: int
    chat_id: int
    reason: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> CardPayload:
        return cls(_int(raw, "lead_id"), _int(raw, "chat_id"), _str(raw, "reason"))

    def dump(self) -> dict[str, Any]:
        return {"lead_id": self.lead_id, "chat_id": self.chat_id, "reason": self.reason}

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


@dataclass(frozen=True, slots=True)
class ActionPayload:
    """A card button's external call. `action` is the action log's name of it
    (`status:2`, `deal`, `call:600`, `uncall`); `action_id` its row there, added once the
    job exists. `status` is for a Flexbe status change, `delay` (seconds) for a call."""

    lead_id: int
    site: str = ""
    actor: int | None = None
    action: str = ""
    status: int | None = None
    delay: int | None = None
    action_id: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ActionPayload:
        return cls(
            lead_id=_int(raw, "lead_id"),
            site=_str(raw, "site", ""),
            actor=_optional_int(raw, "actor"),
            action=_str(raw, "action", ""),
            status=_optional_int(raw, "status"),
            delay=_optional_int(raw, "delay"),
            action_id=_optional_int(raw, "action_id"),
        )

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lead_id": self.lead_id, "site": self.site, "actor": self.actor}
        if self.status is not None:
            out["status"] = self.status
        if self.delay is not None:
            out["delay"] = self.delay
        out["action"] = self.action
        if self.action_id is not None:
            out["action_id"] = self.action_id
        return out

    def new_status(self) -> int:
        if self.status is None:
            raise PayloadError("job payload has no 'status'")
        return self.status


@dataclass(frozen=True, slots=True)
class UpdatePayload:
    """`telegram.update`: handle one stored Telegram update."""

    update_id: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> UpdatePayload:
        return cls(_int(raw, "update_id"))

    def dump(self) -> dict[str, Any]:
        return {"update_id": self.update_id}


@dataclass(frozen=True, slots=True)
class BlockedAlertPayload:
    """`telegram.alert`: tell admin `chat_id` that `blocked_chat` refuses messages."""

    chat_id: int
    blocked_chat: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> BlockedAlertPayload:
        return cls(_int(raw, "chat_id"), _int(raw, "blocked_chat"))

    def dump(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "blocked_chat": self.blocked_chat}

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


@dataclass(frozen=True, slots=True)
class ActionFailedPayload:
    """`telegram.action_failed`: tell admin `chat_id` that an action failed for good.
    Ids, names of things and codes only: never a client's contacts."""

    chat_id: int
    lead_id: int
    num: int | None
    flexbe_id: int | None
    site: str
    action: str
    code: str
    job_id: int | None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ActionFailedPayload:
        return cls(
            chat_id=_int(raw, "chat_id"),
            lead_id=_int(raw, "lead_id"),
            num=_optional_int(raw, "num"),
            flexbe_id=_optional_int(raw, "flexbe_id"),
            site=_str(raw, "site", ""),
            action=_str(raw, "action", ""),
            code=_str(raw, "code", ""),
            job_id=_optional_int(raw, "job_id"),
        )

    def dump(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "num": self.num,
            "flexbe_id": self.flexbe_id,
            "site": self.site,
            "action": self.action,
            "code": self.code,
            "job_id": self.job_id,
            "chat_id": self.chat_id,
        }

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


@dataclass(frozen=True, slots=True)
class RecoveredPayload:
    """`telegram.recovered`: one summary instead of a card per recovered lead."""

    chat_id: int
    site: str
    lead_ids: tuple[int, ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> RecoveredPayload:
        ids = raw.get("lead_ids")
        if not isinstance(ids, list | tuple):
            raise PayloadError("job payload's 'lead_ids' is not a list")
        return cls(
            _int(raw, "chat_id"), _str(raw, "site"), tuple(_as_int(i, "lead_ids") for i in ids)
        )

    def dump(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "site": self.site, "lead_ids": list(self.lead_ids)}

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


@dataclass(frozen=True, slots=True)
class SyncReportPayload:
    """`telegram.sync_report`: the counts of a `/sync`, back to the chat that asked."""

    chat_id: int
    site: str
    new: int
    updated: int
    unchanged: int
    failed: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> SyncReportPayload:
        counts = (_int(raw, key) for key in ("new", "updated", "unchanged", "failed"))
        return cls(_int(raw, "chat_id"), _str(raw, "site"), *counts)

    def dump(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "site": self.site,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


@dataclass(frozen=True, slots=True)
class ChartPayload:
    """`telegram.stats_chart`: draw `/stats`' chart of [since, until) (Unix seconds) for
    `sites` (none: every site) and send it to `chat_id`, in `language`, titled `title`."""

    chat_id: int
    since: int
    until: int
    sites: tuple[str, ...]
    language: str
    title: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ChartPayload:
        sites = raw.get("sites")
        if not isinstance(sites, list | tuple) or not all(isinstance(s, str) for s in sites):
            raise PayloadError("job payload's 'sites' is not a list of strings")
        return cls(
            chat_id=_int(raw, "chat_id"),
            since=_int(raw, "since"),
            until=_int(raw, "until"),
            sites=tuple(sites),
            language=_str(raw, "language", "en"),
            title=_str(raw, "title", ""),
        )

    def dump(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "since": self.since,
            "until": self.until,
            "sites": list(self.sites),
            "language": self.language,
            "title": self.title,
        }

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


@dataclass(frozen=True, slots=True)
class ReconcilePayload:
    """`flexbe.reconcile`: compare one site with Flexbe; `report_to` a chat asking."""

    site: str
    report_to: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ReconcilePayload:
        return cls(_str(raw, "site"), _optional_int(raw, "report_to"))

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"site": self.site}
        if self.report_to is not None:
            out["report_to"] = self.report_to
        return out


@dataclass(frozen=True, slots=True)
class NoPayload:
    """`retention.prune`: nothing to say."""

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> NoPayload:  # noqa: ARG003
        return cls()

    def dump(self) -> dict[str, Any]:
        return {}


# The kinds ------------------------------------------------------------------------------

NOTIFY = JobKind("notify", CardPayload.parse, pruned_after_retention=True)
TELEGRAM_UPDATE = JobKind("telegram.update", UpdatePayload.parse, pruned_after_retention=True)
BLOCKED_ALERT = JobKind("telegram.alert", BlockedAlertPayload.parse, pruned_after_retention=True)
ACTION_FAILED = JobKind(
    "telegram.action_failed", ActionFailedPayload.parse, pruned_after_retention=True
)
RECOVERED = JobKind("telegram.recovered", RecoveredPayload.parse, pruned_after_retention=True)
SYNC_REPORT = JobKind("telegram.sync_report", SyncReportPayload.parse, pruned_after_retention=True)
STATS_CHART = JobKind("telegram.stats_chart", ChartPayload.parse, pruned_after_retention=True)
RECONCILE = JobKind("flexbe.reconcile", ReconcilePayload.parse, pruned_after_retention=True)
PRUNE = JobKind("retention.prune", NoPayload.parse, pruned_after_retention=True)
# The card buttons' calls out: their keys guard against a second deal or call for ever.
FLEXBE_STATUS = JobKind("flexbe.status", ActionPayload.parse, pruned_after_retention=False)
CRM5_DEAL = JobKind("crm5.deal", ActionPayload.parse, pruned_after_retention=False)
CALL = JobKind("comunik8.call", ActionPayload.parse, pruned_after_retention=False)
CANCEL_CALL = JobKind("comunik8.cancel", ActionPayload.parse, pruned_after_retention=False)

ALL_KINDS: tuple[JobKind[Any], ...] = (
    NOTIFY,
    TELEGRAM_UPDATE,
    BLOCKED_ALERT,
    ACTION_FAILED,
    RECOVERED,
    SYNC_REPORT,
    STATS_CHART,
    RECONCILE,
    PRUNE,
    FLEXBE_STATUS,
    CRM5_DEAL,
    CALL,
    CANCEL_CALL,
)
# Kinds that run only with Telegram configured (the worker registers them then).
TELEGRAM_KINDS: tuple[JobKind[Any], ...] = (
    TELEGRAM_UPDATE,
    BLOCKED_ALERT,
    ACTION_FAILED,
    RECOVERED,
    SYNC_REPORT,
    STATS_CHART,
)
PRUNED_KINDS = frozenset(kind.name for kind in ALL_KINDS if kind.pruned_after_retention)
KEPT_KINDS = frozenset(kind.name for kind in ALL_KINDS if not kind.pruned_after_retention)


# Dedupe keys ----------------------------------------------------------------------------
# `job.dedupe_key` is at most 255 characters; keys with a free-form part are cut there.


def slot(now: datetime, interval: timedelta) -> int:
    """The number of the interval `now` falls in: one scheduled job per slot."""
    return int(now.timestamp() // interval.total_seconds())


def new_card_key(lead_id: int, chat_id: int) -> str:
    """The first card of a lead just created (intake, reconcile)."""
    return f"notify:{lead_id}:{chat_id}"


def changed_card_key(lead_id: int, chat_id: int, version: int) -> str:
    """A card edit for version `version` of a known lead (intake, sync)."""
    return f"notify:{lead_id}:{chat_id}:v{version}"


def refresh_card_key(lead_id: int, chat_id: int, cause: str) -> str:
    """A card edit after something happened (`cause`: an action id, a retry…)."""
    return f"notify:{lead_id}:{chat_id}:{cause}"[:255]


def repost_card_key(lead_id: int, chat_id: int, request: str) -> str:
    """A card posted again on request (`request`: the asking message or callback id)."""
    return f"notify:{lead_id}:{chat_id}:r{request}"[:255]


def update_key(update_id: int) -> str:
    return f"tg.update:{update_id}"


def blocked_alert_key(blocked_chat: int, admin: int) -> str:
    return f"alert:blocked:{blocked_chat}:{admin}"


def action_failed_key(subject: str, admin: int) -> str:
    """`subject` names one death of a job (`j{job}.{attempts}`) or the action."""
    return f"alert:dead:{subject}:{admin}"[:255]


def recovered_key(site: str, chat_id: int, lead_ids: tuple[int, ...] | list[int]) -> str:
    return f"recovered:{site}:{chat_id}:{min(lead_ids)}:{len(lead_ids)}"


def sync_report_key(chat_id: int, now: datetime) -> str:
    return f"sync-report:{chat_id}:{now.timestamp()}"


def stats_chart_key(chat_id: int, request: str) -> str:
    """The chart of one `/stats` (`request`: the asking message's id)."""
    return f"stats-chart:{chat_id}:{request}"[:255]


def reconcile_key(site: str, now: datetime, interval: timedelta) -> str:
    """The scheduled reconcile of `site` in this interval."""
    return f"reconcile:{site}:{slot(now, interval)}"


def asked_reconcile_key(site: str, chat_id: int, message_id: int) -> str:
    """A reconcile asked for by a `/sync` message."""
    return f"reconcile:{site}:asked:{chat_id}:{message_id}"


def prune_key(now: datetime, interval: timedelta) -> str:
    return f"prune:{slot(now, interval)}"


def status_key(lead_id: int, status: int, version: int) -> str:
    """One Flexbe status change per version of the lead: a tap after a change is new."""
    return f"flexbe.status:{lead_id}:{status}:v{version}"


def deal_key(lead_id: int) -> str:
    """One 5CRM deal per lead, ever (5CRM has no idempotency key)."""
    return f"crm5.deal:{lead_id}"


def call_key(lead_id: int, generation: int) -> str:
    """One call per lead until it is cancelled (`generation`: cancels so far)."""
    return f"comunik8.call:{lead_id}:{generation}"


def cancel_call_key(lead_id: int, generation: int) -> str:
    return f"comunik8.cancel:{lead_id}:{generation}"
