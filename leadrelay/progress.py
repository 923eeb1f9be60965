"""Progress of a long command: a live line with rate and ETA on a terminal, plain lines
otherwise (a log, a pipe)."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TextIO

from actions.sync import SyncSummary


class SyncProgress:
    def __init__(
        self, label: str, *, since: datetime | None, now: datetime, stream: TextIO = sys.stderr
    ) -> None:
        self.label = label
        self.since = since
        self.now = now
        self.stream = stream
        self.started = time.monotonic()
        self.live = stream.isatty()

    def __call__(self, summary: SyncSummary) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = summary.seen / elapsed
        line = f"{self.label}: {summary.pages} pages, {summary.seen} leads, {rate:.0f} leads/s"
        done = self._fraction(summary)
        if done is not None and 0 < done < 1:
            eta = elapsed * (1 - done) / done
            bar = "#" * int(done * 20)
            line += f" [{bar:<20}] {done:.0%} ETA {int(eta) // 60}:{int(eta) % 60:02d}"
        if self.live:
            self.stream.write("\r" + line.ljust(100)[:120])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()

    def _fraction(self, summary: SyncSummary) -> float | None:
        # Flexbe gives no total; leads come newest first, so the part of the time window
        # already walked is the best estimate of how far along we are.
        if self.since is None or summary.oldest is None:
            return None
        window = (self.now - self.since).total_seconds()
        if window <= 0:
            return None
        return min(1.0, (self.now - summary.oldest).total_seconds() / window)
