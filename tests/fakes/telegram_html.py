"""What Telegram's HTML parse mode accepts: its tags, escaped text, and the visible length."""

from __future__ import annotations

import html
import re

ALLOWED = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "span": {"class"},
    "tg-spoiler": set(),
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=\"[^\"<>]*\"|='[^'<>]*')?)*)\s*>"
)
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)(?:=(?:\"[^\"]*\"|'[^']*'))?")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


class HtmlError(ValueError):
    pass


def check_html(text: str) -> str:
    """The visible text, or HtmlError with Telegram's words for what is wrong."""
    visible: list[str] = []
    open_tags: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            match = _TAG.match(text, position)
            if match is None:
                raise HtmlError(f"Unsupported start tag at byte offset {position}")
            closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
            if name not in ALLOWED:
                raise HtmlError(f'Unsupported start tag "{name}" at byte offset {position}')
            if closing:
                if not open_tags or open_tags[-1] != name:
                    expected = open_tags[-1] if open_tags else ""
                    raise HtmlError(
                        f"Unmatched end tag at byte offset {position}, "
                        f'expected "</{expected}>", found "</{name}>"'
                    )
                open_tags.pop()
            else:
                for attribute in _ATTRIBUTE.findall(attributes):
                    if attribute not in ALLOWED[name]:
                        raise HtmlError(
                            f'Unsupported attribute "{attribute}" at byte offset {position}'
                        )
                open_tags.append(name)
            position = match.end()
        elif char == "&":
            match = _ENTITY.match(text, position)
            if match is None:
                raise HtmlError(f"Unexpected end name token at byte offset {position}")
            visible.append(html.unescape(match.group(0)))
            position = match.end()
        elif char == ">":
            raise HtmlError(f"Unexpected > at byte offset {position}")
        else:
            visible.append(char)
            position += 1
    if open_tags:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(visible)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
