"""The dedupe fingerprint: the same bytes as every fingerprint stored before it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks.fingerprint import canonical_json, fingerprint
from webhooks.forms import encode_form, parse_body

FORM = "application/x-www-form-urlencoded"


def stored_form(document: Any) -> bytes:
    """How fingerprints were made before the fast path (where a lone surrogate failed),
    and are made for JSON bodies."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


# Any text, control characters, quotes, backslashes, Cyrillic, emoji and lone surrogates
# included: a form body cannot carry the last, but the function must not depend on that.
text = st.text(st.characters(), max_size=20)
documents = st.recursive(
    st.one_of(text, st.lists(text, max_size=3)),
    lambda children: st.dictionaries(text, children, max_size=4),
    max_leaves=20,
).filter(lambda value: isinstance(value, dict))


@given(documents)
@settings(max_examples=400)
def test_text_documents_canonicalise_to_the_stored_bytes(document: dict[str, Any]) -> None:
    assert canonical_json(document, text_only=True) == stored_form(document)


@given(st.dictionaries(text, st.one_of(st.floats(allow_nan=False), st.integers(), text)))
def test_json_documents_with_numbers_keep_the_standard_library(document: dict[str, Any]) -> None:
    assert canonical_json(document, text_only=False) == stored_form(document)


def test_a_form_and_the_same_event_as_json_share_a_fingerprint() -> None:
    document = {"event": "lead", "data": {"id": "7", "client": {"name": 'Иван "<b>"'}}}
    as_form = parse_body(encode_form(document).encode(), FORM)
    as_json = parse_body(json.dumps(document).encode(), "application/json")

    assert fingerprint(as_form, text_only=True) == fingerprint(as_json, text_only=False)
    assert fingerprint(as_form, text_only=True) != fingerprint({"event": "pay"}, text_only=True)
