"""The tables. Timestamps are timezone-aware UTC; JSON columns hold what Flexbe sent, as is."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from domain.statuses import LeadStatus
from domain.team import DEFAULT_WEIGHT
from domain.team import ManagerRole as ManagerRole  # re-exported: named with the table
from storage.clock import utcnow
from storage.types import UTCDateTime, json_type


def _utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _now_column(*, index: bool = False) -> Any:
    return Field(
        default_factory=utcnow,
        sa_column=Column(UTCDateTime(), nullable=False, index=index),
    )


def _json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(json_type(), nullable=False))


class LeadOrigin(StrEnum):
    """How a lead first reached leadrelay."""

    WEBHOOK = "webhook"
    # Found by reconcile: its webhook never came, but the lead is as fresh as one that did.
    RECOVERED = "recovered"
    # Brought in by `leadrelay sync`, a backfill of history run by hand.
    SYNC = "sync"

    @property
    def is_live(self) -> bool:
        """A lead that arrived as it happened (by its webhook, or by reconcile in its
        place): it gets its site's SLA timers and speed-to-lead rule. A backfill's leads
        are history: nobody is reminded of them and no client is rung."""
        return self is not LeadOrigin.SYNC


class InboxOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    IGNORED = "ignored"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Site(SQLModel, table=True):
    """A Flexbe site as last configured; leads point at it by key."""

    key: str = Field(primary_key=True, max_length=32)
    name: str = ""
    flexbe_site_id: str | None = Field(default=None, max_length=64)
    domain: str | None = Field(default=None, max_length=255)
    created_at: datetime = _now_column()
    updated_at: datetime = _now_column()


class LeadBase(SQLModel):
    """A lead's fields that the table stores and the admin API shows, declared once.

    In the order the API shows them (`webhooks.schemas.LeadPublic`); the table adds its own
    (`Lead`). Intake writes them through `LeadSnapshot`, whose fields a test holds to these."""

    id: int | None = Field(default=None, primary_key=True)
    site_key: str
    flexbe_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    # Indexed for the console's and the bot's look-up by number.
    num: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True, index=True))
    created_at: datetime | None = _utc_column(index=True)
    status_code: int = Field(default=LeadStatus.NEW, index=True)
    status_name: str = ""
    client_name: str = ""
    client_phone: str = ""
    client_email: str = ""
    note: str = ""
    form_name: str = ""
    form_data: dict[str, Any] = _json_column()
    page_url: str = ""
    page_name: str = ""
    utm: dict[str, Any] = _json_column()
    pay_id: str | None = None
    pay_summ: str | None = None
    pay_status_code: int | None = None
    pay_status_name: str | None = None
    pay_desc: str | None = None
    pay_link: str | None = None
    pay_test: bool | None = None
    pay_time_create: datetime | None = _utc_column()
    pay_time_done: datetime | None = _utc_column()
    # The webhook's `site` block, as last sent (a lead from getLeads has none).
    flexbe_site_id: str | None = Field(
        default=None,
        description="Flexbe's id of the site (the webhook's `site[id]`); none from getLeads.",
    )
    site_domain: str | None = Field(
        default=None, description="The webhook's `site[domain]`, if sent."
    )
    site_name: str | None = Field(default=None, description="The webhook's `site[name]`, if sent.")
    origin: str = LeadOrigin.WEBHOOK.value
    # Indexed for the console's filter by manager: without it, a manager with few leads
    # was a walk through every lead.
    taken_by: int | None = Field(
        default=None, sa_column=Column(BigInteger(), nullable=True, index=True)
    )
    taken_by_name: str | None = None
    taken_at: datetime | None = _utc_column()
    received_at: datetime = _now_column(index=True)
    updated_at: datetime = _now_column()


class Lead(LeadBase, table=True):
    __table_args__ = (
        UniqueConstraint("site_key", "flexbe_id", name="uq_lead_site_flexbe_id"),
        Index("ix_lead_site_created", "site_key", "created_at"),
    )

    # Redeclared for the column's constraints only: they keep their place in `LeadBase`.
    site_key: str = Field(foreign_key="site.key", max_length=32)
    origin: str = Field(default=LeadOrigin.WEBHOOK.value, max_length=16)
    # Table-only: the phone and e-mail as searched (repeats, /find), the name as searched
    # by a part of it (`storage.queries.fragments`; PostgreSQL gives it and the e-mail a
    # trigram index, migration 0013), and the optimistic lock's counter.
    client_phone_normalized: str = Field(default="", index=True)
    client_email_normalized: str = Field(default="", index=True)
    client_name_folded: str = ""
    version: int = 1
    # Speed to lead, each set once, the first time it happens: shown to a manager (a card or
    # a summary's line delivered), owned (taken or assigned), acted on (a status, call,
    # note, deal, invoice or edit), a call queued. Arrival is `received_at`.
    first_seen_at: datetime | None = _utc_column()
    first_owned_at: datetime | None = _utc_column()
    first_action_at: datetime | None = _utc_column()
    first_call_at: datetime | None = _utc_column()
    # Why it was lost: a reason of the site's `lost_reasons` picked on Cancelled, "" when it
    # was cancelled without one (a rule, Flexbe, the console); None while not cancelled.
    lost_reason: str | None = Field(default=None, max_length=100)
    # The open offer of an `offer:` rule (`bot.offers`): to whom, their name for the card,
    # its hand-out (`LeadTurn.step`), the round's first step (who had it since is not
    # offered it again), when its window ends and the window in seconds (the next offer's).
    # All None while no offer is open.
    offer_to: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    offer_to_name: str | None = None
    offer_step: int | None = None
    offer_from: int | None = None
    offer_until: datetime | None = _utc_column()
    offer_window: int | None = None


class Payment(SQLModel, table=True):
    """Each distinct payment state a lead went through, in the order it arrived."""

    __table_args__ = (UniqueConstraint("lead_id", "fingerprint", name="uq_payment_state"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(ForeignKey("lead.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    fingerprint: str = Field(max_length=64)
    pay_id: str | None = None
    summ: str | None = None
    status_code: int | None = None
    status_name: str | None = None
    desc: str | None = None
    pay_link: str | None = None
    test: bool | None = None
    time_create: datetime | None = _utc_column()
    time_done: datetime | None = _utc_column()
    received_at: datetime = _now_column()


class InboxEvent(SQLModel, table=True):
    """Every webhook received for a known site, raw, with what became of it."""

    __tablename__ = "inbox_event"
    # By outcome, then age: `/api/inbox?outcome=` and the retention's oldest-first batches.
    __table_args__ = (Index("ix_inbox_event_outcome_received", "outcome", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    site_key: str | None = Field(default=None, max_length=32, index=True)
    event: str = Field(default="", max_length=64)
    content_type: str = Field(default="", max_length=255)
    body: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    # Set only on the first accepted copy of an event; repeats leave it empty.
    dedupe_key: str | None = Field(default=None, max_length=96, unique=True)
    outcome: str = Field(max_length=16)
    error: str | None = None
    lead_id: int | None = Field(default=None, index=True)
    received_at: datetime = _now_column(index=True)
    # A rejected event that an admin had parsed again, once it did: the event it became.
    reprocessed_as: int | None = None


# Literal, not bound: a partial index serves a query only if its WHERE visibly implies
# the index's, and a bound parameter hides its value from the planner.
UNFINISHED_SQL = "status IN ('pending', 'running')"
UNQUEUED_PENDING_SQL = "status = 'pending' AND queue IS NULL"
# The states `/metrics` counts (done jobs are history: counting them would grow with it).
COUNTED_SQL = "status IN ('pending', 'running', 'dead')"
DONE_SQL = "status = 'done'"


class Job(SQLModel, table=True):
    """A side effect to perform: written with the change that causes it, run by the worker."""

    __table_args__ = (
        Index("ix_job_due", "status", "run_at"),
        # Partial: only the rows the claim looks for. The first is walked queue by queue to
        # find each queue's head (jobs/store.py); the second holds due jobs of no queue.
        Index(
            "ix_job_queue_unfinished",
            "queue",
            "id",
            postgresql_where=text(UNFINISHED_SQL),
            sqlite_where=text(UNFINISHED_SQL),
        ),
        Index(
            "ix_job_unqueued_due",
            "run_at",
            postgresql_where=text(UNQUEUED_PENDING_SQL),
            sqlite_where=text(UNQUEUED_PENDING_SQL),
        ),
        # `/metrics` counts by kind and state from this alone, however many jobs are done.
        Index(
            "ix_job_counted_kind",
            "kind",
            "status",
            postgresql_where=text(COUNTED_SQL),
            sqlite_where=text(COUNTED_SQL),
        ),
        # The retention finds each kind's oldest done jobs here, without walking the rest.
        Index(
            "ix_job_done_kind_finished",
            "kind",
            "finished_at",
            postgresql_where=text(DONE_SQL),
            sqlite_where=text(DONE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64, index=True)
    payload: dict[str, Any] = _json_column()
    dedupe_key: str = Field(max_length=255, unique=True)
    # Jobs that share a queue run one at a time, in id order (e.g. one Telegram chat).
    queue: str | None = Field(default=None, max_length=128)
    status: str = Field(default=JobStatus.PENDING.value, max_length=16)
    attempts: int = 0
    max_attempts: int = 8
    run_at: datetime = _now_column()
    lease_until: datetime | None = _utc_column()
    locked_by: str | None = Field(default=None, max_length=128)
    last_error: str | None = None
    created_at: datetime = _now_column()
    updated_at: datetime = _now_column()
    finished_at: datetime | None = _utc_column()
    # Times a handler asked to run later (a rate limit, `retry_after`): not failed attempts.
    postponements: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class JobWorker(SQLModel, table=True):
    """A worker process, alive while it heartbeats: a job held (`Job.locked_by`) by one
    whose heartbeat lapsed is taken over at once, without waiting for the job's lease."""

    __tablename__ = "worker"

    name: str = Field(primary_key=True, max_length=128)  # what `Job.locked_by` holds
    host: str = Field(default="", max_length=255)
    pid: int = 0
    started_at: datetime = _now_column()
    heartbeat_at: datetime = _now_column()


class JobAttempt(SQLModel, table=True):
    __tablename__ = "job_attempt"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(
        sa_column=Column(ForeignKey("job.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    attempt: int
    worker: str = Field(default="", max_length=128)
    started_at: datetime = _now_column()
    finished_at: datetime | None = _utc_column()
    outcome: str = Field(default="", max_length=16)
    error: str | None = None


class RateBucket(SQLModel, table=True):
    """One rate-limit key's GCRA state, shared by every worker process.

    `tat` is the "theoretical arrival time" in Unix seconds: the next call is allowed once
    the clock reaches `tat` minus the burst allowance.
    """

    __tablename__ = "rate_bucket"

    key: str = Field(primary_key=True, max_length=160)
    tat: float = 0.0


class Manager(SQLModel, table=True):
    """Someone on the sales team, known by Telegram user id."""

    telegram_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    name: str = ""
    username: str | None = Field(default=None, max_length=64)
    role: str = Field(default=ManagerRole.MANAGER.value, max_length=16)
    language: str = Field(default="en", max_length=8)
    # False until the manager picks a language with /lang; until then `language` is the one
    # their Telegram app last reported.
    language_chosen: bool = False
    # Site keys whose leads this manager receives in private; empty means every site.
    sites: list[str] = Field(default_factory=list, sa_column=Column(json_type(), nullable=False))
    active: bool = True
    # Away (`/away`, or an admin in the console) from `away_from` until `away_until` (None:
    # until `/back`); not away while `away_from` is None.
    away_from: datetime | None = _utc_column()
    away_until: datetime | None = _utc_column()
    # The manager's own week (`Mon-Fri 09:00-18:00`, as a site's `working_hours`); None: the
    # site's hours are theirs.
    working_hours: str | None = Field(default=None, max_length=400)
    # Leads in turn (`assign:next`, `offer:`) per one of a weight-1 colleague's: 1..MAX_WEIGHT.
    weight: int = Field(default=DEFAULT_WEIGHT, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = _now_column()
    updated_at: datetime = _now_column()


class Invite(SQLModel, table=True):
    """A single-use, expiring `/start <code>` link an admin hands to a new manager."""

    code: str = Field(primary_key=True, max_length=32)
    created_by: int = Field(sa_column=Column(BigInteger(), nullable=False))
    sites: list[str] = Field(default_factory=list, sa_column=Column(json_type(), nullable=False))
    created_at: datetime = _now_column()
    expires_at: datetime = _now_column()
    used_by: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    used_at: datetime | None = _utc_column()


class Card(SQLModel, table=True):
    """Where a lead's card lives in one chat, so it can be edited in place."""

    __table_args__ = (
        UniqueConstraint("lead_id", "chat_id", name="uq_card_lead_chat"),
        # A manager's reply to a card names the message: the card is found by it.
        Index("ix_card_chat_message", "chat_id", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(ForeignKey("lead.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    chat_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    # Hash of the text and buttons last sent: an identical edit is skipped, not sent.
    content_hash: str = Field(default="", max_length=64)
    created_at: datetime = _now_column()
    updated_at: datetime = _now_column()


class ListedLead(SQLModel, table=True):
    """A lead shown in a chat as a line of a summary (a burst's, or reconcile's recovered
    leads) instead of a card: its reminder there replies to that message."""

    __tablename__ = "listed_lead"
    # One summary per lead and chat: a lead's first card is summarised once.
    __table_args__ = (UniqueConstraint("lead_id", "chat_id", name="uq_listed_lead_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(ForeignKey("lead.id", ondelete="CASCADE"), nullable=False)
    )
    chat_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    message_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    created_at: datetime = _now_column()


class ActionOutcome(StrEnum):
    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"


class Action(SQLModel, table=True):
    """Who did what to which lead, and what the external service answered."""

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(ForeignKey("lead.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    actor_name: str = ""
    outcome: str = Field(default=ActionOutcome.PENDING.value, max_length=16)
    detail: str = ""
    job_id: int | None = Field(default=None, index=True)
    requested_at: datetime = _now_column()
    finished_at: datetime | None = _utc_column()


class TelegramUpdate(SQLModel, table=True):
    """A Telegram update received by webhook, stored before the 200 and handled once."""

    __tablename__ = "telegram_update"

    update_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    payload: dict[str, Any] = _json_column()
    received_at: datetime = _now_column()
    # Indexed for the retention, which removes updates handled long ago.
    handled_at: datetime | None = _utc_column(index=True)


class ChatState(SQLModel, table=True):
    """Chats the bot may no longer write to (blocked, kicked), so it stops trying."""

    __tablename__ = "chat_state"

    chat_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    blocked: bool = False
    reason: str = ""
    updated_at: datetime = _now_column()


class Crm5Progress(SQLModel, table=True):
    """What the 5CRM deal button has made for a lead: a row per step done (`domain.crm5`),
    so a retried job or a second tap never makes one twice."""

    __tablename__ = "crm5_progress"

    lead_id: int = Field(
        sa_column=Column(ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True)
    )
    step: str = Field(primary_key=True, max_length=16)
    # The 5CRM manager it was credited to (none: no manager sent), so later steps agree.
    manager_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    # The id 5CRM answered with, if it sent one (the company's, for the contact).
    remote_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    done_at: datetime = _now_column()


class Crm5ManagerLink(SQLModel, table=True):
    """A Telegram manager's 5CRM account: deals they make are credited to it."""

    __tablename__ = "crm5_manager_link"

    telegram_id: int = Field(
        sa_column=Column(
            BigInteger(),
            ForeignKey("manager.telegram_id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    crm5_manager_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    crm5_manager_name: str = Field(default="", max_length=255)
    linked_by: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    linked_at: datetime = _now_column()


class PendingReply(SQLModel, table=True):
    """A question the bot asked a manager in a chat (a ForceReply: the note, a client's
    detail, an invoice's amount) and awaits the answer to, until `expires_at`. In the
    database, not in memory, so a restart between question and answer loses nothing. One
    per manager and chat: a new question replaces the old. (`ChatState` is per chat, shared
    by everyone in a group, so it cannot hold this.)"""

    __tablename__ = "pending_reply"

    chat_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    user_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    lead_id: int = Field(
        sa_column=Column(ForeignKey("lead.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    awaits: str = Field(max_length=16)
    prompt_message_id: int | None = Field(
        default=None, sa_column=Column(BigInteger(), nullable=True)
    )
    created_at: datetime = _now_column()
    expires_at: datetime = _now_column()


class ConsoleLogin(SQLModel, table=True):
    """A one-time link into the admin console: kept hashed, valid minutes, used once."""

    __tablename__ = "console_login"

    token_hash: str = Field(primary_key=True, max_length=64)
    # The admin who asked the bot for it; none when `leadrelay serve` made it at first run.
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    created_at: datetime = _now_column()
    expires_at: datetime = _now_column()
    used_at: datetime | None = _utc_column()


class ConsoleSite(SQLModel, table=True):
    """A Flexbe site added in the console (the TOML's are not stored). Its secrets are
    sealed (`config.sealing`): the database alone does not give them away."""

    __tablename__ = "console_site"

    key: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    webhook_token_sealed: str
    # After a rotation, the token replaced, still accepted until `previous_until`.
    previous_token_sealed: str | None = None
    previous_until: datetime | None = _utc_column()
    flexbe_api_url: str | None = Field(default=None, max_length=500)
    flexbe_api_key_sealed: str | None = None
    default_region: str | None = Field(default=None, max_length=2)
    working_hours: str | None = Field(default=None, max_length=500)
    sla_remind_after: str | None = Field(default=None, max_length=32)
    sla_escalate_after: str | None = Field(default=None, max_length=32)
    enabled: bool = True
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    created_at: datetime = _now_column()
    updated_at: datetime = _now_column()


# `ChatConnection.site_key` of a chat that gets every site's cards.
EVERY_SITE = "*"


class ChatConnection(SQLModel, table=True):
    """A chat (and in a forum, a topic of it) connected to a site from Telegram."""

    __tablename__ = "chat_connection"
    __table_args__ = (UniqueConstraint("chat_id", "site_key", name="uq_chat_connection"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    # A site's key, or EVERY_SITE.
    site_key: str = Field(max_length=32)
    topic: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    title: str = Field(default="", max_length=255)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    created_at: datetime = _now_column()


class ChatMove(SQLModel, table=True):
    """A group that Telegram turned into a supergroup, under a new id."""

    __tablename__ = "chat_move"

    old_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    new_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    moved_at: datetime = _now_column()


class SetupValue(SQLModel, table=True):
    """A setting made in the console or by the bot, beside the configuration: the bot token
    (sealed), the bot's username."""

    __tablename__ = "setup_value"

    name: str = Field(primary_key=True, max_length=64)
    value: str
    sealed: bool = False
    updated_at: datetime = _now_column()


class AdminLink(SQLModel, table=True):
    """A one-time `/start` link that makes whoever opens it an admin: kept hashed, valid a
    day, used once."""

    __tablename__ = "admin_link"

    code_hash: str = Field(primary_key=True, max_length=64)
    created_at: datetime = _now_column()
    expires_at: datetime = _now_column()
    used_by: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    used_at: datetime | None = _utc_column()


class SetupVersion(SQLModel, table=True):
    """One row, its `version` raised by every change of the stored set-up: each process
    polls it and reloads the set-up when it moved."""

    __tablename__ = "setup_version"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))


class TurnSite(SQLModel, table=True):
    """A site's turn (`assign:next`, `offer:`): its row is locked while a turn is picked, so
    workers pick one at a time; `picks` counts the turns taken, numbering them."""

    __tablename__ = "turn_site"

    site_key: str = Field(primary_key=True, max_length=32)
    picks: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))


class TurnCredit(SQLModel, table=True):
    """A manager's credit in a site's weighted round-robin: raised by their weight at each
    turn they are on shift for, lowered by the total when the turn is theirs."""

    __tablename__ = "turn_credit"

    site_key: str = Field(primary_key=True, max_length=32)
    manager_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    credit: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))


class LeadTurn(SQLModel, table=True):
    """Who got a lead's `step`-th hand-out in turn: one per lead and step, written with the
    credits' change, so a rerun finds it and takes no second turn."""

    __tablename__ = "lead_turn"
    __table_args__ = (UniqueConstraint("lead_id", "step", name="uq_lead_turn_step"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(ForeignKey("lead.id", ondelete="CASCADE"), nullable=False)
    )
    step: int
    site_key: str = Field(max_length=32)
    # The site's turn number (`TurnSite.picks`): the order the turns were taken in.
    number: int = Field(sa_column=Column(BigInteger(), nullable=False))
    manager_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    created_at: datetime = _now_column()
    # An offer's message in the manager's private chat (edited when the offer ends), and how
    # it ended (`domain.offers.OfferEnd`); None for an assignment, or while it is open.
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    outcome: str | None = Field(default=None, max_length=16)
