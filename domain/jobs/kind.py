"""What a job kind declares: its stored name, its payload, whether retention prunes its done
jobs and whether only the bot runs it; and the chats' queues."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from domain.jobs.payload import StoredPayload, check_payload_type


class Payload(Protocol):
    def dump(self) -> dict[str, Any]: ...


@runtime_checkable
class Queued(Protocol):
    """A payload whose jobs run in order on one queue (a chat's messages)."""

    @property
    def queue(self) -> str: ...


P = TypeVar("P", bound=StoredPayload)


@dataclass(frozen=True, slots=True)
class JobKind(Generic[P]):
    """`name` is the stored `job.kind`; `payload` the class its stored payload reads back
    as. `pruned_after_retention`: whether its done jobs may be pruned (why each is safe or
    not is argued in `actions.retention`). `needs_bot`: whether it runs only with Telegram
    configured (the worker registers it then)."""

    name: str
    payload: type[P]
    pruned_after_retention: bool
    needs_bot: bool

    def __post_init__(self) -> None:
        check_payload_type(self.payload)

    def parse(self, raw: Mapping[str, Any]) -> P:
        """The stored payload read back; `PayloadError` if it cannot be."""
        return self.payload.parse(raw)


TELEGRAM_QUEUE_PREFIX = "tg:"


def telegram_queue(chat_id: int) -> str:
    """One chat's messages go out in order: one queue per chat."""
    return f"{TELEGRAM_QUEUE_PREFIX}{chat_id}"


class ToChat(StoredPayload):
    """A message to chat `chat_id`: its jobs run in order on that chat's queue."""

    __slots__ = ()
    chat_id: int

    @property
    def queue(self) -> str:
        return telegram_queue(self.chat_id)


# `job.dedupe_key` is a VARCHAR(255).
DEDUPE_KEY_LENGTH = 255


def cut_key(key: str) -> str:
    """A key with a free-form part, cut to fit the column."""
    return key[:DEDUPE_KEY_LENGTH]


def slot(now: datetime, interval: timedelta) -> int:
    """The number of the interval `now` falls in: one scheduled job per slot."""
    return int(now.timestamp() // interval.total_seconds())
