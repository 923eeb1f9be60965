"""What counts as an amount, and what every user of amounts does with one that does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.stats import compute
from config.mappings import Crm5Mapping
from integrations.amounts import (
    amount_text,
    computable,
    format_amount,
    parse_amount,
    total,
    whole_units,
)
from integrations.mapping import crm5_deal
from storage.models import Lead

ABSURD = [
    "1e999999999",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "-0",
    "-5",
    "1" * 30,
    "1000000000000",
    "1.23456",
    "0x10",
    "1.000.50",
    "١٢٣",
    "+5",
    "12 руб.",
    "9" * 10_000,
]


@pytest.mark.parametrize(
    ("sent", "amount"),
    [
        ("4990.00", Decimal("4990.00")),
        ("1 500,50", Decimal("1500.50")),
        ("1\u00a0500", Decimal("1500")),
        (" 42 ", Decimal("42")),
        (1500, Decimal("1500")),
        ("0", Decimal("0")),
        ("999999999999.9999", Decimal("999999999999.9999")),
    ],
)
def test_amounts_people_send_are_computable(sent: object, amount: Decimal) -> None:
    assert parse_amount(sent) == amount


@pytest.mark.parametrize("sent", ABSURD)
def test_absurd_amounts_are_not(sent: str) -> None:
    assert parse_amount(sent) is None


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("1E+999999999"), Decimal("-0")])
def test_a_decimal_out_of_bounds_is_not_computable(value: Decimal) -> None:
    assert computable(value) is None


def test_computable_decimals_pass_in_plain_form() -> None:
    assert computable(Decimal("1E+3")) == Decimal("1000")
    assert format(computable(Decimal("10.50")) or 0, "f") == "10.50"


def test_the_largest_sums_are_exact() -> None:
    largest = Decimal("999999999999.9999")
    assert total([largest] * 10_000) == largest * 10_000
    assert format_amount(Decimal("1234567.5")) == "1 234 567.50"
    assert format_amount(Decimal("0.1234")) == "0.1234"
    assert whole_units(Decimal("1499.50")) == 1500


def test_the_text_as_sent_is_cut_for_reading() -> None:
    assert amount_text(None, 10) == "?"
    assert amount_text("1e999999999", 40) == "1e999999999"
    assert amount_text("1" * 30, 10) == "111111111…"
    assert amount_text("4990\n<b>", 40) == "4990 <b>", "one line; escaping is the caller's"


def paid(summ: str | None) -> Lead:
    return Lead(site_key="okna", flexbe_id=1, pay_summ=summ, pay_status_code=2)


def test_stats_leave_absurd_amounts_out_and_count_them() -> None:
    leads = [paid("4990.00"), paid("1 500,50"), paid(None), *(paid(s) for s in ABSURD)]
    numbers = compute(leads)
    assert numbers.paid_count == 3 + len(ABSURD)
    assert numbers.paid_sum == Decimal("6490.50")
    assert numbers.paid_uncounted == len(ABSURD), "a payment without any amount is not one"


@pytest.mark.parametrize("sent", ABSURD)
def test_a_deal_with_an_absurd_amount_has_no_sum(sent: str) -> None:
    form = dict(crm5_deal(paid(sent), Crm5Mapping()).to_form())
    assert "sum" not in form


def test_a_deal_gets_the_whole_sum() -> None:
    form = dict(crm5_deal(paid("999 999 999 999,5"), Crm5Mapping()).to_form())
    assert form["sum"] == "1000000000000"
