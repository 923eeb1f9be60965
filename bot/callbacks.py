"""Inline button payloads. Every one fits Telegram's 64-byte `callback_data` limit."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


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


class LeadAction(CallbackData, prefix="la"):
    act: Act
    lead_id: int


class LeadsPage(CallbackData, prefix="lp"):
    """A page of `/leads`: the period and the page's first lead id."""

    period: str
    before_id: int


class OpenLead(CallbackData, prefix="ol"):
    lead_id: int


class DeadJob(CallbackData, prefix="dj"):
    act: str  # "retry" or "discard"
    job_id: int
