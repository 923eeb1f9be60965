"""PHP-style form bodies (`data[client][name]=…`, `a[]=x`) and JSON bodies, both ways.

Parsing follows PHP: `a[b][c]=1` nests, `a[]=x` appends, explicit indexes stay dict keys
(the model layer turns numeric-keyed dicts into lists), and a later value under the same
key wins. A key with an unclosed bracket (`a[b`) is kept as a literal name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote_to_bytes

MAX_FIELDS = 2000
MAX_DEPTH = 8
MAX_KEY_LENGTH = 512
MAX_JSON_DEPTH = 32


class FormError(ValueError):
    """The body cannot be read; the message says why."""


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media.endswith("json") or (not media and body.lstrip().startswith(b"{")):
        return parse_json(body)
    return parse_form(body)


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormError(f"body is not valid UTF-8 at byte {exc.start}") from None
    _check_json_depth(text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise FormError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(document, dict):
        raise FormError("JSON body must be an object")
    return document


def _check_json_depth(text: str) -> None:
    # A cheap bound before json.loads, which recurses once per level.
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                raise FormError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def parse_form(body: bytes) -> dict[str, Any]:
    parts = body.split(b"&")
    if len(parts) > MAX_FIELDS and sum(1 for part in parts if part) > MAX_FIELDS:
        raise FormError(f"more than {MAX_FIELDS} fields")
    result: dict[str, Any] = {}
    offset = 0
    for raw in parts:
        if raw:
            name, _, value = raw.partition(b"=")
            path = _path(name, offset)
            if path:
                _assign(result, path, _decode(value, offset + len(name) + 1))
        offset += len(raw) + 1
    return result


@lru_cache(maxsize=4096)
def _cached_path(name: bytes) -> tuple[str | None, ...]:
    # Every Flexbe event repeats the same few dozen field names: decode each once.
    key = _unquote(name).decode("utf-8")
    if len(key) > MAX_KEY_LENGTH:
        raise FormError(f"field name longer than {MAX_KEY_LENGTH} characters")
    return tuple(_split_key(key)) if key else ()


def _path(name: bytes, offset: int) -> tuple[str | None, ...]:
    try:
        return _cached_path(name)
    except UnicodeDecodeError as exc:
        raise _not_utf8(name, offset, exc) from None


def _decode(raw: bytes, offset: int) -> str:
    try:
        return _unquote(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(raw, offset, exc) from None


def _unquote(raw: bytes) -> bytes:
    # Malformed escapes such as %zz stay literal, as browsers and PHP leave them.
    if b"%" in raw or b"+" in raw:
        return unquote_to_bytes(raw.replace(b"+", b" "))
    return raw


def _not_utf8(raw: bytes, offset: int, error: UnicodeDecodeError) -> FormError:
    return FormError(
        f"body is not valid UTF-8 near byte {offset + _raw_position(raw, error.start)}"
    )


def _raw_position(raw: bytes, decoded_index: int) -> int:
    """Maps an index in the percent-decoded bytes back to the raw bytes, for the message."""
    position = decoded = 0
    while position < len(raw) and decoded < decoded_index:
        escape = raw[position : position + 3]
        is_escape = (
            len(escape) == 3
            and escape[:1] == b"%"
            and all(c in b"0123456789abcdefABCDEF" for c in escape[1:])
        )
        position += 3 if is_escape else 1
        decoded += 1
    return position


def _split_key(key: str) -> list[str | None]:
    """`a[b][]` → ["a", "b", None]; None means "append"."""
    opening = key.find("[")
    if opening <= 0 or not key.endswith("]"):
        return [key]
    head, rest = key[:opening], key[opening:]
    parts: list[str | None] = [head]
    position = 0
    while position < len(rest):
        if rest[position] != "[":
            return [key]
        closing = rest.find("]", position)
        if closing < 0:
            return [key]
        segment = rest[position + 1 : closing]
        parts.append(segment if segment else None)
        position = closing + 1
    if len(parts) - 1 > MAX_DEPTH:
        raise FormError(f"field nesting deeper than {MAX_DEPTH} levels at key {key[:64]!r}")
    return parts


def _assign(target: dict[str, Any], path: Sequence[str | None], value: str) -> None:
    container: dict[str, Any] | list[Any] = target
    for index, segment in enumerate(path):
        last = index == len(path) - 1
        following = None if last else path[index + 1]
        if isinstance(container, list):
            # Reached through `[]`: each append starts a new item.
            child: Any = value if last else ([] if following is None else {})
            container.append(child)
        else:
            key = "" if segment is None else segment
            if last:
                container[key] = value
                return
            child = container.get(key)
            wanted = list if following is None else dict
            if not isinstance(child, wanted):
                child = container[key] = wanted()
        if last:
            return
        container = child


def encode_form_pairs(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flatten to PHP-style pairs with literal brackets: {"a": {"b": 1}} → [("a[b]", "1")]."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        pairs.extend(_flatten(name, value))
    return pairs


def _flatten(name: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return encode_form_pairs(value, name)
    if isinstance(value, list | tuple):
        pairs: list[tuple[str, str]] = []
        for item in value:
            pairs.extend(_flatten(f"{name}[]", item))
        return pairs
    return [(name, _scalar(value))]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def encode_form(data: Mapping[str, Any]) -> str:
    """`application/x-www-form-urlencoded` with brackets percent-encoded, as Flexbe sends it."""
    return "&".join(
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in encode_form_pairs(data)
    )
