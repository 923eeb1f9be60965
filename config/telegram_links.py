"""Links that open the bot in Telegram."""

from __future__ import annotations


def start_link(bot_username: str, code: str) -> str:
    """`https://t.me/<bot>?start=<code>`: opening it sends the bot `/start <code>`."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"
