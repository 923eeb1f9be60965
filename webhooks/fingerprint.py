"""The dedupe fingerprint of an event: SHA-256 of its canonical JSON.

Canonical JSON is `json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"))`:
every fingerprint stored so far was made so, and a redelivery must match it. orjson writes
the same bytes for text, lists and objects, which is all a form body holds, at a tenth of
the cost. A JSON body may also hold numbers, which orjson writes differently (`1e16`
against `1e+16`), so it keeps the standard library.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson


def fingerprint(document: Mapping[str, Any], *, text_only: bool) -> str:
    """`text_only`: every leaf of `document` is a string, as in a parsed form body."""
    return hashlib.sha256(canonical_json(document, text_only=text_only)).hexdigest()


def canonical_json(document: Mapping[str, Any], *, text_only: bool) -> bytes:
    if text_only:
        try:
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a lone surrogate, which the parsers refuse anyway
            pass
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")
