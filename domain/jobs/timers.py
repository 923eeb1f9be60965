"""Timers: a lead's SLA reminder and escalation, a chat's daily digest, a new lead's
rules and a taken lead's take-back, and the messages they send.

A timer is not on a chat's queue (a future job at a queue's head would hold the chat's
cards back): when it runs and still applies, it enqueues its messages (or actions). A done
timer is history (its lead or day has passed), and a pruned key is never enqueued again (a
reminder is enqueued with a lead's first card, a digest for a day ahead, the rules with a
new lead, which is new once).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.jobs.kind import JobKind, ToChat
from domain.jobs.payload import StoredPayload

# A lead's timers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeadTimerPayload(StoredPayload):
    """`sla.remind`, `sla.escalate`: a lead's timer, due after its wait in working time;
    `rules.apply`: a new lead's speed-to-lead rules, due at once."""

    lead_id: int


SLA_REMIND = JobKind("sla.remind", LeadTimerPayload, pruned_after_retention=True, needs_bot=True)
SLA_ESCALATE = JobKind(
    "sla.escalate", LeadTimerPayload, pruned_after_retention=True, needs_bot=True
)
# The actions the rules enqueue keep their own keys for ever.
RULES_APPLY = JobKind("rules.apply", LeadTimerPayload, pruned_after_retention=True, needs_bot=True)


def sla_remind_key(lead_id: int) -> str:
    """A lead's one reminder timer."""
    return f"sla.remind:{lead_id}"


def sla_escalate_key(lead_id: int) -> str:
    """A lead's one escalation timer."""
    return f"sla.escalate:{lead_id}"


def rules_key(lead_id: int) -> str:
    """A lead's one application of its site's rules."""
    return f"rules:{lead_id}"


@dataclass(frozen=True, slots=True)
class LeadMessagePayload(ToChat):
    """`telegram.sla_reminder` (a reply to the lead's card in `chat_id`) and
    `telegram.sla_alert` (an alert to admin `chat_id`)."""

    chat_id: int
    lead_id: int


SLA_REMINDER = JobKind(
    "telegram.sla_reminder", LeadMessagePayload, pruned_after_retention=True, needs_bot=True
)
SLA_ALERT = JobKind(
    "telegram.sla_alert", LeadMessagePayload, pruned_after_retention=True, needs_bot=True
)


def sla_reminder_key(lead_id: int, chat_id: int) -> str:
    """The reminder's one reply in one chat."""
    return f"sla.remind:{lead_id}:{chat_id}"


def sla_alert_key(lead_id: int, admin: int) -> str:
    """The escalation's one alert to one admin."""
    return f"sla.escalate:{lead_id}:{admin}"


# The daily digest ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestPayload(StoredPayload):
    """`digest` (the timer, unqueued) and `telegram.digest` (the message): chat
    `chat_id`'s digest of local working day `day` (ISO date), sent the next working day."""

    chat_id: int
    day: str


@dataclass(frozen=True, slots=True)
class DigestMessagePayload(DigestPayload, ToChat):
    """The digest as a message: on the chat's queue."""


DIGEST = JobKind("digest", DigestPayload, pruned_after_retention=True, needs_bot=True)
DIGEST_MESSAGE = JobKind(
    "telegram.digest", DigestMessagePayload, pruned_after_retention=True, needs_bot=True
)


def digest_key(chat_id: int, day: str) -> str:
    """A chat's one digest of one working day (`day`: ISO date)."""
    return f"digest:{chat_id}:{day}"


def digest_message_key(chat_id: int, day: str) -> str:
    return f"digest:{chat_id}:{day}:message"


# A lead handed out in turn -----------------------------------------------------------------

# `telegram.nobody_on_shift`: an alert to admin `chat_id` that a rule's `assign:next` found
# nobody on shift, and the lead stays in the group's card.
NOBODY_ON_SHIFT = JobKind(
    "telegram.nobody_on_shift", LeadMessagePayload, pruned_after_retention=True, needs_bot=True
)


def nobody_on_shift_key(lead_id: int, admin: int) -> str:
    """The one alert to one admin that nobody was on shift for the lead."""
    return f"nobody_on_shift:{lead_id}:{admin}"


# Take-back --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakeBackPayload(StoredPayload):
    """`take_back`: lead `lead_id`, taken by or given to `owner_id` (action `taking` of the
    log), goes back to the pool if its owner has done nothing on it when this is due."""

    lead_id: int
    owner_id: int
    taking: int


TAKE_BACK = JobKind("take_back", TakeBackPayload, pruned_after_retention=True, needs_bot=True)


def take_back_key(lead_id: int, taking: int) -> str:
    """One wait per taking: a lead taken again starts a new one."""
    return f"take_back:{lead_id}:{taking}"


@dataclass(frozen=True, slots=True)
class RedistributePayload(StoredPayload):
    """`rules.redistribute`: lead `lead_id` was taken back from `owner_id` (action
    `taken_back` of the log); if its site's rule hands leads out in turn (`assign:next`,
    `offer:`), it is handed out again, to anyone but the former owner."""

    lead_id: int
    owner_id: int
    taken_back: int


RULES_REDISTRIBUTE = JobKind(
    "rules.redistribute", RedistributePayload, pruned_after_retention=True, needs_bot=True
)


def redistribute_key(lead_id: int, taken_back: int) -> str:
    """One hand-out again per take-back."""
    return f"rules:{lead_id}:again:{taken_back}"


@dataclass(frozen=True, slots=True)
class TakeBackMessagePayload(ToChat):
    """`telegram.take_back`: chat `chat_id` (the former owner `owner_id`, or an admin) is
    told that lead `lead_id` was taken back (action `action_id` of the log)."""

    chat_id: int
    lead_id: int
    owner_id: int
    action_id: int


TAKE_BACK_MESSAGE = JobKind(
    "telegram.take_back", TakeBackMessagePayload, pruned_after_retention=True, needs_bot=True
)


def take_back_message_key(lead_id: int, taking: int, chat_id: int) -> str:
    """The take-back's one message to one chat."""
    return f"take_back:{lead_id}:{taking}:{chat_id}"


# Offers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferPayload(StoredPayload):
    """`offer.expire`: the window of lead `lead_id`'s `step`-th hand-out (an offer) runs
    out; the next manager is offered it if that offer is still open."""

    lead_id: int
    step: int


OFFER_EXPIRE = JobKind("offer.expire", OfferPayload, pruned_after_retention=True, needs_bot=True)


def offer_expire_key(lead_id: int, step: int) -> str:
    """One window per offer."""
    return f"offer:{lead_id}:{step}"


@dataclass(frozen=True, slots=True)
class OfferNextPayload(OfferPayload):
    """`offer.next`: the `step`-th offer was passed; the next manager of the round begun at
    hand-out `first_step` is offered the lead, for `window` seconds of working time (on the
    worker, whose clock the windows are counted by)."""

    first_step: int
    window: int


OFFER_NEXT = JobKind("offer.next", OfferNextPayload, pruned_after_retention=True, needs_bot=True)


def offer_next_key(lead_id: int, step: int) -> str:
    """After an offer passed, one next offer."""
    return f"offer:{lead_id}:{step}:next"


@dataclass(frozen=True, slots=True)
class OfferMessagePayload(ToChat):
    """`telegram.offer`: the offer of lead `lead_id`'s `step`-th hand-out to manager
    `chat_id`, with Accept and Pass; `telegram.offer_ended`: that message, edited to say how
    the offer ended."""

    chat_id: int
    lead_id: int
    step: int


OFFER_MESSAGE = JobKind(
    "telegram.offer", OfferMessagePayload, pruned_after_retention=True, needs_bot=True
)
OFFER_ENDED = JobKind(
    "telegram.offer_ended", OfferMessagePayload, pruned_after_retention=True, needs_bot=True
)


def offer_message_key(lead_id: int, step: int) -> str:
    """The offer's one message."""
    return f"offer:{lead_id}:{step}:message"


def offer_ended_key(lead_id: int, step: int) -> str:
    """The offer's message edited once, when it ends."""
    return f"offer:{lead_id}:{step}:ended"


# `telegram.offer_alert`: an alert to admin `chat_id` that everyone on shift had the lead's
# offer (or nobody was on shift for it), and it waits in the group's card.
OFFER_ALERT = JobKind(
    "telegram.offer_alert", LeadMessagePayload, pruned_after_retention=True, needs_bot=True
)


def offer_alert_key(lead_id: int, first_step: int, admin: int) -> str:
    """One alert per admin and round of offers (a lead taken back is offered again)."""
    return f"offer_alert:{lead_id}:{first_step}:{admin}"
