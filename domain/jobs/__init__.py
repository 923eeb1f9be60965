"""The job catalogue: every kind of job, its payload, its queue and its dedupe keys.

A job is stored as strings (kind, JSON payload, dedupe key, queue); this package is the
one place that spells them. Whoever enqueues a job builds its payload here and `dump`s
it; whoever runs one `parse`s the stored dict back, which checks it (both derived from the
payload's fields: `domain.jobs.payload`). The strings must stay as they are: existing
databases hold them, and a changed dedupe key would let a repeat through.

A kind is declared once, in the module of its area, beside its payload and its keys:
`cards` (a chat's cards, alerts and summaries), `buttons` (a button's call out, a
manager's edit), `timers` (SLA, digest, rules) and `operations` (updates, reconcile,
prune); `limits` spells the rate-limit keys jobs spend. Each `JobKind` says whether
retention prunes its done jobs and whether it needs the bot; the sets below are read from
them.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from domain.jobs import buttons, cards, operations, timers
from domain.jobs.buttons import (
    CALL,
    CANCEL_CALL,
    CRM5_DEAL,
    FLEXBE_CLIENT,
    FLEXBE_INVOICE,
    FLEXBE_NOTE,
    FLEXBE_PAY,
    FLEXBE_STATUS,
    LEAD_EDIT_KINDS,
    LEAD_QUEUE_PREFIX,
    ActionPayload,
    LeadEditPayload,
    NotedAction,
    answer_edit_key,
    call_key,
    cancel_call_key,
    deal_key,
    lead_queue,
    pay_status_key,
    status_key,
)
from domain.jobs.cards import (
    ACTION_FAILED,
    ASSIGNED,
    BLOCKED_ALERT,
    BURST_SUMMARY,
    MOVED_ALERT,
    NOTIFY,
    RECOVERED,
    STATS_CHART,
    SYNC_REPORT,
    TOPIC_ALERT,
    ActionFailedPayload,
    BlockedAlertPayload,
    BurstSummaryPayload,
    CardPayload,
    ChartPayload,
    MovedAlertPayload,
    RecoveredPayload,
    SyncReportPayload,
    TopicAlertPayload,
    action_failed_key,
    assigned_card_key,
    blocked_alert_key,
    burst_summary_key,
    changed_card_key,
    missed_summary_key,
    moved_alert_key,
    new_card_key,
    recovered_key,
    refresh_card_key,
    repost_card_key,
    stats_chart_key,
    sync_report_key,
    topic_alert_key,
)
from domain.jobs.kind import (
    TELEGRAM_QUEUE_PREFIX,
    JobKind,
    P,
    Payload,
    Queued,
    ToChat,
    slot,
    telegram_queue,
)
from domain.jobs.limits import (
    FLEXBE_SITE_PREFIX,
    TELEGRAM_CHAT_PREFIX,
    TELEGRAM_GLOBAL_KEY,
    Budget,
    budget_of,
    flexbe_keys,
    telegram_keys,
)
from domain.jobs.operations import (
    PRUNE,
    RECONCILE,
    TELEGRAM_UPDATE,
    NoPayload,
    ReconcilePayload,
    UpdatePayload,
    asked_reconcile_key,
    prune_key,
    reconcile_key,
    update_key,
)
from domain.jobs.payload import PayloadError, StoredPayload, left_out_when_none
from domain.jobs.timers import (
    DIGEST,
    DIGEST_MESSAGE,
    RULES_APPLY,
    SLA_ALERT,
    SLA_ESCALATE,
    SLA_REMIND,
    SLA_REMINDER,
    DigestMessagePayload,
    DigestPayload,
    LeadMessagePayload,
    LeadTimerPayload,
    digest_key,
    digest_message_key,
    rules_key,
    sla_alert_key,
    sla_escalate_key,
    sla_remind_key,
    sla_reminder_key,
)


def _kinds_in(*areas: ModuleType) -> tuple[JobKind[Any], ...]:
    """Every kind the area modules declare, in the order they declare them."""
    found = (value for area in areas for value in vars(area).values())
    return tuple(dict.fromkeys(kind for kind in found if isinstance(kind, JobKind)))


ALL_KINDS = _kinds_in(cards, buttons, timers, operations)
# Kinds that run only with Telegram configured (the worker registers them then).
TELEGRAM_KINDS = tuple(kind for kind in ALL_KINDS if kind.needs_bot)
PRUNED_KINDS = frozenset(kind.name for kind in ALL_KINDS if kind.pruned_after_retention)
KEPT_KINDS = frozenset(kind.name for kind in ALL_KINDS if not kind.pruned_after_retention)

__all__ = [
    "ACTION_FAILED",
    "ALL_KINDS",
    "ASSIGNED",
    "BLOCKED_ALERT",
    "BURST_SUMMARY",
    "CALL",
    "CANCEL_CALL",
    "CRM5_DEAL",
    "DIGEST",
    "DIGEST_MESSAGE",
    "FLEXBE_CLIENT",
    "FLEXBE_INVOICE",
    "FLEXBE_NOTE",
    "FLEXBE_PAY",
    "FLEXBE_SITE_PREFIX",
    "FLEXBE_STATUS",
    "KEPT_KINDS",
    "LEAD_EDIT_KINDS",
    "LEAD_QUEUE_PREFIX",
    "MOVED_ALERT",
    "NOTIFY",
    "P",
    "PRUNE",
    "PRUNED_KINDS",
    "RECONCILE",
    "RECOVERED",
    "RULES_APPLY",
    "SLA_ALERT",
    "SLA_ESCALATE",
    "SLA_REMIND",
    "SLA_REMINDER",
    "STATS_CHART",
    "SYNC_REPORT",
    "TELEGRAM_CHAT_PREFIX",
    "TELEGRAM_GLOBAL_KEY",
    "TELEGRAM_KINDS",
    "TELEGRAM_QUEUE_PREFIX",
    "TELEGRAM_UPDATE",
    "TOPIC_ALERT",
    "ActionFailedPayload",
    "ActionPayload",
    "BlockedAlertPayload",
    "Budget",
    "BurstSummaryPayload",
    "CardPayload",
    "ChartPayload",
    "MovedAlertPayload",
    "DigestMessagePayload",
    "DigestPayload",
    "JobKind",
    "LeadEditPayload",
    "LeadMessagePayload",
    "LeadTimerPayload",
    "NoPayload",
    "NotedAction",
    "Payload",
    "PayloadError",
    "Queued",
    "ReconcilePayload",
    "RecoveredPayload",
    "StoredPayload",
    "SyncReportPayload",
    "TopicAlertPayload",
    "ToChat",
    "UpdatePayload",
    "action_failed_key",
    "answer_edit_key",
    "asked_reconcile_key",
    "assigned_card_key",
    "blocked_alert_key",
    "budget_of",
    "burst_summary_key",
    "call_key",
    "cancel_call_key",
    "changed_card_key",
    "deal_key",
    "digest_key",
    "digest_message_key",
    "flexbe_keys",
    "lead_queue",
    "left_out_when_none",
    "moved_alert_key",
    "missed_summary_key",
    "new_card_key",
    "pay_status_key",
    "prune_key",
    "reconcile_key",
    "recovered_key",
    "refresh_card_key",
    "repost_card_key",
    "rules_key",
    "sla_alert_key",
    "sla_escalate_key",
    "sla_remind_key",
    "sla_reminder_key",
    "slot",
    "stats_chart_key",
    "status_key",
    "sync_report_key",
    "topic_alert_key",
    "telegram_keys",
    "telegram_queue",
    "update_key",
]
