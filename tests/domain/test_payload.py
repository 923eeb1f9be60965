"""A payload's `parse` and `dump` come from its fields: what each type reads and refuses,
which keys are left out, and the catalogue's sets read from the kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from domain import jobs
from domain.jobs import (
    ALL_KINDS,
    BURST_SUMMARY,
    TELEGRAM_KINDS,
    ActionPayload,
    JobKind,
    PayloadError,
    StoredPayload,
    left_out_when_none,
)


@dataclass(frozen=True, slots=True)
class Sample(StoredPayload):
    count: int
    name: str
    label: str = "none"
    maybe: int | None = None
    note: str | None = left_out_when_none()
    ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()


FULL = {"count": 1, "name": "a", "ids": [], "tags": []}


def test_every_field_is_written_in_order_but_a_left_out_one_while_it_is_none() -> None:
    sample = Sample(count=1, name="a", ids=(4, 5), tags=("x",))

    assert list(sample.dump().items()) == [
        ("count", 1),
        ("name", "a"),
        ("label", "none"),
        ("maybe", None),
        ("ids", [4, 5]),
        ("tags", ["x"]),
    ]
    assert list(Sample(count=1, name="a", note="hi").dump())[4] == "note"


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ({"count": "7"}, {"count": 7}),
        ({"name": 42}, {"name": "42"}),
        ({"label": None}, {"label": "none"}),
        ({"label": 5}, {"label": "5"}),
        ({"maybe": "-3"}, {"maybe": -3}),
        ({"maybe": None}, {"maybe": None}),
        ({"note": "hi"}, {"note": "hi"}),
        ({"ids": ["4", 5]}, {"ids": (4, 5)}),
        ({"tags": ("x", "y")}, {"tags": ("x", "y")}),
    ],
)
def test_a_field_reads_what_its_type_holds(given: dict[str, Any], read: dict[str, Any]) -> None:
    parsed = Sample.parse({**FULL, **given})

    assert {key: getattr(parsed, key) for key in read} == read
    assert Sample.parse(parsed.dump()) == parsed


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"count": None}, "job payload's 'count' is not an integer"),
        ({"count": True}, "job payload's 'count' is not an integer"),
        ({"count": 1.5}, "job payload's 'count' is not an integer"),
        ({"count": "seven"}, "job payload's 'count' is not an integer"),
        ({"name": None}, "job payload has no 'name'"),
        ({"name": False}, "job payload's 'name' is not a string"),
        ({"name": ["a"]}, "job payload's 'name' is not a string"),
        ({"maybe": "x"}, "job payload's 'maybe' is not an integer"),
        ({"note": 5}, "job payload's 'note' is not a string"),
        ({"ids": "4,5"}, "job payload's 'ids' is not a list"),
        ({"ids": [True]}, "job payload's 'ids' is not an integer"),
        ({"tags": ["x", 1]}, "job payload's 'tags' is not a list of strings"),
    ],
)
def test_a_field_refuses_what_its_type_cannot_hold(given: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError) as refused:
        Sample.parse({**FULL, **given})

    assert str(refused.value) == message


def test_a_missing_field_without_a_default_is_refused_by_name() -> None:
    for key in ("count", "name", "ids", "tags"):
        raw = {k: v for k, v in FULL.items() if k != key}
        with pytest.raises(PayloadError, match=repr(key)):
            Sample.parse(raw)


def test_a_field_type_without_a_stored_form_is_refused_when_the_kind_is_declared() -> None:
    @dataclass(frozen=True, slots=True)
    class Odd(StoredPayload):
        ratio: float

    with pytest.raises(TypeError, match=r"Odd\.ratio"):
        JobKind("odd", Odd, pruned_after_retention=True, needs_bot=False)


def test_the_summarys_counts_read_as_they_always_did() -> None:
    assert BURST_SUMMARY.parse({"chat_id": 1, "lead_ids": [4, 5], "part": 0}).dump() == {
        "chat_id": 1,
        "lead_ids": [4, 5],
        "part": 1,
        "parts": 1,
        "total": 2,
    }


def test_an_actions_empty_fields_are_left_out_but_its_actor() -> None:
    assert ActionPayload(lead_id=7).dump() == {
        "lead_id": 7,
        "site": "",
        "actor": None,
        "action": "",
    }


def test_the_catalogues_sets_are_read_from_the_kinds() -> None:
    declared = [
        value
        for area in (jobs.cards, jobs.buttons, jobs.timers, jobs.operations)
        for value in vars(area).values()
        if isinstance(value, JobKind)
    ]

    assert set(ALL_KINDS) == set(declared)
    assert set(TELEGRAM_KINDS) == {kind for kind in ALL_KINDS if kind.needs_bot}
