"""The rate-limit arithmetic: which keys get which rate, and admission in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.jobs import Budget, flexbe_keys, telegram_keys
from jobs.ratelimit import Rate, RateTable, admit
from leadrelay.limits import ServiceRates

LIMITS = ServiceRates()


def test_default_rates_follow_telegram_and_flexbe() -> None:
    assert LIMITS.rate_for(telegram_keys(4242)[0]) == Rate(1, 1.0)
    assert LIMITS.rate_for(telegram_keys(-1001234567890)[0]) == Rate(20, 60.0)
    assert LIMITS.rate_for("tg:global") == Rate(25, 1.0)
    assert LIMITS.rate_for(flexbe_keys("okna")[0]) == Rate(100, 60.0)
    assert LIMITS.rate_for("unknown:thing") is None


def test_custom_rates_by_key_or_prefix_come_first() -> None:
    limits = ServiceRates(custom={"tg:chat:7": Rate(5, 1.0), "crm5:": Rate(2, 1.0)})

    assert limits.rate_for("tg:chat:7") == Rate(5, 1.0)
    assert limits.rate_for("tg:chat:8") == Rate(1, 1.0)
    assert limits.rate_for("crm5:deal") == Rate(2, 1.0)


def test_the_engines_table_knows_only_the_keys_and_prefixes_it_names() -> None:
    table = RateTable({"crm5:deal": Rate(5, 1.0), "crm5:": Rate(2, 1.0), "tg": Rate(1, 1.0)})

    assert table.rate_for("crm5:deal") == Rate(5, 1.0)
    assert table.rate_for("crm5:task") == Rate(2, 1.0)
    assert table.rate_for("tg:chat:1") is None, "a prefix ends in ':'"
    assert RateTable().rate_for("tg:global") is None


def test_every_budget_is_a_rate_of_the_service() -> None:
    for budget in Budget:
        assert isinstance(getattr(LIMITS, budget.value), Rate)


def test_jobs_for_one_chat_wait_their_turn_one_interval_apart() -> None:
    keys = ["tg:chat:1"]

    admission = admit([(1, keys), (2, keys), (3, keys)], {}, LIMITS, now=1000.0)

    assert admission.allowed == [1]
    assert admission.deferred == {2: 1001.0, 3: 1002.0}
    assert admission.tats == {"tg:chat:1": 1001.0}


def test_a_job_needs_every_one_of_its_keys() -> None:
    limits = ServiceRates(telegram_global=Rate(2, 1.0))
    requests = [(job, telegram_keys(job)) for job in (1, 2, 3)]  # three chats

    admission = admit(requests, {}, limits, now=0.0)

    assert admission.allowed == [1]
    assert admission.deferred == {2: 0.5, 3: 1.0}


def test_a_burst_lets_that_many_through_back_to_back() -> None:
    limits = RateTable({"k": Rate(10, 1.0, burst=3)})

    admission = admit([(n, ["k"]) for n in range(5)], {}, limits, now=0.0)

    assert admission.allowed == [0, 1, 2]


def test_state_from_earlier_claims_is_respected() -> None:
    admission = admit([(1, ["tg:chat:1"])], {"tg:chat:1": 1000.4}, LIMITS, now=1000.0)

    assert admission.deferred == {1: 1000.4}


def test_jobs_without_keys_or_with_unknown_keys_are_not_limited() -> None:
    admission = admit([(1, []), (2, ["nobody:knows"]), (3, ["nobody:knows"])], {}, LIMITS, 0.0)

    assert admission.allowed == [1, 2, 3]


@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=60),
    count=st.integers(min_value=1, max_value=5),
    burst=st.integers(min_value=1, max_value=4),
)
def test_no_window_ever_holds_more_than_the_rate_allows(
    gaps: list[float], count: int, burst: int
) -> None:
    rate = Rate(count, 1.0, burst=burst)
    limits = RateTable({"k": rate})
    tats: dict[str, float] = {}
    now, allowed_at = 0.0, []
    for job, gap in enumerate(gaps):
        now += gap
        admission = admit([(job, ["k"])], tats, limits, now)
        tats.update(admission.tats)
        if admission.allowed:
            allowed_at.append(now)
        else:
            assert admission.deferred[job] > now  # told to come back later, never "now"
    for first, start in enumerate(allowed_at):
        for window in (0.5, 1.0, 3.0):
            inside = [t for t in allowed_at[first:] if t < start + window - 1e-9]
            assert len(inside) <= burst + window * count
