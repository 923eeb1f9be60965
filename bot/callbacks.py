"""Inline button payloads. Every one fits Telegram's 64-byte `callback_data` limit."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from storage.ranges import INT64_MAX, Int32, Int64


class Act(StrEnum):
    TAKE = "take"
    PROCESSED = "st1"
    FULFILLED = "st2"
    CANCELLED = "st10"
    RESTORE = "rst"
    DEAL = "deal"
    CALL_NOW = "call"
    CALL_LATER = "call10"
    CALL_HOUR = "call60"
    CALL_MORNING = "callam"
    CANCEL_CALL = "uncall"
    RETRY = "retry"
    RELEASE = "rel"


class Page(StrEnum):
    """The card's keyboards: what a new lead needs, the rest, and the managers to assign."""

    MAIN = "main"
    MORE = "more"
    ASSIGN = "asg"


# A tapped button's data comes back from the client, which can send any: the ids are
# bounded as their columns are, so a forged one is simply no button (the filter does not
# match) instead of an integer the database cannot take.


class LeadAction(CallbackData, prefix="la"):
    act: Act
    lead_id: Int32


class Work(StrEnum):
    """Working on the lead in Flexbe: a note, the client's details, an invoice, a payment
    mark. NOTE, NAME, PHONE, EMAIL and INVOICE are also what a question awaits the answer
    to (`storage.models.PendingReply.awaits`)."""

    NOTE = "note"
    CLIENT = "client"
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    INVOICE = "inv"
    PAID = "paid"
    PAY_ERROR = "payerr"


class LeadWork(CallbackData, prefix="lw"):
    act: Work
    lead_id: Int32


class CardPage(CallbackData, prefix="cp"):
    """Show another of the card's keyboards in place (nothing changes but the buttons)."""

    page: Page
    lead_id: Int32


class AssignTo(CallbackData, prefix="as"):
    """An admin gives the lead to the manager with this Telegram id."""

    lead_id: Int32
    manager_id: Int64


class LeadsPage(CallbackData, prefix="lp"):
    """A list of leads posted as a new message (a recovery summary's button): the period
    and the id the list starts below."""

    period: str
    before_id: Int32


class LeadsNav(CallbackData, prefix="ln"):
    """Turns a `/leads` list's page in place: the period, `subset` ("", "mine" or a site
    key, at most 32 characters), and the leads just older than `cursor`, or just newer
    with `newer`. At most 58 bytes."""

    period: str
    subset: str
    cursor: Int32
    newer: bool


class OpenLead(CallbackData, prefix="ol"):
    lead_id: Int32


class DeadJob(CallbackData, prefix="dj"):
    act: str  # "retry" or "discard"
    job_id: Int32


# A site's key in a button (`config.sites`' pattern), or EVERY_SITE ("*") for all sites.
SiteInButton = Annotated[str, Field(pattern=r"^(\*|[a-z0-9][a-z0-9_-]{0,31})$")]


# A forum topic's id (`message_thread_id`), 0 for none.
ForumTopic = Annotated[int, Field(ge=0, le=INT64_MAX)]


class ChatLinkChoice(CallbackData, prefix="cn"):
    """A site tapped under "which sites to send here" (`bot.handlers.chats`): `topic` is the
    forum topic the question was asked in, 0 for none."""

    site: SiteInButton
    topic: ForumTopic = 0


class LostReason(CallbackData, prefix="lr"):
    """The reason tapped when a lead is set to Cancelled: its place in the site's
    `lost_reasons` (the text may be too long for the 64 bytes), checked against the list
    when tapped, so a forged one is refused in words."""

    lead_id: Int32
    index: Int32


class OfferAnswer(CallbackData, prefix="of"):
    """A manager's answer to an offer (`bot.offers`): the lead, which of its hand-outs the
    offer was (a tap on an older one is refused in words), Accept or Pass."""

    lead_id: Int32
    step: Int32
    accept: bool
