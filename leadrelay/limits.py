"""How fast the jobs may call Telegram and Flexbe: the rate of each budget a rate-limit key
draws on (`domain.jobs.limits`), for the worker's claims."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.settings import Settings
from domain.jobs.limits import budget_of
from jobs.ratelimit import Rate, RateTable


@dataclass(frozen=True, slots=True)
class ServiceRates:
    """Which rate applies to a key. Defaults follow Telegram's and Flexbe's documents.

    Telegram: about one message a second per chat, 20 a minute per group (negative chat
    ids), 30 a second overall (we keep to 25). Flexbe: 100 API requests a minute per site.
    `custom` maps exact keys, or prefixes ending in ":", to rates of their own.
    """

    telegram_chat: Rate = Rate(1, 1.0)
    telegram_group: Rate = Rate(20, 60.0)
    telegram_global: Rate = Rate(25, 1.0)
    flexbe_site: Rate = Rate(100, 60.0)
    custom: Mapping[str, Rate] = field(default_factory=dict)

    def rate_for(self, key: str, /) -> Rate | None:
        rate = RateTable(self.custom).rate_for(key) if self.custom else None
        if rate is not None:
            return rate
        budget = budget_of(key)
        # Each budget's rate is the field of its name.
        return None if budget is None else typing.cast(Rate, getattr(self, budget.value))


def rate_limits(settings: Settings) -> ServiceRates:
    return ServiceRates(
        telegram_chat=Rate(settings.telegram_chat_per_second, 1.0),
        telegram_group=Rate(settings.telegram_group_per_minute, 60.0),
        telegram_global=Rate(settings.telegram_per_second, 1.0),
        flexbe_site=Rate(settings.flexbe_per_minute, 60.0),
    )
