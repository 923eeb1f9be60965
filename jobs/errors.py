"""What a handler raises to steer its job.

Any other exception is a failed attempt, retried with backoff. An exception carrying
`retryable = False` (the integrations' business failures) makes the job dead at once; one
carrying `retry_after` seconds (aiogram's `TelegramRetryAfter`, an HTTP `Retry-After`,
Flexbe's rate-limit error) postpones it. They are read with getattr, so this package
imports no client library.
"""

from __future__ import annotations


class RetryLater(Exception):
    """Run the job again after `delay` seconds; a postponement, not a failed attempt."""

    def __init__(self, delay: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {delay:.1f} s")
        self.delay = delay
        self.reason = reason


class PermanentFailure(Exception):
    """Trying again cannot help: the job is dead at once, with this reason."""
