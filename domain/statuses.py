"""Flexbe's lead and payment statuses: each code named once, with the name Flexbe gives it."""

from __future__ import annotations

from enum import IntEnum


class LeadStatus(IntEnum):
    NEW = 0
    PROCESSED = 1
    FULFILLED = 2
    CANCELLED = 10
    DELETED = 11


# The statuses a card's buttons (and a speed-to-lead rule) may set: a lead is never deleted
# from here.
SETTABLE_STATUSES = frozenset(
    {LeadStatus.NEW, LeadStatus.PROCESSED, LeadStatus.FULFILLED, LeadStatus.CANCELLED}
)


class PayStatus(IntEnum):
    PENDING = 0
    IN_PROCESS = 1
    PAID = 2
    ERROR = 3


# Flexbe's names of its statuses, as its admin shows them: a status sent as the code alone
# gets its name here, so both shapes store the same lead.
LEAD_STATUS_NAMES: dict[int, str] = {
    LeadStatus.NEW: "Новый",
    LeadStatus.PROCESSED: "Обработан",
    LeadStatus.FULFILLED: "Выполнен",
    LeadStatus.CANCELLED: "Отменен",
    LeadStatus.DELETED: "Удален",
}
PAY_STATUS_NAMES: dict[int, str] = {
    PayStatus.PENDING: "Ожидает оплаты",
    PayStatus.IN_PROCESS: "В процессе",
    PayStatus.PAID: "Оплачен",
    PayStatus.ERROR: "Ошибка оплаты",
}
