"""The words the console shows for the domain's codes, in the visitor's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from console.i18n import N_
from domain.statuses import LeadStatus
from storage.models import InboxEvent, InboxOutcome, LeadOrigin

MAX_RAW_SHOWN = 64 * 1024

STATUS_WORDS: dict[int, str] = {
    LeadStatus.NEW: N_("New"),
    LeadStatus.PROCESSED: N_("Processed"),
    LeadStatus.FULFILLED: N_("Fulfilled"),
    LeadStatus.CANCELLED: N_("Cancelled"),
    LeadStatus.DELETED: N_("Deleted"),
}
ORIGIN_WORDS: dict[str, str] = {
    LeadOrigin.WEBHOOK: N_("webhook"),
    LeadOrigin.RECOVERED: N_("recovered"),
    LeadOrigin.SYNC: N_("sync"),
}
OUTCOME_WORDS: dict[str, str] = {
    InboxOutcome.ACCEPTED: N_("accepted"),
    InboxOutcome.DUPLICATE: N_("duplicate"),
    InboxOutcome.REJECTED: N_("rejected"),
    InboxOutcome.IGNORED: N_("ignored"),
}


@dataclass(frozen=True, slots=True)
class Choice:
    code: int
    label: str


@dataclass(frozen=True, slots=True)
class OriginChoice:
    value: str
    label: str


class Labels:
    def __init__(self, gettext: Callable[[str], str]) -> None:
        self.gettext = gettext

    def status(self, code: int) -> str:
        word = STATUS_WORDS.get(code)
        return self.gettext(word) if word else str(code)

    def origin(self, value: str) -> str:
        word = ORIGIN_WORDS.get(value)
        return self.gettext(word) if word else value

    def outcome(self, value: str) -> str:
        word = OUTCOME_WORDS.get(value)
        return self.gettext(word) if word else value

    def statuses(self) -> list[Choice]:
        return [Choice(int(code), self.gettext(word)) for code, word in STATUS_WORDS.items()]

    def origins(self) -> list[OriginChoice]:
        return [
            OriginChoice(str(value), self.gettext(word)) for value, word in ORIGIN_WORDS.items()
        ]

    def functions(self) -> dict[str, Callable[..., str]]:
        return {
            "status_label": self.status,
            "origin_label": self.origin,
            "outcome_label": self.outcome,
            "raw": raw_body,
        }


def raw_body(event: InboxEvent) -> str:
    """The body as received, as text (undecodable bytes shown as escapes), bounded."""
    shown = event.body[:MAX_RAW_SHOWN].decode("utf-8", "backslashreplace")
    return shown + (" …" if len(event.body) > MAX_RAW_SHOWN else "")
