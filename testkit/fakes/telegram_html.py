"""Telegram's HTML parse mode: which markup it takes, the text users see, and its entities.

The tokenizer follows tdlib's `parse_html` (the code behind the Bot API) closely enough that
its error messages match Telegram's words: `Unsupported start tag "br" at byte offset 5`,
`Can't find end tag corresponding to start tag "b"`. Unknown attributes are ignored, as
Telegram ignores them. One deliberate difference: Telegram lets a stray `&` or `>` through
as text, but its documentation says they must be escaped, and an unescaped one in a card
means user data went out raw — so here they are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "a": "text_link",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([a-zA-Z][a-zA-Z0-9]*));")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.-]*")
_SPACE = " \t\r\n\f"


class HtmlError(ValueError):
    """What Telegram says after `Bad Request: can't parse entities: `."""


@dataclass
class _Open:
    tag: str
    offset: int  # UTF-16 offset in the visible text
    argument: str = ""
    language: str = ""  # a <pre>'s language, given by the <code class="language-…"> inside
    extra: dict[str, Any] = field(default_factory=dict)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and its entities (UTF-16 offsets), or HtmlError as Telegram says it."""
    parser = _Parser(source)
    parser.run()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.visible), entities


def check_html(source: str) -> str:
    """The visible text, or HtmlError with Telegram's words for what is wrong."""
    return parse_html(source)[0]


def utf16_length(text: str) -> int:
    """Telegram counts lengths and offsets in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.visible: list[str] = []
        self.length = 0  # UTF-16 length of the visible text so far
        self.open: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode())

    def emit(self, text: str) -> None:
        self.visible.append(text)
        self.length += utf16_length(text)

    def run(self) -> None:
        text, i = self.source, 0
        while i < len(text):
            char = text[i]
            if char == "&":
                decoded, i = self.entity(i)
                self.emit(decoded)
            elif char == ">":
                raise HtmlError(
                    f'Character ">" must be escaped as "&gt;" at byte offset {self.byte_offset(i)}'
                )
            elif char == "<":
                i = self.end_tag(i) if text.startswith("</", i) else self.start_tag(i)
            else:
                end = i + 1
                while end < len(text) and text[end] not in "<>&":
                    end += 1
                self.emit(text[i:end])
                i = end
        if self.open:
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{self.open[-1].tag}"')

    def entity(self, i: int) -> tuple[str, int]:
        match = _ENTITY.match(self.source, i)
        where = self.byte_offset(i)
        if match is None:
            raise HtmlError(f'Character "&" must be escaped as "&amp;" at byte offset {where}')
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name not in _NAMED:
                raise HtmlError(f'Unsupported HTML entity "&{name};" at byte offset {where}')
            return _NAMED[name], match.end()
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise HtmlError(f"Invalid character reference at byte offset {where}")
        return chr(code), match.end()

    def start_tag(self, begin: int) -> int:
        text, where = self.source, self.byte_offset(begin)
        i = begin + 1
        while i < len(text) and text[i] not in _SPACE and text[i] != ">":
            i += 1
        if i >= len(text):
            raise HtmlError(f"Unclosed start tag at byte offset {where}")
        tag = text[begin + 1 : i].lower()
        if tag not in TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {where}')
        opened = _Open(tag, self.length)
        while True:
            while i < len(text) and text[i] in _SPACE:
                i += 1
            if i >= len(text):
                raise HtmlError(f"Unclosed start tag at byte offset {where}")
            if text[i] == ">":
                break
            name_start = i
            while i < len(text) and text[i] not in _SPACE and text[i] not in "=>":
                i += 1
            name = text[name_start:i].lower()
            if not name:
                raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {where}')
            if tag == "blockquote" and name == "expandable":
                opened.extra["expandable"] = True
                continue
            while i < len(text) and text[i] in _SPACE:
                i += 1
            if i >= len(text) or text[i] != "=":
                raise HtmlError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {where}'
                )
            i += 1
            while i < len(text) and text[i] in _SPACE:
                i += 1
            if i >= len(text):
                raise HtmlError(f"Unclosed start tag at byte offset {where}")
            value, i = self.attribute_value(i, where)
            self.attribute(opened, name, value)
        if tag == "span" and opened.argument != "spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
        if tag == "tg-emoji" and not opened.argument:
            raise HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {where}')
        self.open.append(opened)
        return i + 1

    def attribute_value(self, i: int, where: int) -> tuple[str, int]:
        text = self.source
        quote = text[i]
        if quote not in "'\"":
            token = _NAME_TOKEN.match(text, i)
            end = token.end() if token else i
            if end >= len(text) or (text[end] not in _SPACE and text[end] != ">"):
                raise HtmlError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(i)}"
                )
            return text[i:end].lower(), end
        value: list[str] = []
        i += 1
        while i < len(text) and text[i] != quote:
            if text[i] == "&":
                decoded, i = self.entity(i)
                value.append(decoded)
            else:
                value.append(text[i])
                i += 1
        if i >= len(text):
            raise HtmlError(f"Unclosed start tag at byte offset {where}")
        return "".join(value), i + 1

    @staticmethod
    def attribute(opened: _Open, name: str, value: str) -> None:
        # Only these attributes mean anything to Telegram; it skips the rest.
        if opened.tag == "a" and name == "href":
            opened.argument = value
        elif opened.tag == "code" and name == "class" and value.startswith("language-"):
            opened.argument = value.removeprefix("language-")
        elif opened.tag == "span" and name == "class" and value.startswith("tg-"):
            opened.argument = value.removeprefix("tg-")
        elif opened.tag == "tg-emoji" and name == "emoji-id":
            opened.argument = value

    def end_tag(self, begin: int) -> int:
        text, where = self.source, self.byte_offset(begin)
        if not self.open:
            raise HtmlError(f"Unexpected end tag at byte offset {where}")
        i = begin + 2
        while i < len(text) and text[i] not in _SPACE and text[i] != ">":
            i += 1
        name = text[begin + 2 : i].lower()
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i >= len(text) or text[i] != ">":
            raise HtmlError(f"Unclosed end tag at byte offset {where}")
        opened = self.open.pop()
        if name and name != opened.tag:
            raise HtmlError(
                f'Unmatched end tag at byte offset {where}, expected "</{opened.tag}>", '
                f'found "</{name}>"'
            )
        self.close(opened)
        return i + 1

    def close(self, opened: _Open) -> None:
        length = self.length - opened.offset
        parent = self.open[-1] if self.open else None
        if opened.tag == "code" and parent is not None and parent.tag == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            parent.language = opened.argument
            return
        if length == 0:
            return
        kind = _ENTITY_TYPES[opened.tag]
        entity: dict[str, Any] = {"type": kind, "offset": opened.offset, "length": length}
        if opened.tag == "a":
            if not opened.argument:
                return
            entity["url"] = opened.argument
        elif opened.tag == "pre" and opened.language:
            entity["language"] = opened.language
        elif opened.tag == "blockquote" and opened.extra.get("expandable"):
            entity["type"] = "expandable_blockquote"
        elif opened.tag == "tg-emoji":
            entity["custom_emoji_id"] = opened.argument
        self.entities.append(entity)
