"""What the console needs of the intake: reading a kept event again, given by the caller.

The console does not import `webhooks`: the composition root (`leadrelay/web.py`) builds
a `Reprocess` from the web app's intake and sites and hands it to `install_console`.
"""

from __future__ import annotations

from typing import Protocol

from storage.models import InboxEvent
from storage.queries.ingest import StoredEvent


class SiteGone(Exception):
    """The kept event's site is no longer configured."""


class StillUnreadable(Exception):
    """Today's code cannot read the kept body either; `reason` says why, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Reprocess(Protocol):
    async def __call__(self, kept: InboxEvent) -> StoredEvent:
        """Store the kept event as if it had just come (a duplicate once stored).

        Raises `SiteGone` or `StillUnreadable`, storing nothing."""
        ...
