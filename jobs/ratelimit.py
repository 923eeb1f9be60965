"""Rate limits as GCRA ("generic cell rate algorithm") arithmetic.

A key's state is one number, its theoretical arrival time (`tat`, Unix seconds): a call is
allowed at `now` when `now >= tat - tolerance`, and moves `tat` to `max(tat, now) +
interval`. One number per key is what lets the state live in one database row that every
worker process updates in its claim transaction (see `jobs.buckets`). Which keys a job
spends is its registration's (`jobs.registry`), which rate a key has the `RateLimits` the
worker is given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` calls per `per` seconds, of which `burst` may come back to back."""

    count: int
    per: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or self.per <= 0 or self.burst < 1:
            raise ValueError("a rate needs count >= 1, per > 0 and burst >= 1")

    @property
    def interval(self) -> float:
        return self.per / self.count

    @property
    def tolerance(self) -> float:
        return self.interval * (self.burst - 1)


def wait_until(tat: float, now: float, rate: Rate) -> float | None:
    """None if a call is allowed at `now`; otherwise the earliest time it will be."""
    earliest = tat - rate.tolerance
    return None if now >= earliest else earliest


def consume(tat: float, now: float, rate: Rate) -> float:
    """The key's new `tat` after a call at `now`."""
    return max(tat, now) + rate.interval


class RateLimits(Protocol):
    """Which rate applies to a key; None: the key is not limited."""

    def rate_for(self, key: str, /) -> Rate | None: ...


@dataclass(frozen=True, slots=True)
class RateTable:
    """`rates` maps exact keys, or prefixes ending in ":", to their rates: an exact key
    first, then the first prefix that matches. A key it does not name is not limited."""

    rates: Mapping[str, Rate] = field(default_factory=dict)

    def rate_for(self, key: str, /) -> Rate | None:
        if key in self.rates:
            return self.rates[key]
        for prefix, rate in self.rates.items():
            if prefix.endswith(":") and key.startswith(prefix):
                return rate
        return None


@dataclass(slots=True)
class Admission:
    """Which of a claim's candidates may start now, and when the others' turns come."""

    allowed: list[int] = field(default_factory=list)
    deferred: dict[int, float] = field(default_factory=dict)
    tats: dict[str, float] = field(default_factory=dict)


_unknown_keys: set[str] = set()


def admit(
    requests: list[tuple[int, list[str]]],
    tats: Mapping[str, float],
    limits: RateLimits,
    now: float,
) -> Admission:
    """Go through `(job id, keys)` in order, letting each job start if all its keys allow.

    A job that must wait is deferred to when its keys allow it; the n-th job this round
    that waits on a key goes n intervals later, so waiting jobs do not all wake together.
    `tats` holds the current state of every key involved; `Admission.tats` the changed ones.
    """
    state = dict(tats)
    admission = Admission()
    waiting: dict[str, int] = {}
    for job_id, keys in requests:
        rated = []
        for key in keys:
            rate = limits.rate_for(key)
            if rate is not None:
                rated.append((key, rate))
            elif key not in _unknown_keys:
                _unknown_keys.add(key)
                log.warning("no rate limit is configured for key %r; not limiting it", key)
        blocked = []
        for key, rate in rated:
            earliest = wait_until(state.get(key, 0.0), now, rate)
            if earliest is not None:
                blocked.append(earliest + waiting.get(key, 0) * rate.interval)
                waiting[key] = waiting.get(key, 0) + 1
        if blocked:
            admission.deferred[job_id] = max(blocked)
            continue
        for key, rate in rated:
            state[key] = admission.tats[key] = consume(state.get(key, 0.0), now, rate)
        admission.allowed.append(job_id)
    return admission
