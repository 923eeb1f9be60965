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


def _optional_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"job payload's {key!r} is not a string")
    return value


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


# A card's `reason` when the lead was just assigned to the manager of this private chat:
# posted as a new message, so that they see it.
ASSIGNED = "assigned"


@dataclass(frozen=True, slots=True)
class CardPayload:
    """`notify`: post or edit one lead's card in one chat. `reason`: new, updated,
    repost, assigned, or what intake saw (paid…)."""

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
    (`status:2`, `deal`, `call:600`, `call:@1767340800`, `uncall`); `action_id` its row
    there, added once the job exists. `status` is for a Flexbe status change; for a call,
    `delay` (seconds) as asked, and `call_at` (Unix seconds) the moment it should ring,
    from which the job counts the dialler's delay when it runs."""

    lead_id: int
    site: str = ""
    actor: int | None = None
    action: str = ""
    status: int | None = None
    delay: int | None = None
    action_id: int | None = None
    call_at: int | None = None

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
            call_at=_optional_int(raw, "call_at"),
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
        if self.call_at is not None:
            out["call_at"] = self.call_at
        return out

    def new_status(self) -> int:
        if self.status is None:
            raise PayloadError("job payload has no 'status'")
        return self.status


LEAD_QUEUE_PREFIX = "lead:"
_EDIT_FIELDS = (
    "note",
    "client_name",
    "client_phone",
    "client_email",
    "pay_summ",
    "pay_status",
    "pay_desc",
    "action_id",
)


def lead_queue(lead_id: int) -> str:
    """One lead's edits in Flexbe run in order: a note appended after another keeps both."""
    return f"{LEAD_QUEUE_PREFIX}{lead_id}"


@dataclass(frozen=True, slots=True)
class LeadEditPayload:
    """A manager's edit of a lead in Flexbe (`changeLead`): a note line to append, client
    details, an invoice or a payment state. Only the fields given are sent. `action` is the
    action log's name of it (`note`, `client:phone`, `invoice`, `pay:2`); `action_id` its
    row there, added once the job exists."""

    lead_id: int
    site: str = ""
    actor: int | None = None
    action: str = ""
    note: str | None = None
    client_name: str | None = None
    client_phone: str | None = None
    client_email: str | None = None
    pay_summ: str | None = None
    pay_status: int | None = None
    pay_desc: str | None = None
    action_id: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LeadEditPayload:
        return cls(
            lead_id=_int(raw, "lead_id"),
            site=_str(raw, "site", ""),
            actor=_optional_int(raw, "actor"),
            action=_str(raw, "action", ""),
            note=_optional_str(raw, "note"),
            client_name=_optional_str(raw, "client_name"),
            client_phone=_optional_str(raw, "client_phone"),
            client_email=_optional_str(raw, "client_email"),
            pay_summ=_optional_str(raw, "pay_summ"),
            pay_status=_optional_int(raw, "pay_status"),
            pay_desc=_optional_str(raw, "pay_desc"),
            action_id=_optional_int(raw, "action_id"),
        )

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lead_id": self.lead_id, "site": self.site, "actor": self.actor}
        out["action"] = self.action
        for key in _EDIT_FIELDS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @property
    def queue(self) -> str:
        return lead_queue(self.lead_id)


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
class BurstSummaryPayload:
    """`telegram.summary`: one message listing new leads whose cards were waiting for a
    chat longer than a minute of its Telegram budget; part `part` of `parts`, out of
    `total` leads summarised together."""

    chat_id: int
    lead_ids: tuple[int, ...]
    part: int = 1
    parts: int = 1
    total: int = 0

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> BurstSummaryPayload:
        ids = raw.get("lead_ids")
        if not isinstance(ids, list | tuple):
            raise PayloadError("job payload's 'lead_ids' is not a list")
        lead_ids = tuple(_as_int(i, "lead_ids") for i in ids)
        return cls(
            chat_id=_int(raw, "chat_id"),
            lead_ids=lead_ids,
            part=_optional_int(raw, "part") or 1,
            parts=_optional_int(raw, "parts") or 1,
            total=_optional_int(raw, "total") or len(lead_ids),
        )

    def dump(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "lead_ids": list(self.lead_ids),
            "part": self.part,
            "parts": self.parts,
            "total": self.total,
        }

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
class LeadTimerPayload:
    """`sla.remind`, `sla.escalate`: a lead's timer, due after its wait in working time;
    `rules.apply`: a new lead's speed-to-lead rules, due at once. Not on a chat's queue (a
    future job would hold the chat's cards back): when it runs and still applies, it
    enqueues the messages or the actions."""

    lead_id: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LeadTimerPayload:
        return cls(_int(raw, "lead_id"))

    def dump(self) -> dict[str, Any]:
        return {"lead_id": self.lead_id}


@dataclass(frozen=True, slots=True)
class LeadMessagePayload:
    """`telegram.sla_reminder` (a reply to the lead's card in `chat_id`) and
    `telegram.sla_alert` (an alert to admin `chat_id`)."""

    chat_id: int
    lead_id: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> LeadMessagePayload:
        return cls(_int(raw, "chat_id"), _int(raw, "lead_id"))

    def dump(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "lead_id": self.lead_id}

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


@dataclass(frozen=True, slots=True)
class DigestPayload:
    """`digest` (the timer, unqueued) and `telegram.digest` (the message): chat
    `chat_id`'s digest of local working day `day` (ISO date), sent the next working day."""

    chat_id: int
    day: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> DigestPayload:
        return cls(_int(raw, "chat_id"), _str(raw, "day"))

    def dump(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "day": self.day}


@dataclass(frozen=True, slots=True)
class DigestMessagePayload(DigestPayload):
    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> DigestMessagePayload:
        return cls(_int(raw, "chat_id"), _str(raw, "day"))

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


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
BURST_SUMMARY = JobKind("telegram.summary", BurstSummaryPayload.parse, pruned_after_retention=True)
STATS_CHART = JobKind("telegram.stats_chart", ChartPayload.parse, pruned_after_retention=True)
RECONCILE = JobKind("flexbe.reconcile", ReconcilePayload.parse, pruned_after_retention=True)
PRUNE = JobKind("retention.prune", NoPayload.parse, pruned_after_retention=True)
# Timers: a done one is history (its lead or day has passed), and a pruned key is never
# enqueued again (a reminder is enqueued with a lead's first card, a digest for a day ahead).
SLA_REMIND = JobKind("sla.remind", LeadTimerPayload.parse, pruned_after_retention=True)
SLA_ESCALATE = JobKind("sla.escalate", LeadTimerPayload.parse, pruned_after_retention=True)
DIGEST = JobKind("digest", DigestPayload.parse, pruned_after_retention=True)
SLA_REMINDER = JobKind(
    "telegram.sla_reminder", LeadMessagePayload.parse, pruned_after_retention=True
)
SLA_ALERT = JobKind("telegram.sla_alert", LeadMessagePayload.parse, pruned_after_retention=True)
DIGEST_MESSAGE = JobKind("telegram.digest", DigestMessagePayload.parse, pruned_after_retention=True)
# A new lead's rules, enqueued with the lead (intake): a pruned key is never enqueued
# again, as a lead is new once; the actions it enqueues keep their own keys for ever.
RULES_APPLY = JobKind("rules.apply", LeadTimerPayload.parse, pruned_after_retention=True)
# The card buttons' calls out: their keys guard against a second deal or call for ever.
FLEXBE_STATUS = JobKind("flexbe.status", ActionPayload.parse, pruned_after_retention=False)
CRM5_DEAL = JobKind("crm5.deal", ActionPayload.parse, pruned_after_retention=False)
CALL = JobKind("comunik8.call", ActionPayload.parse, pruned_after_retention=False)
CANCEL_CALL = JobKind("comunik8.cancel", ActionPayload.parse, pruned_after_retention=False)
# A manager's edits of a lead in Flexbe: their keys name the Telegram message or the
# lead's version that asked, so a repeated reply or a double tap is one change for ever.
FLEXBE_NOTE = JobKind("flexbe.note", LeadEditPayload.parse, pruned_after_retention=False)
FLEXBE_CLIENT = JobKind("flexbe.client", LeadEditPayload.parse, pruned_after_retention=False)
FLEXBE_INVOICE = JobKind("flexbe.invoice", LeadEditPayload.parse, pruned_after_retention=False)
FLEXBE_PAY = JobKind("flexbe.pay", LeadEditPayload.parse, pruned_after_retention=False)
LEAD_EDIT_KINDS: tuple[JobKind[LeadEditPayload], ...] = (
    FLEXBE_NOTE,
    FLEXBE_CLIENT,
    FLEXBE_INVOICE,
    FLEXBE_PAY,
)

ALL_KINDS: tuple[JobKind[Any], ...] = (
    NOTIFY,
    TELEGRAM_UPDATE,
    BLOCKED_ALERT,
    ACTION_FAILED,
    RECOVERED,
    SYNC_REPORT,
    BURST_SUMMARY,
    STATS_CHART,
    RECONCILE,
    PRUNE,
    FLEXBE_STATUS,
    CRM5_DEAL,
    CALL,
    CANCEL_CALL,
    *LEAD_EDIT_KINDS,
    SLA_REMIND,
    SLA_ESCALATE,
    DIGEST,
    SLA_REMINDER,
    SLA_ALERT,
    DIGEST_MESSAGE,
    RULES_APPLY,
)
# Kinds that run only with Telegram configured (the worker registers them then).
TELEGRAM_KINDS: tuple[JobKind[Any], ...] = (
    TELEGRAM_UPDATE,
    BLOCKED_ALERT,
    ACTION_FAILED,
    RECOVERED,
    SYNC_REPORT,
    BURST_SUMMARY,
    SLA_REMIND,
    SLA_ESCALATE,
    DIGEST,
    SLA_REMINDER,
    SLA_ALERT,
    DIGEST_MESSAGE,
    STATS_CHART,
    RULES_APPLY,
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


def assigned_card_key(lead_id: int, chat_id: int, action_id: int) -> str:
    """The card sent to a manager for one assignment (`action_id`: its row in the log)."""
    return f"notify:{lead_id}:{chat_id}:as{action_id}"


def update_key(update_id: int) -> str:
    return f"tg.update:{update_id}"


def blocked_alert_key(blocked_chat: int, admin: int) -> str:
    return f"alert:blocked:{blocked_chat}:{admin}"


def action_failed_key(subject: str, admin: int) -> str:
    """`subject` names one death of a job (`j{job}.{attempts}`) or the action."""
    return f"alert:dead:{subject}:{admin}"[:255]


def recovered_key(site: str, chat_id: int, lead_ids: tuple[int, ...] | list[int]) -> str:
    return f"recovered:{site}:{chat_id}:{min(lead_ids)}:{len(lead_ids)}"


def burst_summary_key(chat_id: int, trigger_lead: int, part: int) -> str:
    """Part `part` of the summary made when the card of `trigger_lead` (whose first card
    is one job ever) found a backlog: a rerun of that job finds it made."""
    return f"summary:{chat_id}:{trigger_lead}:{part}"


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


def answer_edit_key(chat_id: int, message_id: int) -> str:
    """One edit per Telegram message that carried it (a note, a client's detail, an
    invoice): the same message delivered again changes nothing, whichever lead it names."""
    return f"flexbe.edit:{chat_id}:{message_id}"


def pay_status_key(lead_id: int, status: int, version: int) -> str:
    """One payment mark per version of the lead: a tap after a change is new."""
    return f"flexbe.pay:{lead_id}:{status}:v{version}"


def sla_remind_key(lead_id: int) -> str:
    """A lead's one reminder timer."""
    return f"sla.remind:{lead_id}"


def sla_escalate_key(lead_id: int) -> str:
    """A lead's one escalation timer."""
    return f"sla.escalate:{lead_id}"


def sla_reminder_key(lead_id: int, chat_id: int) -> str:
    """The reminder's one reply in one chat."""
    return f"sla.remind:{lead_id}:{chat_id}"


def sla_alert_key(lead_id: int, admin: int) -> str:
    """The escalation's one alert to one admin."""
    return f"sla.escalate:{lead_id}:{admin}"


def rules_key(lead_id: int) -> str:
    """A lead's one application of its site's rules."""
    return f"rules:{lead_id}"


def digest_key(chat_id: int, day: str) -> str:
    """A chat's one digest of one working day (`day`: ISO date)."""
    return f"digest:{chat_id}:{day}"


def digest_message_key(chat_id: int, day: str) -> str:
    return f"digest:{chat_id}:{day}:message"
