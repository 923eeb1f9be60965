"""The admin console with 100,000 leads: each page's p95, and the exports' memory.

    .venv/bin/python bench/console.py [--leads 100000] [--requests 40] [--postgres-url URL]

A fresh SQLite file (or a database of its own on the PostgreSQL server) is filled in bulk:
`--leads` leads over the last 60 days on two sites, one accepted inbox event per lead, 2,000
rejected events (older than every accepted one: the worst case for the inbox page),
100,000 done jobs and 500 dead ones with an attempt each. The real service
(`leadrelay serve --role web`, a subprocess on loopback) is logged into over HTTP as a
browser does (the CSRF token read from the login page), then every page is fetched
`--requests` times after a warm-up, and its p95 printed, with `/healthz` (one trivial query)
as the baseline of the same run. The target: every page under 200 ms p95.

Then the whole set is exported as CSV and as XLSX while the service's resident memory is
sampled every 10 ms (psutil): the peak growth over the memory before the export is printed.
The target: under 50 MiB, whatever the number of leads.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psutil
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pg_database import drop_database, recreate_database  # noqa: E402
from bench.server_process import ServerProcess  # noqa: E402
from console.filters import cursor  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from testkit.service import LEADRELAY, free_port, service_environment  # noqa: E402

BENCH_DATABASE = "leadrelay_bench_console"
ADMIN_TOKEN = "bench-console-admin-Token-0123456789"
WEBHOOK_TOKEN = "bench-console-webhook-Token-0123456789"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _series(postgres: bool, count: int) -> str:
    if postgres:
        return f"generate_series(1, {count}) AS s(n)"
    return (
        f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) "
        "SELECT n FROM s)"
    )


def _fill_sql(postgres: bool, leads: int) -> list[str]:
    """Leads spread over 60 days, their events, rejected events, done and dead jobs.

    Ids grow with time, as they do in service: the n-th of `leads` rows is 60 days ago
    less n × (60 days / `leads`); the shorter series (rejected events, dead jobs) sit at the
    start of the 60 days, inserted first: the worst case for pages that list them newest
    first beside a hundred thousand newer rows."""
    minutes = f"(86400 - n * {86400 / leads!r})"  # 60 days in minutes, down to 0
    if postgres:
        ago = f"now() - {minutes} * interval '1 minute'"
        now = "now()"
        phone = "'+7912' || lpad((n % 10000000)::text, 7, '0')"
        body = "convert_to('event=lead&data[id]=' || n, 'UTF8')"
        bad_body = "convert_to('event=lead&data[id]=x' || n, 'UTF8')"
    else:
        ago = f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || {minutes} || ' minutes')"
        now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        phone = "'+7912' || substr('0000000' || (n % 10000000), -7, 7)"
        body = "CAST('event=lead&data[id]=' || n AS BLOB)"
        bad_body = "CAST('event=lead&data[id]=x' || n AS BLOB)"
    names = "CASE n % 4 WHEN 0 THEN 'Анна' WHEN 1 THEN 'Борис' WHEN 2 THEN 'Carl' ELSE 'Дарья' END"
    # As `storage.queries.fragments.fold` stores them (SQLite's lower() folds ASCII only).
    folded = "CASE n % 4 WHEN 0 THEN 'анна' WHEN 1 THEN 'борис' WHEN 2 THEN 'carl' ELSE 'дарья' END"
    site = "CASE n % 2 WHEN 0 THEN 'default' ELSE 'dveri' END"
    status = "CASE WHEN n % 10 < 6 THEN 0 WHEN n % 10 < 8 THEN 1 WHEN n % 10 = 8 THEN 2 ELSE 10 END"
    return [
        "INSERT INTO site (key, name, created_at, updated_at) VALUES "
        f"('default', 'Окна', {now}, {now}), ('dveri', 'Двери', {now}, {now})",
        "INSERT INTO lead (site_key, flexbe_id, num, created_at, status_code, status_name,"
        " client_name, client_name_folded, client_phone, client_phone_normalized, client_email,"
        " client_email_normalized, note, form_name,"
        " form_data, page_url, page_name, utm, pay_summ, pay_status_code, origin,"
        " received_at, updated_at, version)"
        f" SELECT {site}, n, n % 100000, {ago}, {status}, '', {names} || ' ' || n,"
        f" {folded} || ' ' || n, {phone}, {phone}, 'client' || n || '@mail.ru',"
        " 'client' || n || '@mail.ru', '', 'Заявка', '{}', 'https://okna.ru/',"
        " 'Замер', '{\"utm_source\": \"yandex\"}',"
        " CASE WHEN n % 5 = 0 THEN '1500.00' END, CASE WHEN n % 5 = 0 THEN n % 3 END,"
        f" 'webhook', {ago}, {ago}, 1 FROM {_series(postgres, leads)}",
        "INSERT INTO inbox_event (site_key, event, content_type, body, outcome, error,"
        f" received_at) SELECT {site}, '', 'application/x-www-form-urlencoded', {bad_body},"
        f" 'rejected', 'data.id: not an integer', {ago} FROM {_series(postgres, 2000)}",
        "INSERT INTO inbox_event (site_key, event, content_type, body, outcome, lead_id,"
        f" received_at) SELECT {site}, 'lead', 'application/x-www-form-urlencoded', {body},"
        f" 'accepted', n, {ago} FROM {_series(postgres, leads)}",
        "INSERT INTO job (kind, payload, dedupe_key, queue, status, attempts, max_attempts,"
        " run_at, created_at, updated_at, finished_at, last_error, postponements)"
        f" SELECT 'flexbe.status', '{{}}', 'bench:dead:' || n, NULL, 'dead', 8, 8,"
        f" {ago}, {ago}, {ago}, {ago}, 'Flexbe answered 500', 0 FROM {_series(postgres, 500)}",
        "INSERT INTO job (kind, payload, dedupe_key, queue, status, attempts, max_attempts,"
        " run_at, created_at, updated_at, finished_at, postponements)"
        f" SELECT 'notify', '{{}}', 'bench:done:' || n, 'tg:' || (n % 50), 'done', 1, 8,"
        f" {ago}, {ago}, {ago}, {ago}, 0 FROM {_series(postgres, 100_000)}",
        "INSERT INTO job_attempt (job_id, attempt, worker, started_at, finished_at, outcome,"
        " error) SELECT id, 1, 'w1', run_at, run_at, 'failed', 'Flexbe answered 500'"
        " FROM job WHERE status = 'dead'",
    ]


async def fill(url: str, leads: int) -> float:
    database = Database(url)
    try:
        await upgrade(database)
        started = time.perf_counter()
        async with database.write() as session:
            connection = await session.connection()
            for statement in _fill_sql(database.dialect == "postgresql", leads):
                await connection.execute(text(statement))
        async with database.write() as session:
            connection = await session.connection()
            await connection.execute(text("ANALYZE"))
        return time.perf_counter() - started
    finally:
        await database.dispose()


def web_service(url: str, workdir: Path) -> ServerProcess:
    """`leadrelay serve --role web` on `url`, its console on, with one site."""
    port = free_port()
    env = service_environment(
        LEADRELAY_DATABASE_URL=url,
        LEADRELAY_LOG_LEVEL="WARNING",
        LEADRELAY_ADMIN_TOKEN=ADMIN_TOKEN,
        LEADRELAY_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        LEADRELAY_CONFIG=str(workdir / "sites.toml"),
    )
    (workdir / "sites.toml").write_text(
        '[[sites]]\nkey = "dveri"\nname = "Двери"\n'
        'webhook_token = "bench-console-dveri-Token-0123456789"\n'
    )
    argv = [LEADRELAY, "serve", "--role", "web", "--port", str(port)]
    return ServerProcess(argv, port=port, cwd=workdir, env=env)


def _login_form(page: httpx.Response) -> dict[str, str]:
    found = _CSRF.search(page.text)
    assert found is not None
    return {"csrf": found.group(1), "token": ADMIN_TOKEN}


def log_in(client: httpx.Client) -> None:
    answer = client.post("/admin/login", data=_login_form(client.get("/admin/login")))
    assert answer.status_code == 303, answer.status_code


async def log_in_async(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/login")
    answer = await client.post("/admin/login", data=_login_form(page))
    assert answer.status_code == 303, answer.status_code


def _ms(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    took = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return took


def _p50_p95(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def timed_in_turns(
    client: httpx.Client, path: str, bare: httpx.Client, requests: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(p50, p95) of `path` and of the bare page, fetched in turns, one after the other:
    the machine's drift and the other helpers' load fall on both alike."""
    for _ in range(3):
        client.get(path)
    page_times, bare_times = [], []
    for _ in range(requests):
        page_times.append(_ms(client, path))
        bare_times.append(_ms(bare, "/page"))
    return _p50_p95(page_times), _p50_p95(bare_times)


def export_growth_mib(client: httpx.Client, pid: int, path: str) -> tuple[float, int, float]:
    """Peak RSS growth of the service during the export, bytes received, seconds."""
    process = psutil.Process(pid)
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    received = 0
    started = time.perf_counter()
    try:
        with client.stream("GET", path, timeout=600) as response:
            assert response.status_code == 200, response.status_code
            for chunk in response.iter_bytes():
                received += len(chunk)
    finally:
        done.set()
        sampler.join()
    return (peak - before) / 2**20, received, time.perf_counter() - started


def pages(lead_id: int, today: date) -> list[str]:
    """Every page, and for the leads the filters in their worst cases: a week long past
    (every newer lead is passed over), a status and site no lead has together, a name and a
    part of an address that nobody has (the whole table searched), a page far down."""
    old_week = f"since={today - timedelta(days=50)}&until={today - timedelta(days=43)}"
    return [
        "/admin",
        "/admin/leads",
        "/admin/leads?status=1&site=dveri",
        "/admin/leads?since=2026-01-01&origin=webhook",
        f"/admin/leads?{old_week}",
        "/admin/leads?status=11&site=dveri",
        "/admin/leads?manager=4242",
        f"/admin/leads?cursor={cursor(lead_id // 50)}",
        "/admin/leads?q=%2B7+912+000+12+34",
        "/admin/leads?q=client77%40mail.ru",
        "/admin/leads?q=Дарья+99",
        "/admin/leads?q=nobody",
        "/admin/leads?q=x77777%40mail",
        "/admin/leads?q=77777",
        f"/admin/leads/{lead_id}",
        "/admin/inbox",
        "/admin/jobs",
        "/admin/sites",
    ]


def bare_page() -> ServerProcess:
    """bench/bare_app.py under uvicorn, served as the service is (uvloop, no access lines)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port)]
    return ServerProcess(
        [*argv, "--log-level", "warning"], port=port, cwd=ROOT, name="the bare app"
    )


def _load() -> str:
    """The machine's load average over 1, 5 and 15 minutes."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(url: str, label: str, leads: int, requests: int, workdir: Path) -> None:
    seconds = asyncio.run(fill(url, leads))
    print(f"\n{label}: {leads:,} leads, their events and 100,500 jobs filled in {seconds:.1f} s")
    service, bare_app = web_service(url, workdir), bare_page()
    try:
        with (
            httpx.Client(base_url=service.base, timeout=60) as client,
            httpx.Client(base_url=bare_app.base, timeout=60) as bare,
        ):
            service.wait_ready(client, "/healthz", 60)
            bare_app.wait_ready(bare, "/page", 30)
            log_in(client)
            print(f"  load average before: {_load()}")
            print(f"  {'page':<52} {'p50':>7} {'p95':>7}   bare p50/p95    p95 ÷ bare p95")
            worst = ("", 0.0)
            for path in ["/healthz", *pages(leads // 2, datetime.now(UTC).date())]:
                (p50, p95), (bare50, bare95) = timed_in_turns(client, path, bare, requests)
                worst = max(worst, (path, p95), key=lambda item: item[1])
                print(
                    f"  {path:<52} {p50:7.1f} {p95:7.1f}   {bare50:5.1f} / {bare95:5.1f} ms"
                    f"   {p95 / bare95:6.1f}×"
                )
            verdict = "met" if worst[1] < 200 else "MISSED"
            print(f"  slowest p95 {worst[1]:.1f} ms ({worst[0]}): target < 200 ms {verdict}")
            print(f"  load average after the pages: {_load()}")
            for kind in ("csv", "xlsx"):
                growth, size, took = export_growth_mib(
                    client, service.process.pid, f"/admin/leads/export.{kind}"
                )
                verdict = "met" if growth < 50 else "MISSED"
                print(
                    f"  export.{kind}: {size / 2**20:6.1f} MiB in {took:5.1f} s, peak RSS growth "
                    f"{growth:5.1f} MiB: target < 50 MiB {verdict}"
                )
            print(f"  load average after the exports: {_load()}")
    finally:
        service.stop()
        bare_app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--postgres-url", help="also run on PostgreSQL (server URL)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadrelay-bench-console-") as folder:
        workdir = Path(folder)
        url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        run(url, "SQLite", options.leads, options.requests, workdir)
        if options.postgres_url:
            pg = asyncio.run(recreate_database(options.postgres_url, BENCH_DATABASE))
            try:
                run(pg, "PostgreSQL", options.leads, options.requests, workdir)
            finally:
                asyncio.run(drop_database(options.postgres_url, BENCH_DATABASE))


if __name__ == "__main__":
    main()
