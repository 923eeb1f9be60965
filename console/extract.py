"""How `make locales` reads the console's strings (`locales/babel.cfg` names these two):
babel's extractor of Python and Jinja's of templates, each string found put under the
console's context, where `console.i18n.translator` looks it up."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import IO, Any, BinaryIO, cast

from babel.messages.extract import extract_python
from jinja2.ext import babel_extract

from console.i18n import CONTEXT

MARKERS = frozenset({"_", "N_"})
Found = tuple[int, str, tuple[str, str], list[str]]  # line, function, (context, text), comments


def _in_context(found: Iterable[tuple[Any, ...]]) -> Iterator[Found]:
    for line, function, message, comments in found:
        if function in MARKERS and isinstance(message, str):
            yield line, "pgettext", (CONTEXT, message), comments


# Babel calls an extractor with the keywords' names (its annotations say more than it uses).
def python(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[Found]:
    found = extract_python(fileobj, cast(Any, keywords), comment_tags, cast(Any, options))
    return _in_context(cast(Iterable[tuple[Any, ...]], found))


def templates(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[Found]:
    found = babel_extract(cast(BinaryIO, fileobj), list(keywords), list(comment_tags), options)
    return _in_context(found)
