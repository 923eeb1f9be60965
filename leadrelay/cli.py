"""The `leadrelay` command."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import httpx
import typer

from actions.clients import flexbe_client_for
from actions.sync import parse_since, sync_site
from config.settings import ConfigError, Settings, get_settings, load_settings
from config.sites import EffectiveSite
from domain.statuses import LeadStatus
from integrations.errors import IntegrationError
from integrations.first_admin import NoLink, first_admin_link, has_admin
from integrations.health import CheckResult, check_all
from jobs.cli import build_app as build_jobs_app
from leadrelay.first_run import add_secret_key, write_first_env
from leadrelay.logs import configure_logging
from leadrelay.progress import SyncProgress
from leadrelay.runtime import Role, StartupError, prepare_database, run
from leadrelay.samples import sample_lead_event
from storage.clock import utcnow
from storage.database import Database
from storage.migrate import head_revision, upgrade
from storage.queries.console_logins import LOGIN_LINK_LIFETIME, create_login_link
from webhooks.forms import encode_form

app = typer.Typer(
    name="leadrelay",
    help="Flexbe webhooks in, live lead cards in Telegram.",
    no_args_is_help=True,
    add_completion=False,
)
STATUS_CODES = ", ".join(str(status.value) for status in LeadStatus)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.secho("Invalid configuration:", fg="red", err=True)
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.secrets())
    return settings


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to this version."""
    settings = _settings()

    async def _run() -> None:
        database = Database(settings.database_url)
        try:
            await upgrade(database)
        finally:
            await database.dispose()

    try:
        asyncio.run(_run())
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        typer.secho(f"Migration failed: {reason}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Database is at schema {head_revision()}.")


def webhook_urls(settings: Settings, base_url: str) -> list[tuple[str, str]]:
    return [
        (site.display_name, f"{base_url}/flexbe/{site.webhook_token.get_secret_value()}")
        for site in settings.effective_sites
    ]


def _banner(settings: Settings, base_url: str, *, first_run: bool = False) -> None:
    typer.echo(f"leadrelay listening on {base_url}")
    if not settings.sites:
        typer.secho(
            "No Flexbe site is configured: set LEADRELAY_WEBHOOK_TOKEN (one site) or "
            "LEADRELAY_CONFIG (several) and restart.",
            fg="yellow",
        )
    elif sys.stdout.isatty() or first_run:
        typer.echo("Paste into Flexbe (Settings → Webhooks), one URL per site:")
        for name, url in webhook_urls(settings, base_url):
            typer.echo(f"  {name}: {url}")
    else:
        # Not a terminal: stdout may end up in a log, and the URL holds the site's secret.
        typer.echo(
            f"{len(settings.sites)} site(s) configured; run `leadrelay webhook-urls` "
            "to print their webhook URLs."
        )
    if settings.telegram_enabled:
        typer.echo("Telegram notifications: on.")
    else:
        typer.secho(
            "Telegram notifications are OFF (no LEADRELAY_TELEGRAM_BOT_TOKEN): "
            "leads are still received and stored.",
            fg="yellow",
        )


def _base_url(settings: Settings, host: str, port: int) -> str:
    if settings.public_url is not None:
        return str(settings.public_url).rstrip("/")
    shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
    return f"http://{shown}:{port}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    role: Annotated[Role, typer.Option(help="What this process runs.")] = Role.ALL,
    first_run: Annotated[
        bool,
        typer.Option(
            "--first-run",
            help="With no .env and no site configured, write .env with new tokens first "
            "(`make serve` does).",
        ),
    ] = False,
) -> None:
    """Run the service: webhook intake, admin API and console, and (by role) the job worker."""
    first = write_first_env(os.environ) if first_run else None
    if first is not None:
        typer.secho(
            f"First run: wrote {first.path} (mode 600) with a new webhook token and admin "
            "token. Edit it to add Telegram and the rest (every setting: .env.example).",
            fg="green",
        )
    elif first_run and add_secret_key(os.environ):
        typer.echo("Added LEADRELAY_SECRET_KEY to .env: it seals what the console stores.")
    settings = _settings()
    base_url = _base_url(settings, host, port)
    _banner(settings, base_url, first_run=first is not None)
    _links_banner(
        settings,
        base_url,
        role=role,
        with_links=first is not None or sys.stdout.isatty(),
    )
    try:
        run(settings, host=host, port=port, role=role)
    except StartupError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None


# How long start-up waits for `getMe` to name the bot for the first admin's link.
BANNER_GETME_SECONDS = 3.0


def _links_banner(settings: Settings, base_url: str, *, role: Role, with_links: bool) -> None:
    """The console's address (the web role) and, in a terminal or on the first run (not into
    a log: they let whoever has them in), a login link to it and the first admin's link to
    the bot."""
    console = role.runs(Role.WEB)
    if console and settings.admin_token is None:
        typer.echo("Admin console: off (set LEADRELAY_ADMIN_TOKEN to turn it on).")
    elif console:
        typer.echo(f"Admin console: {base_url}/admin (log in with LEADRELAY_ADMIN_TOKEN)")
    login = console and with_links and settings.admin_token is not None
    admin = role.runs(Role.BOT) and settings.telegram_enabled
    if not (login or admin):
        return
    try:
        links = asyncio.run(_start_links(settings, login=login, admin=admin, admin_link=with_links))
    except (StartupError, typer.Exit):
        return  # `run` reports what is wrong with the database next
    if links.login_token is not None:
        minutes = int(LOGIN_LINK_LIFETIME.total_seconds() // 60)
        typer.echo(
            f"  or log in once within {minutes} min: {base_url}/admin/link/{links.login_token}"
        )
    if not links.needs_admin:
        return
    if isinstance(links.admin_link, str):
        typer.echo("No admin yet: open this link in Telegram to become the admin (once, 24 h):")
        typer.echo(f"  {links.admin_link}")
    elif links.admin_link is NoLink.NO_BOT:
        typer.secho(
            "No admin yet, and the bot could not be asked its name: try `leadrelay admin-link`.",
            fg="yellow",
        )
    else:
        typer.echo("No admin yet: `leadrelay admin-link` prints the link that makes the first.")


@dataclass(frozen=True, slots=True)
class _StartLinks:
    login_token: str | None
    # No admin yet, and this process runs the bot: the first admin's link, or why there is
    # none (None: not asked for).
    needs_admin: bool
    admin_link: str | NoLink | None


async def _start_links(
    settings: Settings, *, login: bool, admin: bool, admin_link: bool
) -> _StartLinks:
    database = await prepare_database(settings)
    try:
        login_token = None
        if login:
            async with database.write() as session:
                login_token = await create_login_link(session, created_by=None)
        needs_admin = admin and not await has_admin(database, settings)
        link = None
        if needs_admin and admin_link:
            link = await first_admin_link(database, settings, timeout=BANNER_GETME_SECONDS)
        return _StartLinks(login_token, needs_admin, link)
    finally:
        await database.dispose()


@app.command("admin-link")
def admin_link_command() -> None:
    """Print a one-time link that makes whoever opens it in Telegram the first admin (valid
    24 h; only while the team has no admin: admins make others admin in /managers)."""
    settings = _settings()

    async def _run() -> str | NoLink:
        database = await prepare_database(settings)
        try:
            return await first_admin_link(database, settings)
        finally:
            await database.dispose()

    try:
        link = asyncio.run(_run())
    except StartupError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None
    if link is NoLink.HAS_ADMIN:
        typer.secho(
            "The team has an admin already: admins make others admin in /managers or on the "
            "console's Sites page.",
            fg="yellow",
            err=True,
        )
        raise typer.Exit(1)
    if link is NoLink.NO_BOT:
        typer.secho(
            "The bot is not known: set LEADRELAY_TELEGRAM_BOT_TOKEN or paste the token on the "
            "console's Sites page, and check that the Bot API is reachable "
            "(LEADRELAY_TELEGRAM_API_URL).",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(link)


@app.command("webhook-urls")
def webhook_urls_command(
    base_url: Annotated[
        str | None, typer.Option(help="Public base URL (default LEADRELAY_PUBLIC_URL).")
    ] = None,
) -> None:
    """Print each site's webhook URL to paste into Flexbe. They contain secrets."""
    settings = _settings()
    base = (base_url or _base_url(settings, "127.0.0.1", 8080)).rstrip("/")
    if not settings.sites:
        typer.secho("No Flexbe site is configured.", fg="yellow", err=True)
        raise typer.Exit(1)
    for name, url in webhook_urls(settings, base):
        typer.echo(f"{name}\t{url}")


@app.command()
def sync(
    site: Annotated[
        str | None, typer.Option(help="Site key (default: every site with a Flexbe API key).")
    ] = None,
    since: Annotated[str, typer.Option(help="How far back: 7d, 12h, or a date.")] = "30d",
    status: Annotated[
        int | None, typer.Option(help=f"Only this Flexbe status ({STATUS_CODES}).")
    ] = None,
) -> None:
    """Pull leads from Flexbe (getLeads) into storage; safe to interrupt and run again."""
    settings = _settings()
    try:
        moment = parse_since(since, now=utcnow())
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    sites = [s for s in settings.effective_sites if s.has_flexbe_api]
    if site is not None:
        sites = [s for s in sites if s.key == site]
    if not sites:
        typer.secho(
            "No site with a Flexbe API URL and key"
            + (f" named {site!r}" if site else "")
            + ": set LEADRELAY_FLEXBE_API_URL and LEADRELAY_FLEXBE_API_KEY (or the site's "
            "flexbe_api_url and flexbe_api_key in LEADRELAY_CONFIG).",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    failed = asyncio.run(_sync_sites(settings, sites, moment, status))
    raise typer.Exit(1 if failed else 0)


async def _sync_sites(
    settings: Settings, sites: list[EffectiveSite], since: datetime, status: int | None
) -> int:
    database = await _migrated_database(settings)
    failed = 0
    try:
        for site in sites:
            progress = SyncProgress(site.display_name, since=since, now=utcnow())
            try:
                async with flexbe_client_for(site) as client:
                    summary = await sync_site(
                        database=database,
                        client=client,
                        site_key=site.key,
                        chats=site.chats,
                        since=since,
                        status=status,
                        progress=progress,
                        region=site.region,
                    )
            except IntegrationError as exc:
                progress.close()
                typer.secho(
                    f"{site.display_name}: Flexbe failed: {exc.message}", fg="red", err=True
                )
                failed += 1
                continue
            progress.close()
            typer.echo(
                f"{site.display_name}: {summary.new} new, {summary.updated} updated, "
                f"{summary.unchanged} unchanged, {summary.failed} failed"
            )
            for error in summary.errors:
                typer.secho(f"  {error}", fg="yellow", err=True)
            failed += summary.failed > 0
    finally:
        await database.dispose()
    return failed


async def _migrated_database(settings: Settings) -> Database:
    try:
        return await prepare_database(settings)
    except StartupError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None


@app.command()
def prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
) -> None:
    """Delete what is past LEADRELAY_RETENTION_DAYS now (the worker does it every hour)."""
    settings = _settings()
    summary = asyncio.run(_prune(settings, dry_run=dry_run))
    typer.echo(("would remove " if dry_run else "removed ") + summary)


async def _prune(settings: Settings, *, dry_run: bool) -> str:
    from actions.retention import RetentionSettings, count_prunable
    from actions.retention import prune as prune_now

    database = await _migrated_database(settings)
    options = RetentionSettings.from_settings(settings)
    try:
        if dry_run:
            report = await count_prunable(database, options, now=utcnow())
        else:
            report = await prune_now(database, options, now=utcnow())
    finally:
        await database.dispose()
    return report.describe()


@app.command("send-test-lead")
def send_test_lead(
    site: Annotated[str | None, typer.Option(help="Site key (default: the first site).")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Where the service runs (default LEADRELAY_PUBLIC_URL).")
    ] = None,
) -> None:
    """Post a realistic Flexbe `lead` webhook to the running service, to watch the path work."""
    settings = _settings()
    chosen = [s for s in settings.effective_sites if site is None or s.key == site]
    if not chosen:
        typer.secho(
            f"No site {site!r} is configured." if site else "No site is configured.",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    target = chosen[0]
    base = (base_url or _base_url(settings, "127.0.0.1", 8080)).rstrip("/")
    body = encode_form(sample_lead_event(flexbe_id=secrets.randbelow(10**9) + 10**9))
    try:
        response = httpx.post(
            f"{base}/flexbe/{target.webhook_token.get_secret_value()}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        typer.secho(f"Cannot reach leadrelay at {base}: {type(exc).__name__}", fg="red", err=True)
        raise typer.Exit(1) from None
    if response.status_code != 200:
        typer.secho(
            f"leadrelay answered {response.status_code}: {response.text[:300]}", fg="red", err=True
        )
        raise typer.Exit(1)
    answer = response.json()
    status, lead_id = answer.get("status"), answer.get("lead_id")
    typer.echo(f"Sent a test lead to {target.display_name}: {status}, lead id {lead_id}.")


@app.command()
def doctor() -> None:
    """Check every configured part: database, Flexbe sites, 5CRM, Comunik8, Telegram."""
    settings = _settings()
    results = asyncio.run(_doctor_checks(settings))
    width = max(len(result.name) for result in results)
    failed = 0
    for result in results:
        if result.skipped:
            mark, color = "skip", "white"
        elif result.ok:
            mark, color = " ok ", "green"
        else:
            mark, color, failed = "FAIL", "red", failed + 1
        typer.secho(f"[{mark}] {result.name:<{width}}  {result.detail}", fg=color)
        if not result.ok and not result.skipped and result.setting:
            typer.echo(f"       {'':<{width}}  fix: {result.setting}")
    raise typer.Exit(1 if failed else 0)


async def _doctor_checks(settings: Settings) -> list[CheckResult]:
    return [await _check_database(settings), *await check_all(settings)]


async def _check_database(settings: Settings) -> CheckResult:
    name = "database"
    try:
        database = await prepare_database(settings)
    except StartupError as exc:
        return CheckResult(name, False, str(exc), "LEADRELAY_DATABASE_URL")
    await database.dispose()
    return CheckResult(name, True, f"reachable, schema {head_revision()}")


def _database_url() -> str:
    try:
        return get_settings().database_url
    except ConfigError as exc:
        typer.secho(f"Invalid configuration:\n{exc}", fg="red", err=True)
        raise typer.Exit(2) from None


app.add_typer(
    build_jobs_app(_database_url), name="jobs", help="List, inspect, retry or discard jobs."
)


def main() -> None:
    app()
