"""How a handler's outcome becomes the job's next state: done, retry, postpone or dead.

The rule for attempts: a failed attempt uses one of `max_attempts` and is retried after an
exponential, jittered backoff. A postponement (`RetryLater`, or an error that says when to
come back via `retry_after`) is the service pacing us, not the job failing: it uses no
attempt, but after `max_postponements` of them it counts as a failure again, so a job
cannot be postponed forever.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from jobs.errors import PermanentFailure, RetryLater

MAX_ERROR_CHARS = 2000
MAX_POSTPONEMENTS = 100


class Verdict(StrEnum):
    DONE = "done"
    RETRY = "retry"
    POSTPONE = "postpone"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Backoff:
    """`base * factor ** (attempt - 1)` seconds, capped, then spread by ± `jitter` of itself.

    The spread keeps jobs that failed together (a service outage) from retrying together.
    """

    base: float = 2.0
    factor: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.25

    def delay(self, attempt: int, rand: float) -> float:
        """`rand` is uniform in [0, 1): 0.5 gives the delay without jitter."""
        exponent = min(max(attempt - 1, 0), 64)  # past the cap anyway; avoids overflow
        raw = min(self.cap, self.base * self.factor**exponent)
        return max(0.0, raw * (1.0 + self.jitter * (2.0 * rand - 1.0)))


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    run_at: datetime | None = None
    error: str | None = None
    # Dead because its attempts ran out (not because it could never succeed).
    exhausted: bool = False


def decide(
    error: BaseException | None,
    *,
    attempt: int,
    max_attempts: int,
    postponements: int,
    now: datetime,
    backoff: Backoff,
    rand: float,
    max_postponements: int = MAX_POSTPONEMENTS,
) -> Decision:
    """The next state of a job whose attempt number `attempt` ended with `error`."""
    if error is None:
        return Decision(Verdict.DONE)
    text = describe(error)
    if isinstance(error, PermanentFailure) or getattr(error, "retryable", True) is False:
        return Decision(Verdict.DEAD, error=text)
    delay = _asked_delay(error)
    if delay is not None and postponements < max_postponements:
        return Decision(Verdict.POSTPONE, now + timedelta(seconds=delay), text)
    if attempt >= max_attempts:
        return Decision(Verdict.DEAD, error=text, exhausted=True)
    wait = backoff.delay(attempt, rand)
    if delay is not None:
        wait = max(wait, delay)
    return Decision(Verdict.RETRY, now + timedelta(seconds=wait), text)


def _asked_delay(error: BaseException) -> float | None:
    """Seconds the handler or the service asked us to wait, if it did."""
    value = error.delay if isinstance(error, RetryLater) else getattr(error, "retry_after", None)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return max(0.0, float(value))


def describe(error: BaseException) -> str:
    message = str(error)
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:MAX_ERROR_CHARS]
