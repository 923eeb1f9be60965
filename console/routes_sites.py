"""The Sites page and its forms: the checks, a site's webhook URL, adding a Flexbe site,
editing, rotating the webhook token of, disabling and enabling a site added here, and
removing a chat connected from Telegram. Sites from the configuration are read-only.

Each form saves all it says in one transaction, or nothing: what it refuses, it refuses
before writing, in a sentence. A stored change raises the set-up's version, so every
process takes it up within a second, without a restart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from config.sealing import Sealer, SealError
from config.sites import SiteConfig
from console.access import AdminSession, Console, ConsoleDep, Form
from console.forms import Refused, text_field, whole_number
from console.notices import back
from console.probes import check_flexbe_key
from console.site_form import SiteFields, choose_key, read_secret, site_config
from console.site_keys import new_webhook_token
from console.sites_page import Reveal, sealer_of, sites_page, webhook_url
from integrations.health import check_all
from storage.clock import utcnow
from storage.models import EVERY_SITE, ConsoleSite
from storage.queries.setup import (
    connect_chat,
    connections_to_site,
    console_site_keys,
    disconnect_chat,
    get_console_site,
    save_console_site,
)
from storage.queries.sites import site_keys

router = APIRouter(prefix="/admin", include_in_schema=False)
SITES_PAGE = "/admin/sites"
Key = Annotated[str, Path(max_length=32)]
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 24 * 30
MAX_CHAT_ID = 10**20


def no_secret_key(_: Callable[[str], str]) -> str:
    return _(
        "LEADRELAY_SECRET_KEY is not set, so nothing secret can be stored here: set it "
        "(the first run writes one into .env) and restart."
    )


def unreadable_secrets(_: Callable[[str], str]) -> str:
    return _(
        "The secrets stored for this site cannot be read with this LEADRELAY_SECRET_KEY (was "
        "it changed?): set the key back, or remove the site's row and add it again."
    )


def sealer_or_refuse(console: Console, _: Callable[[str], str]) -> Sealer:
    sealer = sealer_of(console)
    if sealer is None:
        raise Refused(no_secret_key(_))
    return sealer


@router.get("/sites")
async def sites(request: Request, console: ConsoleDep, session: AdminSession) -> Response:
    return await sites_page(request, console, session)


@router.post("/sites/doctor")
async def run_checks(
    request: Request, console: ConsoleDep, session: AdminSession, _form: Form
) -> Response:
    checks: list[object] = list(await check_all(console.settings))
    return await sites_page(request, console, session, checks=checks)


@router.post("/sites/{key}/webhook-url")
async def reveal_webhook_url(
    key: Key, request: Request, console: ConsoleDep, session: AdminSession, _form: Form
) -> Response:
    """The webhook URL holds the site's token: shown to the admin who asked, not cached."""
    _ = console.renderer.gettext(request)
    configured = next((s for s in console.settings.sites if s.key == key), None)
    if configured is not None:
        url = webhook_url(console, request, configured.webhook_token.get_secret_value())
        return await sites_page(request, console, session, revealed=Reveal(key, url))
    async with console.database.read() as db:
        row = await get_console_site(db, key)
    if row is None:
        return back(request, console, SITES_PAGE, _("No such site."))
    try:
        token = sealer_or_refuse(console, _).open(row.webhook_token_sealed)
    except Refused as refused:
        return await sites_page(
            request, console, session, status_code=400, problem=refused.sentence
        )
    except SealError:
        return await sites_page(
            request, console, session, status_code=400, problem=unreadable_secrets(_)
        )
    url = webhook_url(console, request, token.get_secret_value())
    return await sites_page(request, console, session, revealed=Reveal(key, url))


async def _check_api(config: SiteConfig, _: Callable[[str], str]) -> None:
    if config.flexbe_api_url is not None and config.flexbe_api_key is not None:
        await check_flexbe_key(
            str(config.flexbe_api_url), config.flexbe_api_key.get_secret_value(), _
        )


def _fill(row: ConsoleSite, config: SiteConfig, sealer: Sealer) -> None:
    """The row takes what the form set (its key and webhook token stay)."""
    sla = config.sla
    row.name = config.name
    row.flexbe_api_url = None if config.flexbe_api_url is None else str(config.flexbe_api_url)
    row.flexbe_api_key_sealed = (
        None if config.flexbe_api_key is None else sealer.seal(config.flexbe_api_key)
    )
    row.default_region = config.default_region
    row.working_hours = config.working_hours
    row.sla_remind_after = sla.remind_after if sla else None
    row.sla_escalate_after = sla.escalate_after if sla else None


async def _set_chats(db: AsyncSession, config: SiteConfig) -> None:
    """The site's own chats become those of the form: others connected to it go, the
    titles Telegram gave stay."""
    existing = {c.chat_id: c for c in await connections_to_site(db, config.key)}
    wanted = {chat.chat_id: chat for chat in config.chats}
    for chat_id in existing.keys() - wanted.keys():
        await disconnect_chat(db, chat_id=chat_id, site_key=config.key)
    for chat in config.chats:
        title = existing[chat.chat_id].title if chat.chat_id in existing else ""
        await connect_chat(
            db,
            chat_id=chat.chat_id,
            site_key=config.key,
            topic=chat.topic,
            title=title,
            created_by=None,
        )


@router.post("/sites/new")
async def add_site(
    request: Request, console: ConsoleDep, session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    fields = SiteFields()
    try:
        fields = SiteFields.read(form, _)
        sealer = sealer_or_refuse(console, _)
        api_key = read_secret(form, "flexbe_api_key", _)
        async with console.database.read() as db:
            stored = await console_site_keys(db)
            others = await site_keys(db)
        key = choose_key(
            fields,
            configured=[site.key for site in console.settings.sites],
            stored=stored,
            others=others,
            _=_,
        )
        token = new_webhook_token()
        config = site_config(fields, key=key, token=SecretStr(token), api_key=api_key, _=_)
        await _check_api(config, _)
        row = ConsoleSite(key=key, webhook_token_sealed=sealer.seal(config.webhook_token))
        _fill(row, config, sealer)
        taken = _("A site with the key {key} was added meanwhile: try again.").format(key=key)
        try:
            async with console.database.write() as db:
                if await get_console_site(db, key) is not None:
                    raise Refused(taken)
                await save_console_site(db, row)
                await _set_chats(db, config)
        except IntegrityError:  # added by another admin between the look and the commit
            raise Refused(taken) from None
    except Refused as refused:
        return await sites_page(
            request, console, session, status_code=400, problem=refused.sentence, add_form=fields
        )
    notice = _(
        "{name} is added, as {key}. Paste its webhook URL, below, into Flexbe (the site's "
        "settings → Integrations → Webhook): its leads come in from then on."
    ).format(name=config.name, key=key)
    url = webhook_url(console, request, token)
    return await sites_page(request, console, session, notice=notice, revealed=Reveal(key, url))


async def _console_site(console: Console, key: str) -> ConsoleSite | None:
    async with console.database.read() as db:
        return await get_console_site(db, key)


def _not_here(console: Console, key: str, _: Callable[[str], str]) -> str:
    if any(site.key == key for site in console.settings.sites):
        return _("{key} is a site from the configuration: change it there.").format(key=key)
    return _("No such site.")


@router.post("/sites/{key}/edit")
async def edit_site(
    key: Key, request: Request, console: ConsoleDep, session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    row = await _console_site(console, key)
    if row is None:
        return back(request, console, SITES_PAGE, _not_here(console, key, _))
    fields = SiteFields()
    try:
        fields = SiteFields.read(form, _)
        sealer = sealer_or_refuse(console, _)
        new_key = read_secret(form, "flexbe_api_key", _)
        try:
            token = sealer.open(row.webhook_token_sealed)
            kept_key = sealer.open(row.flexbe_api_key_sealed) if row.flexbe_api_key_sealed else None
        except SealError:
            raise Refused(unreadable_secrets(_)) from None
        api_key = new_key or (kept_key.get_secret_value() if kept_key else "")
        if not fields.flexbe_api_url and not new_key:
            api_key = ""  # no API URL: the API is off, its key goes with it
        config = site_config(fields, key=key, token=token, api_key=api_key, _=_)
        url = None if config.flexbe_api_url is None else str(config.flexbe_api_url)
        if new_key or url != row.flexbe_api_url:
            await _check_api(config, _)
        async with console.database.write() as db:
            current = await get_console_site(db, key)
            if current is None:
                raise Refused(_("No such site."))
            _fill(current, config, sealer)
            await save_console_site(db, current)
            await _set_chats(db, config)
    except Refused as refused:
        return await sites_page(
            request,
            console,
            session,
            status_code=400,
            problem=refused.sentence,
            editing=(key, fields),
        )
    return back(request, console, SITES_PAGE, _("{name} is saved.").format(name=fields.name))


@router.post("/sites/{key}/rotate")
async def rotate_token(
    key: Key, request: Request, console: ConsoleDep, session: AdminSession, form: Form
) -> Response:
    """A new webhook token; the old one is still taken for the grace the admin chose, so
    that Flexbe can be given the new URL meanwhile."""
    _ = console.renderer.gettext(request)
    if await _console_site(console, key) is None:
        return back(request, console, SITES_PAGE, _not_here(console, key, _))
    try:
        sealer = sealer_or_refuse(console, _)
        label = _("The grace period")
        typed = text_field(form, "grace_hours", label, 8, _) or str(DEFAULT_GRACE_HOURS)
        hours = whole_number(typed, label, 0, MAX_GRACE_HOURS, _)
        token = new_webhook_token()
        until = utcnow() + timedelta(hours=hours)
        async with console.database.write() as db:
            row = await get_console_site(db, key)
            if row is None:
                raise Refused(_("No such site."))
            row.previous_token_sealed = row.webhook_token_sealed if hours else None
            row.previous_until = until if hours else None
            row.webhook_token_sealed = sealer.seal(SecretStr(token))
            await save_console_site(db, row)
    except Refused as refused:
        return await sites_page(
            request, console, session, status_code=400, problem=refused.sentence
        )
    if hours:
        notice = _(
            "A new webhook URL, below: give it to Flexbe. The old one works until {until}."
        ).format(until=console.renderer.when(until))
    else:
        notice = _("A new webhook URL, below: give it to Flexbe. The old one no longer works.")
    url = webhook_url(console, request, token)
    return await sites_page(request, console, session, notice=notice, revealed=Reveal(key, url))


@router.post("/sites/{key}/enabled")
async def switch_site(
    key: Key, request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    enabled = form.get("enabled") == "1"
    async with console.database.write() as db:
        row = await get_console_site(db, key)
        if row is not None and row.enabled != enabled:
            row.enabled = enabled
            await save_console_site(db, row)
    if row is None:
        return back(request, console, SITES_PAGE, _not_here(console, key, _))
    if enabled:
        message = _("{name} is enabled: its webhooks are taken again.")
    else:
        message = _(
            "{name} is disabled: its webhooks are refused until it is enabled again; its "
            "leads stay."
        )
    return back(request, console, SITES_PAGE, message.format(name=row.name or key))


@router.post("/chats/remove")
async def remove_chat(
    request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    """A chat connected from Telegram (or here) no longer gets the site's cards."""
    _ = console.renderer.gettext(request)
    try:
        chat_id = int(form.get("chat", "")[:24])
    except ValueError:
        chat_id = 0
    site = form.get("site", "")[:32]
    gone = 0
    if chat_id and abs(chat_id) < MAX_CHAT_ID and site:
        async with console.database.write() as db:
            gone = await disconnect_chat(db, chat_id=chat_id, site_key=site)
    if not gone:
        return back(request, console, SITES_PAGE, _("That chat is not connected (any more)."))
    if site == EVERY_SITE:
        message = _("Chat {chat} no longer gets the cards of every site.")
    else:
        message = _("Chat {chat} no longer gets the cards of {site}.")
    return back(request, console, SITES_PAGE, message.format(chat=chat_id, site=site))
