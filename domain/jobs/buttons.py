"""Buttons and edits: a card button's call out (Flexbe, 5CRM, Comunik8) and a manager's edit
of a lead in Flexbe. Their keys guard against a second deal, call or change for ever, so
retention keeps their done jobs."""

from __future__ import annotations

from dataclasses import dataclass

from domain.jobs.kind import JobKind
from domain.jobs.payload import PayloadError, StoredPayload, left_out_when_none

# A button's call out ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionPayload(StoredPayload):
    """A card button's external call. `action` is the action log's name of it
    (`status:2`, `deal`, `call:600`, `call:@1767340800`, `uncall`); `action_id` its row
    there, added once the job exists. `status` is for a Flexbe status change; for a call,
    `delay` (seconds) as asked, and `call_at` (Unix seconds) the moment it should ring,
    from which the job counts the dialler's delay when it runs. (Stored in this order.)"""

    lead_id: int
    site: str = ""
    actor: int | None = None
    status: int | None = left_out_when_none()
    delay: int | None = left_out_when_none()
    action: str = ""
    action_id: int | None = left_out_when_none()
    call_at: int | None = left_out_when_none()
    # A change to Cancelled: the reason picked (`Lead.lost_reason`; none: no reason given)
    # and the line it appends to the lead's Flexbe note, in the words of its button.
    lost_reason: str | None = left_out_when_none()
    note: str | None = left_out_when_none()

    def new_status(self) -> int:
        if self.status is None:
            raise PayloadError("job payload has no 'status'")
        return self.status


@dataclass(frozen=True, slots=True)
class NotedAction(ActionPayload):
    """A button's call out that appends to the lead's note (Cancelled with its reason): it
    runs on the lead's queue, in turn with its note edits, so neither line is lost. Stored
    as an `ActionPayload`, which it reads back as."""

    @property
    def queue(self) -> str:
        return lead_queue(self.lead_id)


FLEXBE_STATUS = JobKind(
    "flexbe.status", ActionPayload, pruned_after_retention=False, needs_bot=False
)
CRM5_DEAL = JobKind("crm5.deal", ActionPayload, pruned_after_retention=False, needs_bot=False)
CALL = JobKind("comunik8.call", ActionPayload, pruned_after_retention=False, needs_bot=False)
CANCEL_CALL = JobKind(
    "comunik8.cancel", ActionPayload, pruned_after_retention=False, needs_bot=False
)


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


# A manager's edit of a lead -----------------------------------------------------------------

LEAD_QUEUE_PREFIX = "lead:"


def lead_queue(lead_id: int) -> str:
    """One lead's edits in Flexbe run in order: a note appended after another keeps both."""
    return f"{LEAD_QUEUE_PREFIX}{lead_id}"


@dataclass(frozen=True, slots=True)
class LeadEditPayload(StoredPayload):
    """A manager's edit of a lead in Flexbe (`changeLead`): a note line to append, client
    details, an invoice or a payment state. Only the fields given are sent (and stored).
    `action` is the action log's name of it (`note`, `client:phone`, `invoice`, `pay:2`);
    `action_id` its row there, added once the job exists."""

    lead_id: int
    site: str = ""
    actor: int | None = None
    action: str = ""
    note: str | None = left_out_when_none()
    client_name: str | None = left_out_when_none()
    client_phone: str | None = left_out_when_none()
    client_email: str | None = left_out_when_none()
    pay_summ: str | None = left_out_when_none()
    pay_status: int | None = left_out_when_none()
    pay_desc: str | None = left_out_when_none()
    action_id: int | None = left_out_when_none()

    @property
    def queue(self) -> str:
        return lead_queue(self.lead_id)

    def as_action(self) -> ActionPayload:
        """The edit as the action log sees it: who asked, for which lead, under which row."""
        return ActionPayload(
            lead_id=self.lead_id,
            site=self.site,
            actor=self.actor,
            action=self.action,
            action_id=self.action_id,
        )


# Their keys name the Telegram message or the lead's version that asked, so a repeated reply
# or a double tap is one change for ever.
FLEXBE_NOTE = JobKind("flexbe.note", LeadEditPayload, pruned_after_retention=False, needs_bot=False)
FLEXBE_CLIENT = JobKind(
    "flexbe.client", LeadEditPayload, pruned_after_retention=False, needs_bot=False
)
FLEXBE_INVOICE = JobKind(
    "flexbe.invoice", LeadEditPayload, pruned_after_retention=False, needs_bot=False
)
FLEXBE_PAY = JobKind("flexbe.pay", LeadEditPayload, pruned_after_retention=False, needs_bot=False)
LEAD_EDIT_KINDS: tuple[JobKind[LeadEditPayload], ...] = (
    FLEXBE_NOTE,
    FLEXBE_CLIENT,
    FLEXBE_INVOICE,
    FLEXBE_PAY,
)


def answer_edit_key(chat_id: int, message_id: int) -> str:
    """One edit per Telegram message that carried it (a note, a client's detail, an
    invoice): the same message delivered again changes nothing, whichever lead it names."""
    return f"flexbe.edit:{chat_id}:{message_id}"


def pay_status_key(lead_id: int, status: int, version: int) -> str:
    """One payment mark per version of the lead: a tap after a change is new."""
    return f"flexbe.pay:{lead_id}:{status}:v{version}"
