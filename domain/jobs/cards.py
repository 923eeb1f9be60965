"""Cards and alerts: the messages a chat is sent, each on that chat's queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Self

from domain.jobs.kind import JobKind, ToChat, cut_key
from domain.jobs.payload import left_out_when_none, read_fields

# A lead's card ----------------------------------------------------------------------------

# A card's `reason` when the lead was just assigned to the manager of this private chat:
# posted as a new message, so that they see it.
ASSIGNED = "assigned"


@dataclass(frozen=True, slots=True)
class CardPayload(ToChat):
    """`notify`: post or edit one lead's card in one chat. `reason`: new, updated,
    repost, assigned, or what intake saw (paid…)."""

    lead_id: int
    chat_id: int
    reason: str


NOTIFY = JobKind("notify", CardPayload, pruned_after_retention=True, needs_bot=True)


def new_card_key(lead_id: int, chat_id: int) -> str:
    """The first card of a lead just created (intake, reconcile)."""
    return f"notify:{lead_id}:{chat_id}"


def changed_card_key(lead_id: int, chat_id: int, version: int) -> str:
    """A card edit for version `version` of a known lead (intake, sync)."""
    return f"notify:{lead_id}:{chat_id}:v{version}"


def refresh_card_key(lead_id: int, chat_id: int, cause: str) -> str:
    """A card edit after something happened (`cause`: an action id, a retry…)."""
    return cut_key(f"notify:{lead_id}:{chat_id}:{cause}")


def repost_card_key(lead_id: int, chat_id: int, request: str) -> str:
    """A card posted again on request (`request`: the asking message or callback id)."""
    return cut_key(f"notify:{lead_id}:{chat_id}:r{request}")


def assigned_card_key(lead_id: int, chat_id: int, action_id: int) -> str:
    """The card sent to a manager for one assignment (`action_id`: its row in the log)."""
    return f"notify:{lead_id}:{chat_id}:as{action_id}"


# Alerts to an admin -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockedAlertPayload(ToChat):
    """`telegram.alert`: tell admin `chat_id` that `blocked_chat` refuses messages."""

    chat_id: int
    blocked_chat: int


BLOCKED_ALERT = JobKind(
    "telegram.alert", BlockedAlertPayload, pruned_after_retention=True, needs_bot=True
)


def blocked_alert_key(blocked_chat: int, admin: int, since: datetime | None = None) -> str:
    """`since`: when this block began, so that a chat blocked again after it was back is
    told of again (without it: once for the chat's first block)."""
    key = f"alert:blocked:{blocked_chat}:{admin}"
    return key if since is None else f"{key}:{_micros(since)}"


@dataclass(frozen=True, slots=True)
class MovedAlertPayload(ToChat):
    """`telegram.moved_alert`: tell admin `chat_id` that group `old_chat` became
    supergroup `new_chat` (its cards go there now)."""

    chat_id: int
    old_chat: int
    new_chat: int


MOVED_ALERT = JobKind(
    "telegram.moved_alert", MovedAlertPayload, pruned_after_retention=True, needs_bot=True
)


def moved_alert_key(old_chat: int, admin: int) -> str:
    return f"alert:moved:{old_chat}:{admin}"


@dataclass(frozen=True, slots=True)
class TopicAlertPayload(ToChat):
    """`telegram.topic_alert`: tell admin `chat_id` that topic `topic` of `topic_chat`,
    where site `site`'s cards go, does not exist (they go to the chat's General)."""

    chat_id: int
    topic_chat: int
    topic: int
    site: str


TOPIC_ALERT = JobKind(
    "telegram.topic_alert", TopicAlertPayload, pruned_after_retention=True, needs_bot=True
)


def topic_alert_key(topic_chat: int, topic: int, admin: int) -> str:
    return f"alert:topic:{topic_chat}:{topic}:{admin}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionFailedPayload(ToChat):
    """`telegram.action_failed`: tell admin `chat_id` that an action failed for good.
    Ids, names of things and codes only: never a client's contacts. (Stored in this order,
    `chat_id` last.)"""

    lead_id: int
    num: int | None = None
    flexbe_id: int | None = None
    site: str = ""
    action: str = ""
    code: str = ""
    job_id: int | None = None
    chat_id: int


ACTION_FAILED = JobKind(
    "telegram.action_failed", ActionFailedPayload, pruned_after_retention=True, needs_bot=True
)


def action_failed_key(subject: str, admin: int) -> str:
    """`subject` names one death of a job (`j{job}.{attempts}`) or the action."""
    return cut_key(f"alert:dead:{subject}:{admin}")


# Summaries instead of cards -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecoveredPayload(ToChat):
    """`telegram.recovered`: one summary instead of a card per recovered lead."""

    chat_id: int
    site: str
    lead_ids: tuple[int, ...]


RECOVERED = JobKind(
    "telegram.recovered", RecoveredPayload, pruned_after_retention=True, needs_bot=True
)


def recovered_key(site: str, chat_id: int, lead_ids: tuple[int, ...] | list[int]) -> str:
    return f"recovered:{site}:{chat_id}:{min(lead_ids)}:{len(lead_ids)}"


@dataclass(frozen=True, slots=True)
class BurstSummaryPayload(ToChat):
    """`telegram.summary`: one message listing new leads whose cards were waiting for a
    chat longer than a minute of its Telegram budget; part `part` of `parts`, out of
    `total` leads summarised together."""

    chat_id: int
    lead_ids: tuple[int, ...]
    part: int = 1
    parts: int = 1
    total: int = 0

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        # Read as they always were: a part or count of 0 is 1, a total of 0 all listed.
        payload = cls(**read_fields(cls, raw))
        return replace(
            payload,
            part=payload.part or 1,
            parts=payload.parts or 1,
            total=payload.total or len(payload.lead_ids),
        )


BURST_SUMMARY = JobKind(
    "telegram.summary", BurstSummaryPayload, pruned_after_retention=True, needs_bot=True
)


def burst_summary_key(chat_id: int, trigger_lead: int, part: int) -> str:
    """Part `part` of the summary made when the card of `trigger_lead` (whose first card
    is one job ever) found a backlog: a rerun of that job finds it made."""
    return f"summary:{chat_id}:{trigger_lead}:{part}"


def missed_summary_key(chat_id: int, blocked_since: datetime, part: int) -> str:
    """Part `part` of the summary of the leads `chat_id` missed while the bot could not
    write there (the block that began at `blocked_since`): one per block."""
    return f"summary:{chat_id}:missed{_micros(blocked_since)}:{part}"


def _micros(moment: datetime) -> int:
    """A moment in a key: to the microsecond, as the database keeps it."""
    return round(moment.timestamp() * 1_000_000)


# Answers to a command ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncReportPayload(ToChat):
    """`telegram.sync_report`: the counts of a `/sync`, back to the chat that asked."""

    chat_id: int
    site: str
    new: int
    updated: int
    unchanged: int
    failed: int


SYNC_REPORT = JobKind(
    "telegram.sync_report", SyncReportPayload, pruned_after_retention=True, needs_bot=True
)


def sync_report_key(chat_id: int, now: datetime) -> str:
    return f"sync-report:{chat_id}:{now.timestamp()}"


@dataclass(frozen=True, slots=True)
class ChartPayload(ToChat):
    """`telegram.stats_chart`: draw `/stats`' chart of [since, until) (Unix seconds) for
    `sites` (none: every site) and send it to `chat_id`, in `language`, titled `title`;
    in a forum, to the topic `topic` it was asked in."""

    chat_id: int
    since: int
    until: int
    sites: tuple[str, ...]
    language: str = "en"
    title: str = ""
    topic: int | None = left_out_when_none()


STATS_CHART = JobKind(
    "telegram.stats_chart", ChartPayload, pruned_after_retention=True, needs_bot=True
)


def stats_chart_key(chat_id: int, request: str) -> str:
    """The chart of one `/stats` (`request`: the asking message's id)."""
    return cut_key(f"stats-chart:{chat_id}:{request}")
