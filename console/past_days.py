"""Leads per finished day for the overview's chart, kept a few minutes.

A finished day's count rarely changes (a sync or a re-processed event can still add to
it, and shows within `KEEP_SECONDS`), so the overview asks the database for today's count
and for days not seen lately: one query instead of thirty on most visits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.queries.overview import leads_per_day

KEEP_SECONDS = 300.0


class PastDays:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._kept: dict[tuple[datetime, datetime], tuple[int, float]] = {}

    async def counts(
        self, session: AsyncSession, *, days: Sequence[datetime], now: datetime
    ) -> list[int]:
        """Like `leads_per_day`; a day that ended before `now` may come from memory."""
        moment = self._clock()
        spans = list(zip(days, days[1:], strict=False))
        found: dict[tuple[datetime, datetime], int] = {}
        for span in spans:
            kept = self._kept.get(span)
            if kept is not None and span[1] <= now and moment - kept[1] < KEEP_SECONDS:
                found[span] = kept[0]
        for span in spans:
            if span not in found:
                found[span] = (await leads_per_day(session, days=span))[0]
                if span[1] <= now:
                    self._kept[span] = (found[span], moment)
        # Only the days on the chart stay: memory does not grow with time.
        self._kept = {span: self._kept[span] for span in spans if span in self._kept}
        return [found[span] for span in spans]
