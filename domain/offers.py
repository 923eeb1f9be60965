"""Offers of an `offer:<window>` rule: a lead offered to one manager at a time, in turn,
who accepts it or passes; the action log's names of each step, and how an offer ends.

An offer is open on the lead (`Lead.offer_to`) until its manager accepts (the lead is
theirs), passes, lets the window run out, cannot be written to, or someone else gets the
lead meanwhile (an admin assigns it). Then the next manager on shift who has not had it in
this round is offered it; after everyone has, the lead goes to the group's card for anyone
to take, and the admins are told."""

from __future__ import annotations

from enum import StrEnum

# The log's kinds; each is a change of who may have the lead, not an action on it (the
# speed-to-lead figures and the take-back wait do not count them as one).
OFFER = "offer"
OFFER_ACCEPT = "offer_accept"
OFFER_PASS = "offer_pass"
OFFER_EXPIRED = "offer_expired"
OFFER_TO_GROUP = "offer_to_group"
OFFER_ACTIONS = frozenset({OFFER, OFFER_ACCEPT, OFFER_PASS, OFFER_EXPIRED, OFFER_TO_GROUP})


class OfferEnd(StrEnum):
    """How one offer ended (`LeadTurn.outcome`)."""

    ACCEPTED = "accepted"
    PASSED = "passed"
    EXPIRED = "expired"
    # The manager's chat cannot be written to (they never opened the bot, or blocked it).
    UNREACHABLE = "unreachable"
    # The lead was given or taken otherwise while the offer was open.
    WITHDRAWN = "withdrawn"
