"""The PHP-style form parser: realistic Flexbe bodies, round trips, and hostile bytes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks.forms import (
    MAX_DEPTH,
    MAX_FIELDS,
    FormError,
    encode_form,
    encode_form_pairs,
    parse_body,
    parse_form,
)


def test_flexbe_body_with_encoded_brackets_and_cyrillic() -> None:
    body = (
        b"event=lead&site%5Bid%5D=174911&site%5Bdomain%5D=okna-spb.ru"
        b"&data%5Bclient%5D%5Bname%5D=%D0%98%D0%B2%D0%B0%D0%BD+%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2"
        b"&data%5Bform_data%5D%5Bf27b7c6e2%5D%5Bvalue%5D=a%3Db%26c"
        b"&data%5Bform_data%5D%5Bf11%5D%5Bvalue%5D%5B%5D=%F0%9F%99%82"
        b"&data%5Bform_data%5D%5Bf11%5D%5Bvalue%5D%5B%5D=on"
        b"&data%5Butm%5D%5Bcookies%5D%5B_ga%5D=GA1.2.3"
    )

    assert parse_form(body) == {
        "event": "lead",
        "site": {"id": "174911", "domain": "okna-spb.ru"},
        "data": {
            "client": {"name": "Иван Петров"},
            "form_data": {
                "f27b7c6e2": {"value": "a=b&c"},
                "f11": {"value": ["🙂", "on"]},
            },
            "utm": {"cookies": {"_ga": "GA1.2.3"}},
        },
    }


def test_literal_brackets_indexes_and_blank_values() -> None:
    body = b"data[id]=5&data[note]=&data[form_data][f1][value][0]=x&data[form_data][f1][value][1]=y"

    assert parse_form(body) == {
        "data": {"id": "5", "note": "", "form_data": {"f1": {"value": {"0": "x", "1": "y"}}}}
    }


def test_later_value_wins_like_php() -> None:
    assert parse_form(b"a=1&a=2") == {"a": "2"}
    assert parse_form(b"a=1&a[b]=2") == {"a": {"b": "2"}}
    assert parse_form(b"a[b]=2&a=1") == {"a": "1"}


def test_odd_keys_never_crash() -> None:
    assert parse_form(b"a[b=1&=x&&c[=2&%zz=3") == {"a[b": "1", "c[": "2", "%zz": "3"}


def test_invalid_utf8_names_the_byte() -> None:
    with pytest.raises(FormError, match="UTF-8 near byte 7"):
        parse_form(b"ok=1&x=\xff")


def test_too_many_fields() -> None:
    assert len(parse_form(b"&".join(b"f%d=1" % i for i in range(MAX_FIELDS)))) == MAX_FIELDS
    with pytest.raises(FormError, match="more than 2000 fields"):
        parse_form(b"&".join(b"f%d=1" % i for i in range(MAX_FIELDS + 1)))


def test_too_deep() -> None:
    assert parse_form(b"a" + b"[x]" * MAX_DEPTH + b"=1")
    with pytest.raises(FormError, match="deeper than 8"):
        parse_form(b"a" + b"[x]" * (MAX_DEPTH + 1) + b"=1")


def test_json_bodies() -> None:
    assert parse_body(b'{"event": "lead", "data": {"id": 1}}', "application/json") == {
        "event": "lead",
        "data": {"id": 1},
    }
    assert parse_body(b' {"event": "pay"}', None) == {"event": "pay"}
    with pytest.raises(FormError, match="must be an object"):
        parse_body(b"[1]", "application/json; charset=utf-8")
    with pytest.raises(FormError, match="line 1 column"):
        parse_body(b'{"event": ', "application/json")
    with pytest.raises(FormError, match="deeper than 32"):
        parse_body(b"[" * 100_000 + b"]" * 100_000, "application/json")


def test_encoding_matches_what_flexbe_sends() -> None:
    event = {
        "event": "lead",
        "data": {"client": {"name": "Я & Co"}, "tags": ["a", "b"], "ok": True},
    }

    assert encode_form(event) == (
        "event=lead&data%5Bclient%5D%5Bname%5D=%D0%AF%20%26%20Co"
        "&data%5Btags%5D%5B%5D=a&data%5Btags%5D%5B%5D=b&data%5Bok%5D=1"
    )
    assert encode_form_pairs({"client": {"name": "x"}, "pay": {"summ": 10}}) == [
        ("client[name]", "x"),
        ("pay[summ]", "10"),
    ]


keys = st.text(min_size=1, max_size=12).filter(lambda k: "[" not in k and "]" not in k)
values = st.text(max_size=30)
forms: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(
        keys, values | st.lists(values, min_size=1, max_size=4), min_size=1, max_size=5
    ),
    lambda children: st.dictionaries(keys, children, min_size=1, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(forms)
def test_any_nested_form_round_trips(document: dict[str, Any]) -> None:
    assert parse_form(encode_form(document).encode()) == document


@settings(max_examples=150, deadline=None)
@given(forms)
def test_round_trip_with_literal_brackets(document: dict[str, Any]) -> None:
    body = urlencode(encode_form_pairs(document), safe="[]")

    assert parse_form(body.encode()) == document


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, "", "application/json", "text/plain"]))
def test_arbitrary_bytes_parse_or_raise_form_error(body: bytes, content_type: str | None) -> None:
    for parse in (parse_form, lambda b: parse_body(b, content_type)):
        try:
            result = parse(body)
        except FormError as exc:
            assert str(exc)
        else:
            assert isinstance(result, dict)
