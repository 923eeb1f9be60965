"""PHP-style form bodies (`data[client][name]=…`, `a[]=x`) and JSON bodies, both ways.

Parsing follows PHP: `a[b][c]=1` nests, `a[]=x` appends, explicit indexes stay dict keys
(the model layer turns numeric-keyed dicts into lists), and a later value under the same
key wins. Where `[]` and named keys meet under one name (`a[0]=x&a[]=y`, `a[]=x&a[k]=y`)
the result is a dict holding both, numbered on from the largest index, as PHP does.

Unlike PHP, names are kept as sent: a name with unbalanced or stray brackets (`a[b`,
`a[b]c`, `[a]`) is a literal key, and `.` or spaces are not turned into `_`.

Caps, the same for a JSON body: `MAX_FIELDS` fields, `MAX_DEPTH` levels of brackets,
names of `MAX_KEY_LENGTH` characters; and at most `MAX_STRAY_PERCENTS` `%` that start no
escape, which are slow to decode one by one. Any 1 MiB body is read in a few tens of ms of
CPU (`bench/hostile_forms.py`).

Every string that comes out is text a database can store: bodies with invalid UTF-8, a
NUL character, a lone surrogate (`\\ud800` in JSON) or a non-finite JSON number are
refused with a `FormError` that says where.
"""

from __future__ import annotations

import binascii
import json
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, NoReturn, cast
from urllib.parse import quote

# The caps of a body, form or JSON alike.
MAX_FIELDS = 2000
MAX_DEPTH = 8
MAX_KEY_LENGTH = 512
# A `%` that starts no escape stands for itself, but costs a step of its own to decode;
# senders encode `%` as `%25`, so a body with more than a few is refused.
MAX_STRAY_PERCENTS = 2000
# `a[b]=1` is `{"a": {"b": "1"}}`: JSON nests one level more than the form's brackets.
MAX_JSON_DEPTH = MAX_DEPTH + 1

# Flexbe repeats the same few dozen short field names in every event; longer names
# are decoded each time so a hostile body cannot pin large keys in the cache.
_CACHED_NAME_BYTES = 256


class FormError(ValueError):
    """The body cannot be read; the message says why."""


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    return parse_json(body) if is_json(body, content_type) else parse_form(body)


def is_json(body: bytes, content_type: str | None) -> bool:
    """JSON when the content type says so (or is missing and the body opens with `{`), else form."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media.endswith("json") or (not media and body.lstrip().startswith(b"{"))


# --- JSON ---------------------------------------------------------------------------------

# The closing quote is optional and the loops possessive, so no input makes the scan rescan.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
# The only escapes that decode to a NUL or to half a surrogate pair: a cheap first look.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
# `\u0000` after an even run of backslashes is an escape, not the text "\\u0000".
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON webhook body, held to the same caps as a form body."""
    return load_json_object(body, max_depth=MAX_JSON_DEPTH, max_fields=MAX_FIELDS)


def load_json_object(
    body: bytes, *, max_depth: int, max_fields: int, nul_as: str | None = None
) -> dict[str, Any]:
    """A JSON object whose every string a database can store, nested at most `max_depth`,
    with at most `max_fields` values that are no object or array (or an empty one), and
    keys of at most `MAX_KEY_LENGTH` characters.

    A `\\u0000` escape (a NUL, which PostgreSQL stores in no text or JSON) is refused; given
    `nul_as`, a JSON escape such as `\\ufffd`, it is read as that character instead."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormError(f"body is not valid UTF-8 at byte {exc.start}") from None
    if nul_as is not None and "\\u0000" in text:
        text = _NUL_ESCAPE.sub(lambda escape: escape[0][:-6] + nul_as, text)
    if text.count("[") + text.count("{") > max_fields:
        _check_fields_before_parsing(text, max_fields)
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise FormError(
            f"invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}"
        ) from None
    except RecursionError:  # deeper than the interpreter's limit, far past any cap
        _too_deep(max_depth)
    except FormError:
        raise
    except ValueError:  # an integer past Python's limit on digits
        raise FormError("invalid JSON: a number has too many digits") from None
    if not isinstance(document, dict):
        raise FormError("JSON body must be an object")
    _check_shape(document, max_depth=max_depth, max_fields=max_fields)
    if _SUSPECT_ESCAPE.search(text):
        _check_storable(text, document)
    return document


def _check_shape(document: dict[str, Any], *, max_depth: int, max_fields: int) -> None:
    """Depth, fields and names in one walk, which stops at the first excess: it visits at
    most `max_fields` leaves and the containers above them, however large the body."""
    fields = 0
    pending: list[tuple[dict[str, Any] | list[Any], int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            for key in node:
                if len(key) > MAX_KEY_LENGTH:
                    _name_too_long(key)
            children: Iterable[Any] = node.values()
        else:
            children = node
        for child in children:
            if isinstance(child, dict | list):
                if depth == max_depth:
                    _too_deep(max_depth)
                if child:
                    pending.append((child, depth + 1))
                    continue
            fields += 1
            if fields > max_fields:
                raise FormError(f"more than {max_fields} fields")


def _check_fields_before_parsing(text: str, max_fields: int) -> None:
    """Many brackets: `[],[],…` costs more to build than to count. Each comma outside the
    strings adds one value that is no object or array, or an empty one, to the first."""
    skeleton = _JSON_STRING.sub("", text)
    if skeleton.count(",") + 1 > max_fields:
        raise FormError(f"more than {max_fields} fields")


def _too_deep(max_depth: int) -> NoReturn:
    raise FormError(f"JSON nested deeper than {max_depth} levels") from None


def _no_constant(name: str) -> NoReturn:
    raise FormError(f"invalid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise FormError(f"invalid JSON: number {text[:32]} is out of range")
    return value


def _check_storable(text: str, document: dict[str, Any]) -> None:
    """Valid JSON can still carry text no database stores: a NUL or a lone surrogate."""
    nul = _NUL_ESCAPE.search(text) if "\\u0000" in text else None
    if nul:
        raise FormError(f"invalid JSON: \\u0000 (a NUL character) at char {nul.end() - 6}")
    pending: list[Any] = [document]
    while pending:  # each string encoded on its own: the first bad one stops the walk
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, str) and not node.isascii():
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise FormError(
                    "invalid JSON: an unpaired surrogate escape (\\ud800-\\udfff)"
                ) from None


# --- Form: parsing ------------------------------------------------------------------------

# A parsed name: its head, then one segment per bracket pair; None stands for `[]`.
Path = tuple[str | None, ...]


class _BadBytes(Exception):
    """Bytes that are not storable text, at `index` within the raw bytes being decoded."""

    def __init__(self, problem: str, index: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.index = index


def parse_form(body: bytes) -> dict[str, Any]:
    if b"%" in body and _stray_percents(body) > MAX_STRAY_PERCENTS:
        raise FormError(
            f"more than {MAX_STRAY_PERCENTS} stray `%` (not followed by two hex digits)"
        )
    parts = body.split(b"&")
    if len(parts) > MAX_FIELDS and len(parts) - parts.count(b"") > MAX_FIELDS:
        raise FormError(f"more than {MAX_FIELDS} fields")
    try:
        return _parse_fields([part.partition(b"=") for part in parts if part])
    except (ValueError, _BadBytes):
        pass  # the field-by-field pass below says exactly what is wrong, and where
    return _parse_parts(parts)


def _parse_fields(fields: list[tuple[bytes, bytes, bytes]]) -> dict[str, Any]:
    """The quick pass: every value decoded at once, NUL between them (no stored text holds
    one). A NUL or a bad byte anywhere raises, and `_parse_parts` finds it."""
    if not fields:
        return {}
    values = _unquote(b"\x00".join(value for _, _, value in fields)).decode("utf-8")
    texts = values.split("\x00")
    if len(texts) != len(fields):
        raise _BadBytes("body has a NUL character", 0)
    names = tuple(name for name, _, _ in fields)
    shape = _SHAPES.get(names)
    if shape is not None:
        return cast("dict[str, Any]", _fill(shape, texts))
    tree = _Tree()
    for name, text in zip(names, texts, strict=True):
        path = _path_of(name)
        if path:
            tree.assign(path, text)
    _SHAPES.seen(names)
    return tree.root


def _path_of(name: bytes) -> Path:
    return _cached_path(name) if len(name) <= _CACHED_NAME_BYTES else _parse_name(name)


def _parse_parts(parts: list[bytes]) -> dict[str, Any]:
    tree = _Tree()
    offset = 0
    for raw in parts:
        if raw:
            name, _, value = raw.partition(b"=")
            path = _path(name, offset)
            if path:
                tree.assign(path, _decode(value, offset + len(name) + 1))
        offset += len(raw) + 1
    return tree.root


def _path(name: bytes, offset: int) -> Path:
    try:
        return _path_of(name)
    except _BadBytes as bad:
        raise FormError(f"{bad.problem} at byte {offset + bad.index}") from None


@lru_cache(maxsize=4096)
def _cached_path(name: bytes) -> Path:
    return _parse_name(name)


# A character is at most 4 bytes, each at most 3 as an escape: a longer raw name is too
# long however it decodes, and is refused without decoding it all.
_MAX_RAW_KEY_BYTES = 12 * MAX_KEY_LENGTH


def _parse_name(name: bytes) -> Path:
    if len(name) > _MAX_RAW_KEY_BYTES:
        _name_too_long(_unquote(name[:256]).decode("utf-8", "replace"))
    key = _text(name)
    if len(key) > MAX_KEY_LENGTH:
        _name_too_long(key)
    return _split_key(key) if key else ()


def _name_too_long(key: str) -> NoReturn:
    raise FormError(f"field name longer than {MAX_KEY_LENGTH} characters: {key[:64]!r}…")


def _decode(raw: bytes, offset: int) -> str:
    try:
        return _text(raw)
    except _BadBytes as bad:
        raise FormError(f"{bad.problem} at byte {offset + bad.index}") from None


def _text(raw: bytes) -> str:
    decoded = _unquote(raw)
    nul = decoded.find(b"\x00")
    if nul >= 0:
        # Valid UTF-8, but PostgreSQL cannot store it in text or JSON.
        raise _BadBytes("body has a NUL character", _raw_position(raw, nul))
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadBytes("body is not valid UTF-8", _raw_position(raw, exc.start)) from None


# Should the quick way below fail: a run of escapes (a Cyrillic word, spaces included) is
# decoded in one step, not byte by byte.
_ESCAPE_RUN = re.compile(rb"(?:%[0-9A-Fa-f]{2})+")
# A `%` that starts no escape: it stands for itself.
_STRAY_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


# For counting escapes in C: each hex digit as `h`, `%` as itself, anything else as `x`.
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_ESCAPE_SKELETON = bytes(
    b"h"[0] if byte in _HEX_DIGITS else byte if byte == b"%"[0] else b"x"[0] for byte in range(256)
)


def _stray_percents(body: bytes) -> int:
    """How many `%` start no escape. No `%` can sit inside an escape (it is no hex digit),
    so every `%hh` of the skeleton is one escape, and they never overlap."""
    skeleton = body.translate(_ESCAPE_SKELETON)
    return skeleton.count(b"%") - skeleton.count(b"%hh")


def _unhex(run: re.Match[bytes]) -> bytes:
    return binascii.unhexlify(run[0].replace(b"%", b""))


def _unquote(raw: bytes) -> bytes:
    """Percent-decoding; malformed escapes such as %zz stay literal, as browsers and PHP
    leave them (the same bytes as `urllib.parse.unquote_to_bytes`, `+` as a space)."""
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" not in raw:
        return raw
    escaped = raw
    if b"=" in raw or b"\n" in raw or b"\r" in raw:
        escaped = raw.replace(b"=", b"%3D").replace(b"\n", b"%0A").replace(b"\r", b"%0D")
    if _stray_percents(escaped):  # few: `parse_form` sees to that
        escaped = _STRAY_PERCENT.sub(b"%25", escaped)
    # Quoted-printable is percent-encoding with `=` for `%`, and binascii decodes it in C.
    # Without a literal `=` or line break it does nothing else, and every escape was a
    # valid one exactly when each took two bytes off: so it is here, the check a backstop.
    decoded = binascii.a2b_qp(escaped.replace(b"%", b"="))
    if len(decoded) == len(escaped) - 2 * escaped.count(b"%"):
        return decoded
    return _ESCAPE_RUN.sub(_unhex, raw)


def _raw_position(raw: bytes, decoded_index: int) -> int:
    """Maps an index in the percent-decoded bytes back to the raw bytes, for the message:
    past that many units, each an escape or a byte. The regex engine counts them in C."""
    units = re.match(rb"(?:%%[0-9A-Fa-f]{2}|.){%d}+" % decoded_index, raw, re.DOTALL)
    return units.end() if units else len(raw)


def _split_key(key: str) -> Path:
    """`a[b][]` → ("a", "b", None); a name whose brackets do not pair up stays whole."""
    opening = key.find("[")
    if opening <= 0 or not key.endswith("]"):
        return (key,)
    parts: list[str | None] = [key[:opening]]
    position = opening
    while position < len(key):
        if key[position] != "[":
            return (key,)
        closing = key.find("]", position)
        segment = key[position + 1 : closing]
        parts.append(segment or None)
        position = closing + 1
    if len(parts) - 1 > MAX_DEPTH:
        raise FormError(f"field nesting deeper than {MAX_DEPTH} levels at key {key[:64]!r}")
    return tuple(parts)


class _Tree:
    """The parsed form; remembers the next `[]` index of dicts that were appended to."""

    def __init__(self) -> None:
        self.root: dict[str, Any] = {}
        # id(dict) → (the dict, its next free index); holding the dict keeps its id unique.
        self._next_index: dict[int, tuple[dict[str, Any], int]] = {}

    def assign(self, path: Path, value: str) -> None:
        # The common case, named keys into plain dicts, needs none of the bookkeeping below.
        if not self._next_index and None not in path:
            names = cast("tuple[str, ...]", path)  # no `[]` in it
            node = self.root
            for segment in names[:-1]:
                child = node.get(segment)
                if child is None:
                    child = node[segment] = {}
                elif type(child) is not dict:
                    break
                node = child
            else:
                node[names[-1]] = value
                return
        # Anything else goes the careful way, from the top; what was walked above is kept.
        self._assign(path, value)

    def _assign(self, path: Path, value: str) -> None:
        container: dict[str, Any] | list[Any] = self.root
        for depth, segment in enumerate(path[:-1]):
            following = path[depth + 1]
            child = container.get(segment) if isinstance(container, dict) and segment else None
            if following is None:
                if not isinstance(child, list | dict):
                    child = []
            elif isinstance(child, list):
                # Named keys under a list: it becomes a PHP array with both.
                child = self._keyed(child)
            elif not isinstance(child, dict):
                child = {}  # a scalar here is replaced: the later field wins
            self._put(container, segment, child)
            container = child
        self._put(container, path[-1], value)

    def _put(self, container: dict[str, Any] | list[Any], segment: str | None, item: Any) -> None:
        # A list is only ever reached through `[]`, so its segment is always None.
        if isinstance(container, list):
            container.append(item)
            return
        if segment is None:
            segment = str(self._take_index(container))
        elif id(container) in self._next_index and _is_index(segment):
            self._track(container, max(self._next_index[id(container)][1], int(segment) + 1))
        container[segment] = item

    def _take_index(self, container: dict[str, Any]) -> int:
        tracked = self._next_index.get(id(container))
        if tracked is None:
            index = max((int(key) + 1 for key in container if _is_index(key)), default=0)
        else:
            index = tracked[1]
        self._track(container, index + 1)
        return index

    def _keyed(self, items: list[Any]) -> dict[str, Any]:
        keyed = {str(index): item for index, item in enumerate(items)}
        self._track(keyed, len(items))
        return keyed

    def _track(self, container: dict[str, Any], next_index: int) -> None:
        self._next_index[id(container)] = (container, next_index)


def _is_index(key: str) -> bool:
    """A key PHP reads as an integer array index: "0", "17", not "017" or "+1"."""
    return key.isascii() and key.isdigit() and (key == "0" or key[0] != "0")


# --- Form: shapes of bodies seen before ------------------------------------------------------

# A body's nesting depends on its field names alone, and a Flexbe form sends the same
# names in the same order every time. The second time a list of names comes, its shape
# is kept: the tree `_Tree` builds for those names, with each value's position where the
# value goes. Filling it in costs a fraction of assigning field by field.
_MAX_SHAPES = 128
_MAX_SHAPE_FIELDS = 256

# A dict as (key, node) pairs, a list as its nodes; a leaf is the value's position.
_Node = int | tuple[str, tuple[Any, ...]]


class _Shapes:
    def __init__(self) -> None:
        # names → shape, or None when seen once: a sender that never repeats its names
        # costs a dict entry, not a second pass. Oldest first, so the oldest goes first.
        self._known: dict[tuple[bytes, ...], _Node | None] = {}

    def get(self, names: tuple[bytes, ...]) -> _Node | None:
        return self._known.get(names)

    def seen(self, names: tuple[bytes, ...]) -> None:
        if len(names) > _MAX_SHAPE_FIELDS:
            return
        if names in self._known:
            self._known[names] = _shape_of(names)
            return
        if len(self._known) >= _MAX_SHAPES:
            del self._known[next(iter(self._known))]
        self._known[names] = None


def _shape_of(names: tuple[bytes, ...]) -> _Node:
    tree = _Tree()
    for position, name in enumerate(names):
        path = _path_of(name)
        if path:
            tree.assign(path, cast("str", position))
    return _node(tree.root)


def _node(value: Any) -> _Node:
    if isinstance(value, dict):
        return ("dict", tuple((key, _node(child)) for key, child in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_node(child) for child in value))
    return cast("int", value)


def _fill(node: _Node, texts: list[str]) -> Any:
    kind, children = cast("tuple[str, tuple[Any, ...]]", node)
    if kind == "dict":
        return {
            key: texts[child] if child.__class__ is int else _fill(child, texts)
            for key, child in children
        }
    return [texts[child] if child.__class__ is int else _fill(child, texts) for child in children]


_SHAPES = _Shapes()


# --- Form: encoding -----------------------------------------------------------------------


def encode_form_pairs(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten to PHP-style pairs with literal brackets: {"a": {"b": 1}} → [("a[b]", "1")].

    Lists of scalars repeat `name[]`; a list holding dicts or lists numbers its items
    (`name[0][k]`) so each item stays whole. Empty dicts and lists send nothing, as
    PHP's `http_build_query` does. Scalars: None → "", True → "1", False → "0", else str().
    """
    return _pairs("", data)


def _pairs(prefix: str, data: Mapping[Any, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        pairs.extend(_flatten(f"{prefix}[{key}]" if prefix else str(key), value))
    return pairs


def _flatten(name: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return _pairs(name, value)
    if isinstance(value, list | tuple):
        if any(isinstance(item, Mapping | list | tuple) for item in value):
            return _pairs(name, dict(enumerate(value)))
        return [(f"{name}[]", _scalar(item)) for item in value]
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
