"""Where a site's cards go: a chat, and in a forum supergroup, one of its topics."""

from __future__ import annotations

import re
from typing import NamedTuple

_ADDRESS = re.compile(r"^\s*(-?\d{1,20})\s*(?::\s*(\d{1,10})\s*)?$")


class ChatAddress(NamedTuple):
    chat_id: int
    # The forum topic (`message_thread_id`); None: the chat itself (General in a forum).
    topic: int | None = None

    @classmethod
    def parse(cls, value: object) -> ChatAddress:
        """`-1001234567890`, or `"-1001234567890:15"` for topic 15 of that forum."""
        if isinstance(value, ChatAddress):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(value)
        if isinstance(value, str):
            found = _ADDRESS.fullmatch(value)
            if found:
                topic = found.group(2)
                return cls(int(found.group(1)), int(topic) if topic else None)
        raise ValueError(
            f"{str(value)[:40]!r} is not a chat: a chat id such as -1001234567890, or "
            '"-1001234567890:15" for topic 15 of a forum'
        )
