"""A job's payload as stored: a frozen dataclass whose fields say how it is read and written.

`dump` writes every field under its own name, in the order of the fields (a tuple as a
list), leaving out a field declared `left_out_when_none()` while it is None. `parse` reads
a stored dict back by each field's type, and refuses what that type cannot hold:

- `int`: an integer, or a string of one; never a bool;
- `str`: a string, or an integer (written as its digits); missing or null: the field's
  default if it has one, else refused;
- `int | None`, `str | None`: as above (a `str | None` takes strings only), None when
  missing or null;
- `tuple[int, ...]`, `tuple[str, ...]`: a list of them.

The stored dicts must not change (databases hold them): a field's name, type and place are
part of the format.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any, Self

_LEFT_OUT_WHEN_NONE = "left_out_when_none"
_NO_DEFAULT: Any = dataclasses.MISSING


class PayloadError(ValueError):
    """A stored job payload lacks a field or holds one of the wrong type."""


def left_out_when_none() -> Any:
    """A field that defaults to None and is not written while it is None."""
    return dataclasses.field(default=None, metadata={_LEFT_OUT_WHEN_NONE: True})


class StoredPayload:
    """The base of every payload: `parse` and `dump` derived from the dataclass fields."""

    __slots__ = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        return cls(**read_fields(cls, raw))

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in _fields_of(type(self)):
            value = getattr(self, field.name)
            if value is None and field.left_out_when_none:
                continue
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out


def read_fields(cls: type[StoredPayload], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Each field of `cls` read from `raw` by its type: what `parse` builds `cls` from (a
    payload with a rule of its own reads its fields so, then applies the rule)."""
    return {field.name: field.read(raw, field.name, field.default) for field in _fields_of(cls)}


# Reading one field ----------------------------------------------------------------------

Reader = Callable[[Mapping[str, Any], str, Any], Any]


def _int(raw: Mapping[str, Any], key: str, default: Any) -> int:
    value = raw.get(key)
    if value is None and default is not _NO_DEFAULT:
        return typing.cast(int, default)
    if key not in raw:
        raise PayloadError(f"job payload has no {key!r}")
    return as_int(value, key)


def as_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PayloadError(f"job payload's {key!r} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise PayloadError(f"job payload's {key!r} is not an integer") from None


def _optional_int(raw: Mapping[str, Any], key: str, _default: Any) -> int | None:
    value = raw.get(key)
    return None if value is None else as_int(value, key)


def _str(raw: Mapping[str, Any], key: str, default: Any) -> str:
    value = raw.get(key)
    if value is None:
        if default is _NO_DEFAULT:
            raise PayloadError(f"job payload has no {key!r}")
        return typing.cast(str, default)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PayloadError(f"job payload's {key!r} is not a string")
    return str(value)


def _optional_str(raw: Mapping[str, Any], key: str, _default: Any) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"job payload's {key!r} is not a string")
    return value


def _ints(raw: Mapping[str, Any], key: str, _default: Any) -> tuple[int, ...]:
    values = raw.get(key)
    if not isinstance(values, list | tuple):
        raise PayloadError(f"job payload's {key!r} is not a list")
    return tuple(as_int(value, key) for value in values)


def _strs(raw: Mapping[str, Any], key: str, _default: Any) -> tuple[str, ...]:
    values = raw.get(key)
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise PayloadError(f"job payload's {key!r} is not a list of strings")
    return tuple(values)


_READERS: dict[Any, Reader] = {
    int: _int,
    str: _str,
    int | None: _optional_int,
    str | None: _optional_str,
    tuple[int, ...]: _ints,
    tuple[str, ...]: _strs,
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    read: Reader
    default: Any
    left_out_when_none: bool


_FIELDS: dict[type[StoredPayload], tuple[_Field, ...]] = {}


def _fields_of(cls: type[StoredPayload]) -> tuple[_Field, ...]:
    """How each field of `cls` is read and written, worked out on first use (`JobKind`
    uses it when the catalogue is imported): a type no reader knows is refused then."""
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = _work_out_fields(cls)
    return known


def _work_out_fields(cls: type[StoredPayload]) -> tuple[_Field, ...]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = []
    for field in dataclasses.fields(cls):
        read = _READERS.get(hints[field.name])
        if read is None:
            raise TypeError(f"{cls.__name__}.{field.name}: no stored form for {field.type}")
        left_out = bool(field.metadata.get(_LEFT_OUT_WHEN_NONE))
        fields.append(_Field(field.name, read, field.default, left_out))
    return tuple(fields)


def check_payload_type(cls: type[StoredPayload]) -> None:
    """Refuse now a payload class whose fields have no stored form."""
    _fields_of(cls)
