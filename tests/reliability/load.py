"""The traffic of the kill tests: webhooks offered at a steady pace, redelivered until
answered, and the cards the Telegram fake received, counted per lead and chat (and the
timers' reminders and alerts)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from testkit.factories import new_client_lead_event
from testkit.fakes.telegram import TelegramFake
from webhooks.forms import encode_form

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Requests in flight at most. Unbounded, a slow moment of the service piles thousands of
# requests into the client's connection pool, whose waiting is then the bottleneck, and
# the loopback fakes served from this same event loop starve with it.
IN_FLIGHT = 32


@dataclass
class Sender:
    """Offers `events` lead events (Flexbe ids from `first`) at `rate` per second to `url`;
    then, as a sender that redelivers does, offers again whatever was not answered 200
    until all are."""

    url: str
    events: int
    rate: float
    first: int = 1
    acked: set[int] = field(default_factory=set)
    refused: Counter[str] = field(default_factory=Counter)  # why sends were offered again

    async def run(self, *, give_up_at: float) -> None:
        started = time.monotonic()
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:
            tasks = []
            for index in range(self.events):
                delay = started + index / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self._one(http, self.first + index)))
            await asyncio.gather(*tasks)
            while len(self.acked) < self.events and time.monotonic() < give_up_at:
                await asyncio.sleep(0.5)
                ids = range(self.first, self.first + self.events)
                missing = [n for n in ids if n not in self.acked]
                await asyncio.gather(*(self._one(http, n) for n in missing[:200]))

    async def _one(self, http: httpx.AsyncClient, lead_id: int) -> None:
        try:
            async with self._slots:
                response = await http.post(
                    self.url, content=encode_form(new_client_lead_event(lead_id)), headers=FORM
                )
        except httpx.TransportError as error:
            self.refused[type(error).__name__] += 1
            return
        if response.status_code == 200:
            self.acked.add(lead_id)
        else:
            self.refused[str(response.status_code)] += 1


def cards_sent(
    telegram: TelegramFake, *, since: int = 0, count: int | None = None
) -> Counter[tuple[int, int]]:
    """How many times each (chat, lead row id) card was sent, among `count` messages (all)
    from index `since`: read from the Take button."""
    counts: Counter[tuple[int, int]] = Counter()
    end = None if count is None else since + count
    for message in telegram.sent[since:end]:
        markup = message.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith("la:take:"):
                    counts[(int(message["chat_id"]), int(data.rsplit(":", 1)[1]))] += 1
    return counts


def reminders_sent(telegram: TelegramFake, group: int) -> Counter[int]:
    """The SLA reminders in the group, counted by the card they answer."""
    return Counter(
        message["reply_to"] for message in telegram.chat(group) if message["text"].startswith("⏰")
    )


def alerts_sent(telegram: TelegramFake, admin: int) -> list[str]:
    """The SLA alerts in an admin's private chat."""
    return [m["text"] for m in telegram.chat(admin) if m["text"].startswith("🚨")]


class CardWatch:
    """Notes when each chat's cards arrive at the Telegram fake, looking every 0.1 s (only
    at the new messages: the fake answers from this event loop, and rereading thousands
    of them so often would slow it down)."""

    def __init__(self, telegram: TelegramFake) -> None:
        self.telegram = telegram
        self.cards: set[tuple[int, int]] = set()
        self.arrivals: dict[int, list[float]] = {}  # chat -> time.monotonic() of each card
        self._read = 0

    def look(self) -> None:
        new = len(self.telegram.sent) - self._read
        now = time.monotonic()
        for chat, row in cards_sent(self.telegram, since=self._read, count=new):
            self.cards.add((chat, row))
            self.arrivals.setdefault(chat, []).append(now)
        self._read += new

    async def run(self) -> None:
        while True:
            self.look()
            await asyncio.sleep(0.1)

    async def wait_for(self, count: int, *, timeout: float) -> float:
        """Seconds until `count` distinct cards (chat and lead) arrived; the timeout if
        they never did."""
        started = time.monotonic()
        while len(self.cards) < count and time.monotonic() - started < timeout:
            self.look()
            await asyncio.sleep(0.1)
        return time.monotonic() - started

    def longest_stall(self, *, start: float, end: float) -> float:
        """The longest time between `start` and `end` that a chat waited for its next card
        (a chat whose cards are all out waits for nothing)."""
        gaps = [0.0]
        for times in self.arrivals.values():
            moments = [start, *(t for t in times if start < t <= end)]
            gaps.extend(b - a for a, b in zip(moments, moments[1:], strict=False))
        return max(gaps)


def takeover_delays(alive_since: list[float], taken_over: list[datetime]) -> list[float]:
    """For each job taken from a killed worker (the time its lost attempt was closed), the
    seconds since a live worker could take it: the kill, or when the killed worker's
    replacement began working if no other was running (times as `time.time()`)."""
    delays = []
    for moment in taken_over:
        at = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        delays.append(at - max((since for since in alive_since if since <= at), default=at))
    return delays
