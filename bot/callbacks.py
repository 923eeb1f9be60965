"""Inline button payloads. Every one fits Telegram's 64-byte `callback_data` limit."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from storage.ranges import Int32


class Act(StrEnum):
    TAKE = "take"
    PROCESSED = "st1"
    FULFILLED = "st2"
    CANCELLED = "st10"
    RESTORE = "rst"
    DEAL = "deal"
    CALL_NOW = "call"
    CALL_LATER = "call10"
    CANCEL_CALL = "uncall"
    RETRY = "retry"


# A tapped button's data comes back from the client, which can send any: the ids are
# bounded as their columns are, so a forged one is simply no button (the filter does not
# match) instead of an integer the database cannot take.


class LeadAction(CallbackData, prefix="la"):
    act: Act
    lead_id: Int32


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
