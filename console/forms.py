"""Reading the fields of a posted form: bounded, one line each, refused in words."""

from __future__ import annotations

from collections.abc import Callable, Mapping


class Refused(Exception):
    """A form the console does not act on, with the sentence that says why."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def text_field(
    form: Mapping[str, str],
    name: str,
    label: str,
    limit: int,
    _: Callable[[str], str],
    *,
    lines: bool = False,
) -> str:
    """The field, trimmed; refused past `limit` characters or (unless `lines`) with a
    line break or another control character."""
    value = form.get(name, "").strip()
    if len(value) > limit:
        raise Refused(
            _("{field} is too long: at most {limit} characters.").format(field=label, limit=limit)
        )
    allowed = "\n\r\t" if lines else ""
    if any(ord(c) < 32 and c not in allowed for c in value) or "\x7f" in value:
        raise Refused(_("{field} holds a character that cannot be typed.").format(field=label))
    return value


def whole_number(value: str, label: str, lowest: int, highest: int, _: Callable[[str], str]) -> int:
    """A whole number from `lowest` to `highest`, or refused saying so."""
    digits = value.isascii() and value.isdigit() and len(value) <= 12
    if not digits or not lowest <= int(value) <= highest:
        raise Refused(
            _("{field} must be a whole number from {lowest} to {highest}.").format(
                field=label, lowest=lowest, highest=highest
            )
        )
    return int(value)
