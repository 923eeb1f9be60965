"""What becomes of a job after each attempt: the backoff schedule and the error rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage

from integrations.errors import APIConnectionError, APIStatusError
from integrations.flexbe import InvalidApiKey, RateLimited
from jobs.errors import PermanentFailure, RetryLater
from jobs.policy import Backoff, Decision, Verdict, decide
from tests.jobs.conftest import START

BACKOFF = Backoff(base=2.0, factor=2.0, cap=60.0, jitter=0.25)


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = [BACKOFF.delay(attempt, rand=0.5) for attempt in range(1, 9)]

    assert delays == [2, 4, 8, 16, 32, 60, 60, 60]


def test_jitter_spreads_each_delay_within_its_bounds() -> None:
    assert BACKOFF.delay(3, rand=0.0) == pytest.approx(6.0)
    assert BACKOFF.delay(3, rand=0.999999) == pytest.approx(10.0, abs=1e-4)
    assert BACKOFF.delay(1000, rand=0.5) == 60.0  # no overflow far past the cap


def _decide(
    error: BaseException | None, *, attempt: int = 1, max_attempts: int = 5, postponed: int = 0
) -> Decision:
    return decide(
        error,
        attempt=attempt,
        max_attempts=max_attempts,
        postponements=postponed,
        now=START,
        backoff=BACKOFF,
        rand=0.5,
        max_postponements=3,
    )


def test_success_is_done() -> None:
    assert _decide(None).verdict is Verdict.DONE


def test_an_ordinary_error_is_retried_after_the_backoff() -> None:
    decision = _decide(RuntimeError("boom"), attempt=3)

    assert decision.verdict is Verdict.RETRY
    assert decision.run_at == START + timedelta(seconds=8)
    assert decision.error == "RuntimeError: boom"


def test_the_last_attempt_makes_the_job_dead() -> None:
    decision = _decide(RuntimeError("boom"), attempt=5, max_attempts=5)

    assert decision.verdict is Verdict.DEAD
    assert decision.exhausted


@pytest.mark.parametrize(
    "error",
    [
        PermanentFailure("no such lead"),
        InvalidApiKey("bad key"),
        APIStatusError("400", status_code=400, body=""),
    ],
    ids=["permanent", "flexbe-invalid-key", "http-400"],
)
def test_errors_that_cannot_succeed_are_dead_at_once(error: Exception) -> None:
    decision = _decide(error, attempt=1)

    assert decision.verdict is Verdict.DEAD
    assert not decision.exhausted


@pytest.mark.parametrize(
    "error",
    [APIConnectionError("refused"), APIStatusError("502", status_code=502, body="")],
    ids=["connection", "http-502"],
)
def test_retryable_integration_errors_are_retried(error: Exception) -> None:
    assert _decide(error).verdict is Verdict.RETRY


@pytest.mark.parametrize(
    ("error", "seconds"),
    [
        (RetryLater(12.5, "chat is busy"), 12.5),
        (TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "Flood control", 7), 7),
        (RateLimited("code 1", retry_after=60.0), 60),
        (APIStatusError("429", status_code=429, body="", retry_after=3.0), 3),
    ],
    ids=["retry-later", "telegram-retry-after", "flexbe-rate-limit", "http-429"],
)
def test_asked_delays_postpone_at_the_asked_time_without_using_an_attempt(
    error: Exception, seconds: float
) -> None:
    decision = _decide(error, attempt=5, max_attempts=5)  # even on the last attempt

    assert decision.verdict is Verdict.POSTPONE
    assert decision.run_at == START + timedelta(seconds=seconds)


def test_postponing_too_often_counts_as_failing() -> None:
    decision = _decide(RetryLater(100.0), attempt=2, postponed=3)

    assert decision.verdict is Verdict.RETRY
    # Still no sooner than asked.
    assert decision.run_at == START + timedelta(seconds=100)
    exhausted = _decide(RetryLater(100.0), attempt=5, max_attempts=5, postponed=3)
    assert exhausted.verdict is Verdict.DEAD


@pytest.mark.parametrize("value", [True, None, "5", float("nan")])
def test_a_retry_after_that_is_not_a_number_of_seconds_is_ignored(value: object) -> None:
    error = RuntimeError("odd")
    error.retry_after = value  # type: ignore[attr-defined]

    assert _decide(error).verdict is Verdict.RETRY


def test_a_negative_retry_after_means_now() -> None:
    decision = _decide(RetryLater(-5.0))

    assert decision.run_at == START


def test_long_errors_are_cut() -> None:
    decision = _decide(RuntimeError("x" * 10_000))

    assert decision.error is not None
    assert len(decision.error) == 2000
