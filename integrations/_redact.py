"""Keeps keys out of httpx's own log lines.

httpx logs every request's full URL at INFO. Comunik8's key and 5CRM's tokens travel in
query strings and the Telegram token in the path (`/bot<token>/getMe`), so those lines
would leak them into any log kept at INFO or below. This filter rewrites the URL first.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

MASK = "***"
_BOT_TOKEN = re.compile(r"/bot[^/?#]+")


def redact_url(url: httpx.URL | str) -> str:
    """The URL with every query value and a Bot API token in its path replaced by `***`."""
    parsed = httpx.URL(str(url))
    query = "&".join(f"{name}={MASK}" for name in parsed.params)
    masked = parsed.copy_with(query=query.encode() if query else None)
    return _BOT_TOKEN.sub(f"/bot{MASK}", str(masked))


class RedactUrlsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        return True


def _redacted(arg: Any) -> Any:
    return redact_url(arg) if isinstance(arg, httpx.URL) else arg


def install() -> None:
    """Once per process: every module that talks HTTP through httpx imports this."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactUrlsFilter) for existing in logger.filters):
        logger.addFilter(RedactUrlsFilter())
