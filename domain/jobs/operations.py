"""Operations: a Telegram update to handle, a site to reconcile with Flexbe, old history to
prune. Scheduled ones take one job per slot of their interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.jobs.kind import JobKind, slot
from domain.jobs.payload import StoredPayload, left_out_when_none


@dataclass(frozen=True, slots=True)
class UpdatePayload(StoredPayload):
    """`telegram.update`: handle one stored Telegram update."""

    update_id: int


TELEGRAM_UPDATE = JobKind(
    "telegram.update", UpdatePayload, pruned_after_retention=True, needs_bot=True
)


def update_key(update_id: int) -> str:
    return f"tg.update:{update_id}"


@dataclass(frozen=True, slots=True)
class ReconcilePayload(StoredPayload):
    """`flexbe.reconcile`: compare one site with Flexbe; `report_to` a chat asking."""

    site: str
    report_to: int | None = left_out_when_none()


RECONCILE = JobKind(
    "flexbe.reconcile", ReconcilePayload, pruned_after_retention=True, needs_bot=False
)


def reconcile_key(site: str, now: datetime, interval: timedelta) -> str:
    """The scheduled reconcile of `site` in this interval."""
    return f"reconcile:{site}:{slot(now, interval)}"


def asked_reconcile_key(site: str, chat_id: int, message_id: int) -> str:
    """A reconcile asked for by a `/sync` message."""
    return f"reconcile:{site}:asked:{chat_id}:{message_id}"


@dataclass(frozen=True, slots=True)
class NoPayload(StoredPayload):
    """`retention.prune`: nothing to say."""


PRUNE = JobKind("retention.prune", NoPayload, pruned_after_retention=True, needs_bot=False)


def prune_key(now: datetime, interval: timedelta) -> str:
    return f"prune:{slot(now, interval)}"
