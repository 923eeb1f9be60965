"""Leads per day as bars of an inline SVG: drawn on the server, no script, no library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, LABEL_SPACE = 720, 160, 18


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    first: date | None
    last: date | None


def bar_chart(days: Sequence[date], counts: Sequence[int]) -> Chart:
    """One bar per day, scaled to the busiest day; the SVG's own units, not pixels."""
    peak = max(counts, default=0)
    slot = WIDTH / max(1, len(days))
    plot = HEIGHT - LABEL_SPACE
    bars = []
    for index, (day, count) in enumerate(zip(days, counts, strict=True)):
        height = plot * count / peak if peak else 0.0
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.1, 1),
                y=round(plot - height, 1),
                width=round(slot * 0.8, 1),
                height=round(height, 1),
                day=day,
                count=count,
            )
        )
    return Chart(WIDTH, HEIGHT, bars, peak, days[0] if days else None, days[-1] if days else None)
