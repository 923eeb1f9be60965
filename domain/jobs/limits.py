"""The rate-limit keys jobs spend (stored in `rate_bucket`, so spelled once, here), and which
budget each key draws on; how fast each budget goes is the configuration's."""

from __future__ import annotations

from enum import StrEnum

TELEGRAM_GLOBAL_KEY = "tg:global"
TELEGRAM_CHAT_PREFIX = "tg:chat:"
FLEXBE_SITE_PREFIX = "flexbe:"


class Budget(StrEnum):
    TELEGRAM_CHAT = "telegram_chat"
    TELEGRAM_GROUP = "telegram_group"  # a group's chat id is negative
    TELEGRAM_GLOBAL = "telegram_global"
    FLEXBE_SITE = "flexbe_site"


def telegram_keys(chat_id: int) -> list[str]:
    """What one Telegram call to `chat_id` consumes: its chat's budget and the bot's."""
    return [f"{TELEGRAM_CHAT_PREFIX}{chat_id}", TELEGRAM_GLOBAL_KEY]


def flexbe_keys(site_key: str) -> list[str]:
    """What one Flexbe API request for a site consumes."""
    return [f"{FLEXBE_SITE_PREFIX}{site_key}"]


def budget_of(key: str) -> Budget | None:
    """The budget a key draws on; None for a key of no budget here."""
    if key == TELEGRAM_GLOBAL_KEY:
        return Budget.TELEGRAM_GLOBAL
    if key.startswith(TELEGRAM_CHAT_PREFIX):
        chat = key.removeprefix(TELEGRAM_CHAT_PREFIX)
        return Budget.TELEGRAM_GROUP if chat.startswith("-") else Budget.TELEGRAM_CHAT
    if key.startswith(FLEXBE_SITE_PREFIX):
        return Budget.FLEXBE_SITE
    return None
