"""Which handler runs each kind of job, and with what options."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler may want to know about the job it runs, besides its payload."""

    job_id: int
    kind: str
    attempt: int  # from 1
    max_attempts: int
    queue: str | None
    dedupe_key: str
    enqueued_at: datetime
    worker: str

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


Payload = dict[str, Any]
Handler = Callable[[Payload, JobContext], Awaitable[None]]
LimitKeysOf = Callable[[Payload], Sequence[str]]
# Told once that a job died because its attempts ran out, with the last error.
OnDead = Callable[[Payload, BaseException], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Registration:
    kind: str
    handler: Handler
    # Overrides the job row's `max_attempts` for this kind when set.
    max_attempts: int | None = None
    # The rate-limit keys a job consumes (see jobs.ratelimit), from its payload.
    limits: LimitKeysOf | None = None
    # Seconds before the attempt is cancelled and counted as failed; None: no limit.
    timeout: float | None = None
    on_dead: OnDead | None = None


class HandlerRegistry:
    """Kind → handler. A worker claims only the kinds registered with it."""

    def __init__(self) -> None:
        self._registrations: dict[str, Registration] = {}

    def register(
        self,
        kind: str,
        handler: Handler,
        *,
        max_attempts: int | None = None,
        limits: LimitKeysOf | None = None,
        timeout: float | None = None,
        on_dead: OnDead | None = None,
    ) -> None:
        if kind in self._registrations:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._registrations[kind] = Registration(
            kind, handler, max_attempts, limits, timeout, on_dead
        )

    def handler(
        self,
        kind: str,
        *,
        max_attempts: int | None = None,
        limits: LimitKeysOf | None = None,
        timeout: float | None = None,
        on_dead: OnDead | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""

        def decorate(handler: Handler) -> Handler:
            self.register(
                kind,
                handler,
                max_attempts=max_attempts,
                limits=limits,
                timeout=timeout,
                on_dead=on_dead,
            )
            return handler

        return decorate

    def get(self, kind: str) -> Registration:
        return self._registrations[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._registrations

    def __iter__(self) -> Iterator[Registration]:
        return iter(self._registrations.values())

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._registrations)

    def max_attempts_overrides(self) -> dict[str, int]:
        return {r.kind: r.max_attempts for r in self if r.max_attempts is not None}

    def limit_keys(self, kind: str, payload: Payload) -> list[str]:
        """The kind's keys for this payload, plus any the payload lists under "limits"."""
        keys: list[str] = []
        registration = self._registrations.get(kind)
        if registration is not None and registration.limits is not None:
            try:
                keys.extend(registration.limits(payload))
            except (KeyError, TypeError, ValueError) as exc:
                # The handler will meet the same bad payload and fail it properly.
                log.warning("job kind %s: cannot tell its rate-limit keys: %r", kind, exc)
        extra = payload.get("limits") if isinstance(payload, dict) else None
        if isinstance(extra, list):
            keys.extend(key for key in extra if isinstance(key, str))
        return list(dict.fromkeys(keys))
