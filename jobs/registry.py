"""Which handler runs each kind of job, and with what options.

A kind is anything with a `name` (the stored `job.kind`) and a `parse` that reads a stored
payload back, raising `ValueError` when it cannot. The registry reads each job's payload
once, as its kind's: the handler, the rate-limit keys and the death hook all take that
typed payload. A payload that cannot be read fails its attempt, like any error of the
handler. `RawKind` is a kind whose payload is the stored dict itself.

During its handler, `current_job()` tells what else is known of the job (its attempt,
queue, dedupe key…), for the few handlers that care.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)


class Kind(Protocol[P_co]):
    """A kind of job as the engine needs it: its stored name and how its payload is read."""

    @property
    def name(self) -> str: ...

    def parse(self, raw: Mapping[str, Any], /) -> P_co: ...


@dataclass(frozen=True, slots=True)
class RawKind:
    """A kind whose handler takes the stored payload as it is."""

    name: str

    def parse(self, raw: Mapping[str, Any], /) -> dict[str, Any]:
        return dict(raw)


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


_running: ContextVar[JobContext] = ContextVar("jobs.running")


def current_job() -> JobContext:
    """The job whose handler is running here (`LookupError` outside a handler)."""
    return _running.get()


@contextlib.contextmanager
def running(context: JobContext) -> Iterator[None]:
    """`current_job()` is `context` inside (the worker wraps each handler's run in it)."""
    token = _running.set(context)
    try:
        yield
    finally:
        _running.reset(token)


Handler = Callable[[P], Awaitable[None]]
# The rate-limit keys a job consumes (see jobs.ratelimit), from its payload.
LimitKeysOf = Callable[[P], Sequence[str]]
# Told once that a job died because its attempts ran out, with the last error.
OnDead = Callable[[P, BaseException], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Registration(Generic[P]):
    kind: Kind[P]
    handler: Handler[P]
    # Overrides the job row's `max_attempts` for this kind when set.
    max_attempts: int | None = None
    limits: LimitKeysOf[P] | None = None
    # Seconds before the attempt is cancelled and counted as failed; None: no limit.
    timeout: float | None = None
    on_dead: OnDead[P] | None = None

    @property
    def name(self) -> str:
        return self.kind.name


class HandlerRegistry:
    """Kind → handler. A worker claims only the kinds registered with it."""

    def __init__(self) -> None:
        self._registrations: dict[str, Registration[Any]] = {}

    def register(
        self,
        kind: Kind[P],
        handler: Handler[P],
        *,
        max_attempts: int | None = None,
        limits: LimitKeysOf[P] | None = None,
        timeout: float | None = None,
        on_dead: OnDead[P] | None = None,
    ) -> None:
        if kind.name in self._registrations:
            raise ValueError(f"a handler for job kind {kind.name!r} is already registered")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._registrations[kind.name] = Registration(
            kind, handler, max_attempts, limits, timeout, on_dead
        )

    def handler(
        self,
        kind: Kind[P],
        *,
        max_attempts: int | None = None,
        limits: LimitKeysOf[P] | None = None,
        timeout: float | None = None,
        on_dead: OnDead[P] | None = None,
    ) -> Callable[[Handler[P]], Handler[P]]:
        """Decorator form of `register`."""

        def decorate(handler: Handler[P]) -> Handler[P]:
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

    def get(self, kind: str) -> Registration[Any]:
        return self._registrations[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._registrations

    def __iter__(self) -> Iterator[Registration[Any]]:
        return iter(self._registrations.values())

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._registrations)

    def max_attempts_overrides(self) -> dict[str, int]:
        return {r.name: r.max_attempts for r in self if r.max_attempts is not None}

    def limit_keys(self, kind: str, payload: dict[str, Any]) -> list[str]:
        """The kind's keys for this payload, plus any the payload lists under "limits"."""
        keys: list[str] = []
        registration = self._registrations.get(kind)
        if registration is not None and registration.limits is not None:
            try:
                keys.extend(registration.limits(registration.kind.parse(payload)))
            except (KeyError, TypeError, ValueError) as exc:
                # The handler will meet the same bad payload and fail it properly.
                log.warning("job kind %s: cannot tell its rate-limit keys: %r", kind, exc)
        extra = payload.get("limits") if isinstance(payload, dict) else None
        if isinstance(extra, list):
            keys.extend(key for key in extra if isinstance(key, str))
        return list(dict.fromkeys(keys))
