"""The PHP-style form parser: realistic Flexbe bodies, round trips, and hostile bytes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks.forms import (
    _MAX_SHAPES,
    _SHAPES,
    MAX_DEPTH,
    MAX_FIELDS,
    MAX_JSON_DEPTH,
    MAX_KEY_LENGTH,
    MAX_STRAY_PERCENTS,
    FormError,
    _parse_parts,
    _unquote,
    encode_form,
    encode_form_pairs,
    parse_body,
    parse_form,
)

# --- Realistic Flexbe bodies --------------------------------------------------------------


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


def test_flexbe_body_with_literal_brackets_and_raw_utf8() -> None:
    body = (
        "event=pay&data[client][name]=Иван Петров&data[form_data][f5][value]=on"
        "&data[form_data][f5][type]=checkbox&data[utm][ip]=10.0.0.1"
        "&data[utm][cookies][_ym_uid]=1767&data[note]=100%25 & 50%zz"
    ).encode()

    assert parse_form(body) == {
        "event": "pay",
        "data": {
            "client": {"name": "Иван Петров"},
            "form_data": {"f5": {"value": "on", "type": "checkbox"}},
            "utm": {"ip": "10.0.0.1", "cookies": {"_ym_uid": "1767"}},
            # `&` unencoded splits the field; `%zz` is not an escape and stays as sent.
            "note": "100% ",
        },
        " 50%zz": "",
    }


def test_explicit_indexes_and_blank_values_stay_as_sent() -> None:
    body = b"data[id]=5&data[note]=&data[form_data][f1][value][0]=x&data[form_data][f1][value][1]=y"

    assert parse_form(body) == {
        "data": {"id": "5", "note": "", "form_data": {"f1": {"value": {"0": "x", "1": "y"}}}}
    }


def test_lists_of_groups_append_a_new_item_per_field() -> None:
    assert parse_form(b"a[][b]=1&a[][c]=2") == {"a": [{"b": "1"}, {"c": "2"}]}


def test_later_value_wins_like_php() -> None:
    assert parse_form(b"a=1&a=2") == {"a": "2"}
    assert parse_form(b"a=1&a[b]=2") == {"a": {"b": "2"}}
    assert parse_form(b"a[b]=2&a=1") == {"a": "1"}
    assert parse_form(b"a=1&a[]=2") == {"a": ["2"]}
    assert parse_form(b"a[]=x&a[0]=y") == {"a": {"0": "y"}}


def test_appends_and_named_keys_under_one_name_keep_both_like_php() -> None:
    assert parse_form(b"a[]=x&a[k]=y&a[]=z") == {"a": {"0": "x", "k": "y", "1": "z"}}
    # `[]` numbers on from the largest integer index; "010" is a name, not an index.
    assert parse_form(b"a[5]=x&a[]=y&a[010]=q&a[]=z") == {
        "a": {"5": "x", "6": "y", "010": "q", "7": "z"}
    }


def test_names_with_unbalanced_brackets_stay_literal() -> None:
    assert parse_form(b"a[b=1&=x&&c[=2&%zz=3&[d]=4&e[f]g=5&h[i]]=6") == {
        "a[b": "1",
        "c[": "2",
        "%zz": "3",
        "[d]": "4",
        "e[f]g": "5",
        "h[i]]": "6",
    }


# --- Limits and errors --------------------------------------------------------------------


def test_invalid_utf8_names_the_byte() -> None:
    with pytest.raises(FormError, match="not valid UTF-8 at byte 7$"):
        parse_form(b"ok=1&x=\xff")
    with pytest.raises(FormError, match="not valid UTF-8 at byte 13$"):
        parse_form(b"ok=1&x=%D0%98%D0")
    with pytest.raises(FormError, match="not valid UTF-8 at byte 5$"):
        parse_form(b"ok=1&%FF[a]=1")


def test_nul_characters_are_refused_because_no_database_stores_them() -> None:
    with pytest.raises(FormError, match="NUL character at byte 8$"):
        parse_form(b"ok=1&x=a%00")
    with pytest.raises(FormError, match="NUL character at byte 5$"):
        parse_form(b"ok=1&\x00=a")


def test_too_many_fields() -> None:
    assert len(parse_form(b"&".join(b"f%d=1" % i for i in range(MAX_FIELDS)))) == MAX_FIELDS
    with pytest.raises(FormError, match="more than 2000 fields"):
        parse_form(b"&".join(b"f%d=1" % i for i in range(MAX_FIELDS + 1)))


def test_too_deep() -> None:
    assert parse_form(b"a" + b"[x]" * (MAX_DEPTH - 1) + b"[]=1")
    with pytest.raises(FormError, match="deeper than 8 levels at key 'a"):
        parse_form(b"a" + b"[x]" * MAX_DEPTH + b"[]=1")


def test_key_too_long() -> None:
    assert parse_form(b"k" * MAX_KEY_LENGTH + b"=1")
    with pytest.raises(FormError, match="field name longer than 512 characters: 'kkk"):
        parse_form(b"%6B" * (MAX_KEY_LENGTH + 1) + b"=1")


# --- JSON ---------------------------------------------------------------------------------


def test_json_bodies() -> None:
    assert parse_body(b'{"event": "lead", "data": {"id": 1}}', "application/json") == {
        "event": "lead",
        "data": {"id": 1},
    }
    assert parse_body(b' \n{"event": "pay"}', None) == {"event": "pay"}
    assert parse_body(b'{"a": "\\ud83d\\ude00 \\\\u0000"}', "text/json") == {"a": "😀 \\u0000"}
    # A form body with a JSON-looking value is still a form when the type says so.
    assert parse_body(b"{x}=1", "application/x-www-form-urlencoded") == {"{x}": "1"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1]", "must be an object"),
        (b'"lead"', "must be an object"),
        (b'{"event": ', "invalid JSON at line 1 column 11 (char 10)"),
        (b'{"a": "\xd0"}', "not valid UTF-8 at byte 7"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1e999}', "number 1e999 is out of range"),
        (b'{"a": ' + b"9" * 5000 + b"}", "too many digits"),
        (b'{"a": "x\\u0000"}', "NUL character"),
        (b'{"a\\u0000": 1}', "NUL character"),
        (b'{"a": "\\ud800"}', "unpaired surrogate"),
        (b'{"a": "\\udc00\\ud800"}', "unpaired surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, f"deeper than {MAX_JSON_DEPTH} levels"),
        (b"[" * 100_000, f"deeper than {MAX_JSON_DEPTH} levels"),
    ],
)
def test_json_errors_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(FormError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_body(body, "application/json; charset=utf-8")


def nest(levels: int) -> bytes:
    """An object `levels` deep, alternating objects and arrays, with strings that look deep."""
    text = '"[[{{"'
    for level in range(levels - 1):
        text = f'{{"k": {text}}}' if level % 2 else f'["]]", {text}]'
    return f'{{"k": {text}}}'.encode()


@pytest.mark.parametrize("levels", [1, 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_json_as_deep_as_allowed_is_accepted(levels: int) -> None:
    document = parse_body(nest(levels), "application/json")

    assert document == json.loads(nest(levels))


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, MAX_JSON_DEPTH + 2, 900])
def test_json_deeper_than_allowed_is_refused(levels: int) -> None:
    with pytest.raises(FormError, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        parse_body(nest(levels), "application/json")


# --- Encoding -----------------------------------------------------------------------------


def test_encoding_matches_what_flexbe_sends() -> None:
    event = {
        "event": "lead",
        "data": {"client": {"name": "Я & Co"}, "tags": ["a", "b"], "ok": True},
    }

    assert encode_form(event) == (
        "event=lead&data%5Bclient%5D%5Bname%5D=%D0%AF%20%26%20Co"
        "&data%5Btags%5D%5B%5D=a&data%5Btags%5D%5B%5D=b&data%5Bok%5D=1"
    )


def test_pairs_for_flexbe_change_lead() -> None:
    fields = {"client": {"name": "x"}, "pay": {"summ": 10, "paid": False}, "note": None}

    assert encode_form_pairs(fields) == [
        ("client[name]", "x"),
        ("pay[summ]", "10"),
        ("pay[paid]", "0"),
        ("note", ""),
    ]


def test_lists_of_groups_are_numbered_so_each_item_stays_whole() -> None:
    pairs = encode_form_pairs({"items": [{"id": 1, "qty": 2}, {"id": 3}], "empty": [], "none": {}})

    assert pairs == [("items[0][id]", "1"), ("items[0][qty]", "2"), ("items[1][id]", "3")]
    assert parse_form(encode_form({"items": [{"id": 1, "qty": 2}, {"id": 3}]}).encode()) == {
        "items": {"0": {"id": "1", "qty": "2"}, "1": {"id": "3"}}
    }


# --- Properties ---------------------------------------------------------------------------

text = st.characters(codec="utf-8", exclude_characters="\x00")
keys = st.text(text, min_size=1, max_size=12).filter(lambda k: "[" not in k and "]" not in k)
values = st.text(text, max_size=30)


def nesting(value: Any) -> int:
    """Bracket segments the deepest field of `value` needs below its top-level name."""
    if isinstance(value, dict):
        return 1 + max(nesting(child) for child in value.values())
    return 1 if isinstance(value, list) else 0


forms: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(
        keys, values | st.lists(values, min_size=1, max_size=4), min_size=1, max_size=5
    ),
    lambda children: st.dictionaries(keys, children, min_size=1, max_size=4),
    max_leaves=30,
).filter(lambda document: nesting(document) - 1 <= MAX_DEPTH)


@settings(max_examples=300, deadline=None)
@given(forms)
def test_any_nested_form_round_trips(document: dict[str, Any]) -> None:
    assert parse_form(encode_form(document).encode()) == document


@settings(max_examples=150, deadline=None)
@given(forms)
def test_round_trip_with_literal_brackets(document: dict[str, Any]) -> None:
    body = urlencode(encode_form_pairs(document), safe="[]")

    assert parse_form(body.encode()) == document


# Pieces that make the parsers' edge cases likely, mixed with arbitrary bytes.
fragments = st.sampled_from(
    [b"a", b"[", b"]", b"[]", b"[0]", b"=", b"&", b"+", b"%", b"%5B", b"%5D", b"%00", b"%FF"]
    + [b"%D0", b"\xd0\x98", b"{", b"}", b'"', b":", b",", b"\\", b"\\u0000", b"\\ud800", b"1e999"]
)
hostile = st.binary(max_size=300) | st.lists(fragments | st.binary(max_size=4)).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(
    hostile,
    st.sampled_from(
        [None, "", "application/json", "text/plain", "application/x-www-form-urlencoded"]
    ),
)
def test_arbitrary_bytes_parse_or_raise_form_error(body: bytes, content_type: str | None) -> None:
    for parse in (parse_form, lambda b: parse_body(b, content_type)):
        try:
            result = parse(body)
        except FormError as exc:
            assert str(exc)
        else:
            assert isinstance(result, dict)
            # Whatever is accepted can be stored: finite JSON, UTF-8 text without NUL.
            json.dumps(result, allow_nan=False)
            for piece in texts(result):
                assert "\x00" not in piece
                piece.encode("utf-8")


# Percent-decoding takes a quick way when it can; both ways must give the standard's bytes.
escapes = st.sampled_from(
    [b"%", b"%%", b"%D0", b"%d0%98", b"%9", b"%3D", b"%0A", b"=", b"\n", b"\r", b"+", b"_"]
    + [b"a", b"F", b" ", b"\xff", b"\x00"]
)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40) | st.lists(escapes | st.binary(max_size=3)).map(b"".join))
def test_percent_decoding_gives_the_standard_librarys_bytes(raw: bytes) -> None:
    assert _unquote(raw) == unquote_to_bytes(raw.replace(b"+", b" "))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "a[]", "a[b]", "a[0]", "a[b][c]", "c"]), values)))
def test_quick_pass_builds_what_the_field_by_field_pass_builds(
    pairs: list[tuple[str, str]],
) -> None:
    body = urlencode(pairs).encode()

    assert parse_form(body) == _parse_parts(body.split(b"&"))


# The same names again take the kept shape of the first body: it must build what the
# field-by-field pass builds, whatever the values.
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "a[]", "a[b]", "a[0]", "a[b][c]", "a[][d]", "c", "e[", ""]),
            values,
            values,
        )
    )
)
def test_a_body_with_names_seen_before_builds_the_same(
    fields: list[tuple[str, str, str]],
) -> None:
    for side in (1, 2, 1):  # once to be seen, then from the shape with other values
        body = urlencode([(field[0], field[side]) for field in fields]).encode()

        assert parse_form(body) == _parse_parts(body.split(b"&"))


def test_names_that_never_repeat_keep_no_more_than_a_bounded_few() -> None:
    for number in range(3 * _MAX_SHAPES):
        parse_form(f"form{number}[name]=x&form{number}[phone]=y".encode())
        parse_form(f"form{number}[name]=x&form{number}[phone]=y".encode())

    assert len(_SHAPES._known) <= _MAX_SHAPES


def texts(value: Any) -> list[str]:
    """Every key and string in a parsed body."""
    if isinstance(value, dict):
        return [*value, *(piece for child in value.values() for piece in texts(child))]
    if isinstance(value, list):
        return [piece for child in value for piece in texts(child)]
    return [value] if isinstance(value, str) else []


def test_stray_percents_stay_literal_up_to_a_cap() -> None:
    pieces = MAX_STRAY_PERCENTS // 2 - 1  # two stray `%` each, and one more in `y`
    few = b"x=" + b"50%25 %zz %+" * pieces + b"&y=%%41&z=%"
    assert parse_form(few) == {"x": "50% %zz % " * pieces, "y": "%A", "z": "%"}
    with pytest.raises(FormError, match=f"more than {MAX_STRAY_PERCENTS} stray `%`"):
        parse_form(b"x=" + b"%" * (MAX_STRAY_PERCENTS + 1))
    with pytest.raises(FormError, match="stray"):
        parse_form(b"x=" + b"%%41" * (MAX_STRAY_PERCENTS + 1))


def test_escaped_percents_and_equals_signs_have_no_cap() -> None:
    body = b"x=" + b"%25=%41" * 100_000

    assert parse_form(body) == {"x": "%=A" * 100_000}


def test_error_position_is_in_raw_bytes_after_many_escapes() -> None:
    with pytest.raises(FormError, match="not valid UTF-8 at byte 300003$"):
        parse_form(b"a=1&x=" + b"%41" * 99_999 + b"%ff")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": [' + b"[]," * MAX_FIELDS + b"[]]}", f"more than {MAX_FIELDS} fields"),
        (b'{"a": [' + b'"[",' * MAX_FIELDS + b'"["]}', f"more than {MAX_FIELDS} fields"),
        (b'{"a": {' + b'"k": 1, ' * 3 + b'"' + b"k" * 513 + b'": 1}}', "longer than 512"),
        (b'{"a": ' * MAX_JSON_DEPTH + b"{}" + b"}" * MAX_JSON_DEPTH, "deeper than"),
    ],
)
def test_json_gets_the_form_caps(body: bytes, message: str) -> None:
    with pytest.raises(FormError, match=message):
        parse_body(body, "application/json")


def test_json_at_the_form_caps_is_read() -> None:
    fields = b'{"a": [' + b"[]," * (MAX_FIELDS - 1) + b"[]]}"
    brackets_in_strings = b'{"a": [' + b'"[",' * (MAX_FIELDS - 1) + b'"["]}'
    deep = b'{"a": ' * (MAX_JSON_DEPTH - 1) + b"{}" + b"}" * (MAX_JSON_DEPTH - 1)

    assert len(parse_body(fields, "application/json")["a"]) == MAX_FIELDS
    assert len(parse_body(brackets_in_strings, "application/json")["a"]) == MAX_FIELDS
    assert parse_body(deep, "application/json")
    assert parse_body(b'{"' + b"k" * MAX_KEY_LENGTH + b'": 1}', "application/json")
