"""Soak: minutes of steady webhooks with buttons tapped, watching the service's memory and files.

The real service (`leadrelay serve`, SQLite, all roles) runs as a subprocess pointed at the
loopback Telegram Bot API, Flexbe, 5CRM and Comunik8 fakes, served from this process, which
also offers the load:
  - an open loop of RATE distinct, realistic Flexbe `lead` webhooks/s for MINUTES, spread
    evenly over SITES sites (a config file). The first CHAT_SITES have a group chat and get
    cards; the others' leads are only stored. A manager of the first site gets its cards in
    private too. (Cards cost far more than webhooks: on the 2-core machine the service
    delivers a few tens of cards/s beside 100 webhooks/s, so a card for every lead would only
    measure an ever-growing backlog.)
  - every TAP_EVERY s, the newest card of the first site in its group gets a script of
    button taps by that manager, each once the previous one's effect shows at the fakes:
    take, a status (→ Flexbe `changeLead`), a 5CRM deal, a call now, or a call in 10 minutes
    and its cancel (→ Comunik8), in rotation;
  - every SAMPLE s, the service's RSS, open file descriptors and threads (psutil), its CPU
    and this process's, cards behind, and the job queue from `/metrics`: a time series.
After a warm-up (WARMUP minutes) the mean of the first minute is compared with the mean of
the last minute: growth of RSS and of open FDs (target < 10 % each). Errors counted: webhook
answers other than 200, ERROR/CRITICAL/Traceback lines in the service's log, jobs dead or
unfinished at the end, cards delivered against leads accepted, tap effects at the fakes and
calls made once per tap, Telegram refusals and 429s. Exits 1 when a target is missed. How
far cards and tap effects fell behind the load is reported, not judged.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 100] [--sites 20] [--chat-sites 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrations.phones import normalize_phone  # noqa: E402
from testkit.factories import lead_event  # noqa: E402
from testkit.fakes.comunik8 import Comunik8Fake  # noqa: E402
from testkit.fakes.crm5 import Crm5Fake  # noqa: E402
from testkit.fakes.flexbe import FlexbeFake  # noqa: E402
from testkit.fakes.server import serve_app  # noqa: E402
from testkit.fakes.telegram import TelegramFake  # noqa: E402
from testkit.service import Service, service_environment  # noqa: E402
from webhooks.forms import encode_form  # noqa: E402

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
GROUP_BASE = -1001000700  # site i's group: GROUP_BASE - i
MANAGER = 4242  # a manager of site 0: gets its cards in private, taps its group's cards
FIRST_LEAD = 100_000
NAMES = ("Иван Петров", "Анна Смирнова", "Ольга Кузнецова", "Сергей Иванов", "Мария Соколова")
LOG_ERROR = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")
LOG_WARNING = re.compile(r"\bWARNING\b")
JOB_GAUGE = re.compile(r'^leadrelay_jobs\{kind="([^"]*)",status="([^"]*)"\} ([0-9.e+]+)$')
CALLBACK = re.compile(r"la:[a-z0-9]+:(\d+)")
OLDEST_DUE = re.compile(r"^leadrelay_job_oldest_due_age_seconds ([0-9.e+]+)$")
EFFECT_TIMEOUT = 60.0  # s a tap's effect may take to show at the fakes
# How far behind the load the service fell: reported, but no failure. The soak's targets
# are a flat memory and descriptor count and no error; how many cards a second one process
# on SQLite delivers beside 100 webhooks/s is a capacity figure of the machine.
LATENCY_CHECKS = (
    "cards kept up under load (behind at its end)",
    f"tap effects seen at the fakes within {EFFECT_TIMEOUT:g} s",
)

# Tap scripts, one per tapped card in rotation: the buttons' callback acts, in order.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("take", "st1", "deal", "call10"),
    ("take", "st2", "call"),
    ("take", "deal", "call10", "uncall"),
    ("take", "st10", "call"),
)
STATUS_OF = {"st1": "1", "st2": "2", "st10": "10"}


def site_key(index: int) -> str:
    return f"s{index:02d}"


def site_token(index: int) -> str:
    return f"soak-{site_key(index)}-token-0123456789"


def phone_of(lead_id: int) -> str:
    digits = f"{lead_id:07d}"[-7:]
    return f"+7 (9{lead_id // 10**7 % 100:02d}) {digits[:3]}-{digits[3:5]}-{digits[5:]}"


def lead_form(lead_id: int) -> str:
    """A distinct lead: its own number, client, phone, e-mail, and the time it came."""
    event = lead_event(
        lead_id,
        num=lead_id,
        name=NAMES[lead_id % len(NAMES)],
        phone=phone_of(lead_id),
        email=f"client{lead_id}@example.ru",
        time=int(time.time()),
    )
    return encode_form(event)


def site_config(sites: int, chat_sites: int, flexbe: FlexbeFake) -> str:
    """The sites as TOML: the first `chat_sites` have a group chat, the others none (their
    leads are stored, and nobody gets a card); only the first, whose cards get tapped, has
    a Flexbe API."""
    tables = []
    for index in range(sites):
        lines = [
            "[[sites]]",
            f'key = "{site_key(index)}"',
            f'name = "Сайт {index}"',
            f'webhook_token = "{site_token(index)}"',
        ]
        if index < chat_sites:
            lines.append(f"chats = [{GROUP_BASE - index}]")
        if index == 0:
            lines += [
                f'flexbe_api_url = "{flexbe.api_url}"',
                f'flexbe_api_key = "{flexbe.api_key}"',
            ]
        tables.append("\n".join(lines))
    return "\n\n".join(tables) + "\n"


def add_manager(database: Path) -> None:
    """The tapping manager, as an `/invite s00` would have made them."""
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO manager (telegram_id, name, username, role, language, sites, active,"
            " created_at, updated_at) VALUES (?, 'Max', NULL, 'manager', 'en', ?, 1, ?, ?)",
            (MANAGER, json.dumps([site_key(0)]), now, now),
        )


@dataclass
class Sample:
    at: float  # seconds since the load began
    rss: int
    fds: int
    threads: int
    cpu: float  # the service, % of one core
    own_cpu: float  # this process: load, fakes
    waiting: float  # the service's threads waiting for a CPU (run queue), % of the time
    loadavg: float  # the machine's 1-minute load average
    accepted: int
    cards: int
    expected: int
    pending: int
    oldest_due: float


@dataclass
class Tally:
    """What the load and the fakes saw."""

    offered: int = 0
    accepted: int = 0
    accepted_first_site: int = 0
    accepted_with_chat: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # status or exception name
    latencies: list[float] = field(default_factory=list)
    behind: float = 0.0  # the most the open loop fell behind its schedule, s
    cards: Counter[int] = field(default_factory=Counter)  # chat → cards sent
    edits: int = 0
    telegram_calls: Counter[str] = field(default_factory=Counter)
    telegram_refusals: Counter[str] = field(default_factory=Counter)
    retry_afters: int = 0
    callback_answers: Counter[str] = field(default_factory=Counter)
    taps: Counter[str] = field(default_factory=Counter)  # act → taps
    effects: Counter[str] = field(default_factory=Counter)  # act → effects seen at the fakes
    missing: list[str] = field(default_factory=list)  # taps whose effect never showed
    tapped_cards: int = 0
    forgotten: int = 0

    @property
    def expected_cards(self) -> int:
        return self.accepted_with_chat + self.accepted_first_site  # + site 0's manager


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.telegram = TelegramFake()  # no limits: leadrelay's pace is set above the load
        self.flexbe = FlexbeFake()
        self.crm5 = Crm5Fake()
        self.comunik8 = Comunik8Fake()
        self.tally = Tally()
        self.samples: list[Sample] = []
        self.first_group = GROUP_BASE
        self.candidates: deque[tuple[int, int, int]] = deque(maxlen=50)  # msg id, row, lead
        self.cards_of: dict[int, list[tuple[int, int]]] = {}  # site 0's rows → their cards
        self.tapped: set[int] = set()  # rows
        self.keep: set[tuple[int, int]] = set()  # tapped cards: kept in the fake to the end
        self.started = 0.0
        self.loading = False
        self.behind_at_end = 0  # cards not yet delivered when the load ended
        self.delivered_under_load = 0
        self._waited = (0.0, 0.0)

    # --- the load -----------------------------------------------------------------------------
    async def offer(self, base_url: str) -> None:
        rate, sites = self.args.rate, self.args.sites
        total = int(self.args.minutes * 60 * rate)
        tasks: set[asyncio.Task[None]] = set()
        connector = aiohttp.TCPConnector(limit=self.args.connections)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            for index in range(total):
                delay = self.started + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    self.tally.behind = max(self.tally.behind, -delay)
                site = index % sites
                url = f"{base_url}/flexbe/{site_token(site)}"
                task = asyncio.create_task(self.post(http, url, FIRST_LEAD + index, site))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)

    async def post(self, http: aiohttp.ClientSession, url: str, lead_id: int, site: int) -> None:
        self.tally.offered += 1
        body = lead_form(lead_id)
        sent = time.perf_counter()
        try:
            async with http.post(url, data=body, headers=FORM) as response:
                await response.read()
                answer = str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            answer = type(exc).__name__
        self.tally.latencies.append(time.perf_counter() - sent)
        self.tally.answers[answer] += 1
        if answer == "200":
            self.tally.accepted += 1
            self.tally.accepted_first_site += site == 0
            self.tally.accepted_with_chat += site < self.args.chat_sites

    # --- the taps -----------------------------------------------------------------------------
    async def tapper(self) -> None:
        scripts = itertools.cycle(SCRIPTS)
        running: set[asyncio.Task[None]] = set()
        while self.loading:
            await asyncio.sleep(self.args.tap_every)
            if not self.candidates:
                continue
            message_id, row, lead_id = self.candidates.pop()  # the newest card
            self.candidates.clear()
            task = asyncio.create_task(self.tap_card(message_id, row, lead_id, next(scripts)))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)

    async def tap_card(
        self, message_id: int, row: int, lead_id: int, script: tuple[str, ...]
    ) -> None:
        self.tapped.add(row)
        self.keep.update(self.cards_of.get(row, []))
        self.tally.tapped_cards += 1
        mobile = normalize_phone(phone_of(lead_id))
        for act in script:
            if act in STATUS_OF and lead_id not in self.flexbe.leads:
                self.flexbe.add_lead(lead_id, time=int(time.time()))  # as Flexbe has it
            answers = len(self.telegram.callback_answers) + sum(
                self.tally.callback_answers.values()
            )
            self.telegram.callback_update(MANAGER, self.first_group, message_id, f"la:{act}:{row}")
            self.tally.taps[act] += 1
            deadline = time.monotonic() + EFFECT_TIMEOUT
            while not self.seen(act, lead_id, mobile, answers):
                if time.monotonic() > deadline:
                    self.tally.missing.append(f"{act} on lead {lead_id}")
                    break
                await asyncio.sleep(0.1)
            else:
                self.tally.effects[act] += 1
            await asyncio.sleep(0.5)  # a person reads the card before the next tap

    def seen(self, act: str, lead_id: int, mobile: str, answers_before: int) -> bool:
        """Whether the tap's effect shows at the fakes."""
        if act == "take":  # nothing outside: answered (by someone) is what can be seen
            answered = len(self.telegram.callback_answers) + sum(
                self.tally.callback_answers.values()
            )
            return answered > answers_before
        if act in STATUS_OF:
            lead = self.flexbe.leads.get(lead_id, {})
            return bool(lead.get("status", {}).get("code") == STATUS_OF[act])
        if act == "deal":
            return any(deal.get("phone") == mobile for deal in self.crm5.deals[-200:])
        if act in ("call", "call10"):
            return any(lead.get("mobile") == mobile for lead in self.comunik8.leads[-200:])
        return mobile not in self.comunik8.scheduled  # uncall

    # --- reading the fakes --------------------------------------------------------------------
    def read_telegram(self) -> None:
        """Count what the Telegram fake received since the last look, then forget it."""
        fake, tally = self.telegram, self.tally
        for message in fake.sent:
            chat_id = int(message["chat_id"])
            tally.cards[chat_id] += 1
            if chat_id in (self.first_group, MANAGER):
                found = _card_ids(message)
                if found is None:
                    continue
                row, lead_id = found
                key = (chat_id, int(message["message_id"]))
                self.cards_of.setdefault(row, []).append(key)
                if row in self.tapped:
                    self.keep.add(key)
                if chat_id == self.first_group:
                    self.candidates.append((key[1], row, lead_id))
        fake.sent.clear()
        for call in fake.requests:
            tally.telegram_calls[call.method] += 1
        fake.requests.clear()
        tally.edits += len(fake.edits)
        fake.edits.clear()
        for answer in fake.callback_answers:
            tally.callback_answers[str(answer["text"])] += 1
        fake.callback_answers.clear()
        for _method, description in fake.rejected:
            tally.telegram_refusals[description] += 1
        fake.rejected.clear()
        tally.retry_afters += len(fake.retry_afters)
        fake.retry_afters.clear()

    async def reader(self, stop: asyncio.Event) -> None:
        last_forget = time.monotonic()
        while not stop.is_set():
            self.read_telegram()
            if time.monotonic() - last_forget > 20:
                last_forget = time.monotonic()
                before = self.telegram.clock() - 30
                self.tally.forgotten += self.telegram.forget_messages(before, self.keep)
            await asyncio.sleep(0.5)
        self.read_telegram()

    # --- sampling -----------------------------------------------------------------------------
    async def sampler(self, service: Service, stop: asyncio.Event) -> None:
        assert service.process is not None
        process = psutil.Process(service.process.pid)
        process.cpu_percent()
        own = psutil.Process()
        own.cpu_percent()
        self._waited = (_run_queue_wait(process.pid), time.monotonic())
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.args.sample)
                self.samples.append(await self.sample(process, own, http, service.url))
                self.print_sample(self.samples[-1])

    async def sample(
        self, process: psutil.Process, own: psutil.Process, http: aiohttp.ClientSession, url: str
    ) -> Sample:
        tree = [process, *process.children(recursive=True)]
        rss = fds = threads = 0
        for each in tree:
            with contextlib.suppress(psutil.Error):  # it may end between listing and reading
                rss += each.memory_info().rss
                fds += each.num_fds()
                threads += each.num_threads()
        pending, oldest = -1, -1.0
        try:
            async with http.get(f"{url}/metrics") as response:
                pending, _running, oldest = _queue(await response.text())
        except aiohttp.ClientError:
            pass
        waited, then = _run_queue_wait(process.pid), time.monotonic()
        waiting = (waited - self._waited[0]) / max(then - self._waited[1], 1e-9) * 100
        self._waited = (waited, then)
        return Sample(
            at=time.monotonic() - self.started,
            waiting=waiting,
            loadavg=os.getloadavg()[0],
            rss=rss,
            fds=fds,
            threads=threads,
            cpu=process.cpu_percent(),
            own_cpu=own.cpu_percent(),
            accepted=self.tally.accepted,
            cards=sum(self.tally.cards.values()),
            expected=self.tally.expected_cards,
            pending=pending,
            oldest_due=oldest,
        )

    def print_sample(self, sample: Sample) -> None:
        if len(self.samples) == 1:
            print(
                f"{'t s':>6} {'RSS MiB':>8} {'FDs':>5} {'thr':>4} {'CPU%':>5} {'wait%':>5} "
                f"{'own%':>5} {'load':>5} "
                f"{'accepted':>9} {'cards':>9} {'behind':>7} {'pending':>8} {'oldest':>7}"
            )
        print(
            f"{sample.at:6.0f} {sample.rss / 2**20:8.1f} {sample.fds:5d} {sample.threads:4d} "
            f"{sample.cpu:5.0f} {sample.waiting:5.0f} {sample.own_cpu:5.0f} {sample.loadavg:5.1f} "
            f"{sample.accepted:9d} {sample.cards:9d} "
            f"{sample.expected - sample.cards:7d} {sample.pending:8d} {sample.oldest_due:6.1f}s",
            flush=True,
        )

    # --- the run ------------------------------------------------------------------------------
    async def run(self) -> int:
        args = self.args
        async with (
            self.telegram.running(),
            serve_app(self.flexbe.app) as self.flexbe.base_url,
            serve_app(self.crm5.app) as self.crm5.base_url,
            serve_app(self.comunik8.app) as self.comunik8.base_url,
        ):
            with tempfile.TemporaryDirectory() as tmp:
                database = Path(tmp) / "soak.db"
                config = Path(tmp) / "sites.toml"
                config.write_text(
                    site_config(args.sites, args.chat_sites, self.flexbe), encoding="utf-8"
                )
                env = service_environment(
                    LEADRELAY_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
                    LEADRELAY_CONFIG=str(config),
                    LEADRELAY_TELEGRAM_BOT_TOKEN=self.telegram.token,
                    LEADRELAY_TELEGRAM_API_URL=self.telegram.base_url,
                    # The fake enforces no limits; leadrelay's pace is set well above the
                    # load, so it measures the service, not Telegram's pace.
                    LEADRELAY_TELEGRAM_CHAT_PER_SECOND="1000",
                    LEADRELAY_TELEGRAM_GROUP_PER_MINUTE="60000",
                    LEADRELAY_TELEGRAM_PER_SECOND="10000",
                    # Under the Flexbe fake's 100 requests a minute.
                    LEADRELAY_FLEXBE_PER_MINUTE="90",
                    LEADRELAY_CRM5_API_URL=self.crm5.base_url,
                    LEADRELAY_CRM5_PUBLIC_TOKEN=self.crm5.public_token,
                    LEADRELAY_COMUNIK8_API_URL=self.comunik8.base_url,
                    LEADRELAY_COMUNIK8_API_KEY=self.comunik8.api_key,
                    LEADRELAY_COMUNIK8_LEAD_TYPE="callback",
                    LEADRELAY_LOG_LEVEL="WARNING",
                )
                service = Service(env, Path(tmp))
                await service.migrate()
                add_manager(database)
                await service.start()
                print(
                    f"service pid {service.process.pid if service.process else '?'}, "
                    f"{os.cpu_count()} cores; {args.rate:.0f} webhooks/s to {args.sites} sites "
                    f"({args.chat_sites} with a group chat) "
                    f"for {args.minutes:g} min, a tapped card every {args.tap_every:g} s, "
                    f"a sample every {args.sample:g} s",
                    flush=True,
                )
                try:
                    drained = await self.load(service)
                    self.read_telegram()
                finally:
                    await service.stop()
                exit_code = service.process.returncode if service.process else None
                jobs = _job_counts(database)
                log_text = service.log.read_text(errors="replace")
        return self.report(drained, exit_code, jobs, log_text)

    async def load(self, service: Service) -> float | None:
        """Offer the load while sampling and tapping, then drain: the seconds until every
        accepted lead's cards were out and no job was due (None: not within `--drain`)."""
        stop = asyncio.Event()
        self.started = time.monotonic()
        self.loading = True
        helpers = [
            asyncio.create_task(self.sampler(service, stop)),
            asyncio.create_task(self.reader(stop)),
        ]
        tapper = asyncio.create_task(self.tapper())
        try:
            await self.offer(service.url)
            self.delivered_under_load = sum(self.tally.cards.values())
            self.behind_at_end = self.tally.expected_cards - self.delivered_under_load
            ended = time.monotonic()
            self.loading = False
            await tapper  # the scripts under way finish
            return await self.drain(service, ended)
        finally:
            self.loading = False
            stop.set()
            await asyncio.gather(tapper, *helpers, return_exceptions=True)

    async def drain(self, service: Service, began: float) -> float | None:
        async with aiohttp.ClientSession() as http:
            while time.monotonic() - began < self.args.drain:
                self.read_telegram()
                async with http.get(f"{service.url}/metrics") as response:
                    _pending, running, oldest = _queue(await response.text())
                cards = sum(self.tally.cards.values())
                if cards >= self.tally.expected_cards and running == 0 and oldest == 0:
                    return time.monotonic() - began
                await asyncio.sleep(0.5)
        return None

    # --- the verdict --------------------------------------------------------------------------
    def report(
        self,
        drained: float | None,
        exit_code: int | None,
        jobs: dict[tuple[str, str], int],
        log_text: str,
    ) -> int:
        args, tally = self.args, self.tally
        rss_first, rss_last, fds_first, fds_last, windows = self.windows()
        rss_growth = _growth(rss_first, rss_last)
        fds_growth = _growth(fds_first, fds_last)
        log_lines = log_text.splitlines()
        errors = [line for line in log_lines if LOG_ERROR.search(line)]
        warnings = [line for line in log_lines if LOG_WARNING.search(line)]
        dead = sum(n for (_kind, status), n in jobs.items() if status == "dead")
        unfinished = sum(n for (_kind, status), n in jobs.items() if status == "running")
        due_pending = jobs.get(("(due)", "pending"), 0)
        expected_cards = tally.expected_cards
        card_rate = max(expected_cards / (args.minutes * 60), 1e-9)
        delivered = sum(tally.cards.values())
        calls = {
            "status": len(self.flexbe.calls("changeLead")),
            "deal": len(self.crm5.calls("public/deal/add")),
            "call": len(self.comunik8.calls("lead/add")),
            "uncall": len(self.comunik8.calls("lead/cancel")),
        }
        tapped = {
            "status": sum(tally.taps[act] for act in STATUS_OF),
            "deal": tally.taps["deal"],
            "call": tally.taps["call"] + tally.taps["call10"],
            "uncall": tally.taps["uncall"],
        }
        answered = sum(tally.callback_answers.values())
        taps = sum(tally.taps.values())
        non_200 = sum(n for answer, n in tally.answers.items() if answer != "200")
        latencies = sorted(tally.latencies)
        p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
        p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else float("nan")

        checks: list[tuple[str, str, bool]] = [
            (
                f"RSS growth ({windows})",
                f"{rss_first / 2**20:.1f} → {rss_last / 2**20:.1f} MiB, {rss_growth:+.1f} %",
                rss_growth < args.growth,
            ),
            (
                f"open FDs growth ({windows})",
                f"{fds_first:.1f} → {fds_last:.1f}, {fds_growth:+.1f} %",
                fds_growth < args.growth,
            ),
            (
                "webhooks answered 200",
                f"{tally.accepted} of {tally.offered} offered"
                + (f"; others: {dict(sorted(_others(tally.answers).items()))}" if non_200 else ""),
                non_200 == 0 and tally.offered > 0,
            ),
            (
                "cards delivered",
                f"{delivered} of {expected_cards} (groups; site 0's manager in private)"
                + (
                    f"; {self.behind_at_end} were still to go when the load ended, "
                    f"out {drained:.1f} s later"
                    if drained is not None
                    else f"; not drained {args.drain:g} s after the load"
                ),
                delivered == expected_cards,
            ),
            (
                LATENCY_CHECKS[0],
                f"{self.behind_at_end} behind = {self.behind_at_end / card_rate:.0f} s of cards "
                f"offered at {card_rate:.1f}/s; delivered under load "
                f"{self.delivered_under_load / (args.minutes * 60):.1f}/s",
                self.behind_at_end <= args.keep_up * card_rate,
            ),
            ("jobs dead", str(dead), dead == 0),
            (
                "jobs unfinished at the end (due pending + running)",
                str(due_pending + unfinished),
                due_pending + unfinished == 0,
            ),
            (
                "ERROR/Traceback lines in the service log",
                str(len(errors)),
                not errors,
            ),
            ("service exit on SIGTERM", str(exit_code), exit_code == 0),
            (
                "Telegram refusals / 429s",
                f"{sum(tally.telegram_refusals.values())} / {tally.retry_afters}",
                not tally.telegram_refusals and tally.retry_afters == 0,
            ),
            (
                "taps answered",
                f"{answered} of {taps} on {tally.tapped_cards} cards",
                answered == taps and taps > 0,
            ),
            (
                LATENCY_CHECKS[1],
                f"{sum(tally.effects.values())} of {taps}"
                + (f"; missing: {', '.join(tally.missing[:5])}" if tally.missing else ""),
                not tally.missing,
            ),
        ]
        for effect, label in (
            ("status", "status → Flexbe changeLead"),
            ("deal", "5CRM deal/add"),
            ("call", "call → Comunik8 lead/add"),
            ("uncall", "cancel call → Comunik8 lead/cancel"),
        ):
            checks.append(
                (
                    f"calls: {label}, once per tap",
                    f"{calls[effect]} of {tapped[effect]}",
                    calls[effect] == tapped[effect],
                )
            )

        print()
        print(
            f"offered {tally.offered} webhooks in {args.minutes:g} min "
            f"({tally.offered / (args.minutes * 60):.1f}/s; the open loop fell behind by at "
            f"most {tally.behind * 1000:.0f} ms); p50 / p99 {p50:.1f} / {p99:.1f} ms"
        )
        print(f"Telegram calls: {dict(tally.telegram_calls.most_common())}; edits {tally.edits}")
        print(f"tap answers: {dict(tally.callback_answers.most_common())}")
        print(f"jobs at the end: {dict(sorted(jobs.items()))}")
        print(f"service log: {len(errors)} error lines, {len(warnings)} warnings")
        for line in (errors or warnings)[:10]:
            print(f"  | {line[:200]}")
        if tally.telegram_refusals:
            print(f"Telegram refused: {dict(tally.telegram_refusals.most_common(5))}")
        peak_rss = max((s.rss for s in self.samples), default=0)
        peak_fds = max((s.fds for s in self.samples), default=0)
        print(f"peak RSS {peak_rss / 2**20:.1f} MiB, peak FDs {peak_fds}")
        print(f"cards per chat: {_spread(tally.cards)}; forgotten by the fake: {tally.forgotten}")
        print()
        print("| check | figure | target |")
        print("|---|---|---|")
        for name, figure, met in checks:
            verdict = "met" if met else "**NOT MET**"
            if name in LATENCY_CHECKS:
                verdict = "kept up" if met else "fell behind (capacity, not a failure)"
            print(f"| {name} | {figure} | {verdict} |")
        failed = [name for name, _figure, met in checks if not met and name not in LATENCY_CHECKS]
        print()
        print("all targets met" if not failed else f"missed: {', '.join(failed)}")
        return 1 if failed else 0

    def windows(self) -> tuple[float, float, float, float, str]:
        """Mean RSS and FDs over the first window after the warm-up and over the last one."""
        total = self.args.minutes * 60
        warmup = self.args.warmup * 60
        if warmup + 120 > total:  # a short run: a fifth to warm up, windows of a fifth
            warmup = total / 5
        width = min(60.0, (total - warmup) / 2)
        under_load = [s for s in self.samples if s.at <= total]
        first = [s for s in under_load if warmup <= s.at < warmup + width] or under_load[:1]
        last = [s for s in under_load if s.at >= total - width] or under_load[-1:]
        if not first or not last:
            return 0.0, 0.0, 0.0, 0.0, "no samples"
        label = (
            f"{warmup / 60:g}–{(warmup + width) / 60:g} min vs "
            f"{(total - width) / 60:g}–{total / 60:g} min"
        )
        return (
            statistics.mean(s.rss for s in first),
            statistics.mean(s.rss for s in last),
            statistics.mean(s.fds for s in first),
            statistics.mean(s.fds for s in last),
            label,
        )


def _card_ids(message: dict[str, Any]) -> tuple[int, int] | None:
    """The lead's row id (from a button: `la:<act>:<row>`) and its Flexbe id (the number)."""
    row = None
    markup = message.get("reply_markup") or {}
    for line in markup.get("inline_keyboard", []):
        for button in line:
            if match := CALLBACK.fullmatch(str(button.get("callback_data", ""))):
                row = int(match.group(1))
    number = re.search(r"#(\d+)</b>", str(message.get("text", "")))
    if row is None or number is None:
        return None
    return row, int(number.group(1))


def _queue(metrics: str) -> tuple[int, int, float]:
    """Pending and running jobs and the oldest due job's age, from `/metrics`."""
    counts: Counter[str] = Counter()
    oldest = 0.0
    for line in metrics.splitlines():
        if match := JOB_GAUGE.match(line):
            counts[match.group(2)] += int(float(match.group(3)))
        elif match := OLDEST_DUE.match(line):
            oldest = float(match.group(1))
    return counts["pending"], counts["running"], oldest


def _job_counts(database: Path) -> dict[tuple[str, str], int]:
    """Jobs by kind and status; pending jobs due now are also counted under `(due)`."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT kind, status, count(*) FROM job GROUP BY kind, status")
        counts = {(str(kind), str(status)): int(n) for kind, status, n in rows}
        due = connection.execute(
            "SELECT count(*) FROM job WHERE status = 'pending' AND run_at <= ?",
            (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),),
        ).fetchone()[0]
    counts[("(due)", "pending")] = int(due)
    return counts


def _run_queue_wait(pid: int) -> float:
    """Seconds the process's threads have waited for a CPU, from /proc (0 where it's not)."""
    total = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def _spread(cards: Counter[int]) -> str:
    if not cards:
        return "none"
    counts = sorted(cards.values())
    return f"{len(counts)} chats, {counts[0]}–{counts[-1]}"


def _growth(first: float, last: float) -> float:
    return (last - first) / first * 100 if first else float("inf")


def _others(answers: Counter[str]) -> Counter[str]:
    return Counter({answer: n for answer, n in answers.items() if answer != "200"})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks offered per second")
    parser.add_argument("--sites", type=int, default=20, help="sites the leads are spread over")
    parser.add_argument(
        "--chat-sites", type=int, default=2, help="of them, sites with a group chat (cards)"
    )
    parser.add_argument("--tap-every", type=float, default=1.0, help="s between tapped cards")
    parser.add_argument("--sample", type=float, default=5.0, help="s between samples")
    parser.add_argument("--warmup", type=float, default=2.0, help="minutes not compared")
    parser.add_argument("--growth", type=float, default=10.0, help="target: growth below, %%")
    parser.add_argument("--connections", type=int, default=64, help="the client's pool")
    parser.add_argument("--drain", type=float, default=600.0, help="s to wait for the backlog")
    parser.add_argument(
        "--keep-up", type=float, default=10.0, help="target: cards behind at the end ≤ this many s"
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(Soak(args).run()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
