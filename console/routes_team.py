"""The team and the bot, on the Sites page: managers (disable, their sites, away and back,
their own hours, their weight), admins (make one, make one a manager again, never the
last), the first admin's one-time link, and the bot token pasted on a fresh install."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request, Response
from pydantic import SecretStr

from config.shifts import AwayProblem, AwayRefused, away_until
from config.working_time import parse_week
from console.access import AdminSession, Console, ConsoleDep, Form
from console.forms import Refused, text_field, whole_number
from console.notices import back
from console.probes import check_bot_token
from console.routes_sites import SITES_PAGE, sealer_or_refuse
from console.sites_page import sites_page
from domain.team import MAX_WEIGHT
from integrations.first_admin import NoLink, admin_link, first_admin_link
from storage.clock import utcnow
from storage.queries import team
from storage.queries.setup import (
    BOT_TOKEN,
    BOT_USERNAME,
    console_site_keys,
    count_admins,
    get_value,
    set_admin,
    set_value,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_TOKEN_LENGTH = 200
MAX_AWAY_LENGTH = 40  # "14.12.2027", "3d", "1h30m" and some space
MAX_HOURS_LENGTH = 500  # as a site's working hours
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DAY = re.compile(r"^\d{1,2}\.\d{1,2}(?:\.\d{2}|\.\d{4})?$")


@router.post("/managers/{telegram_id}/active")
async def switch_manager(
    telegram_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    active = form.get("active") == "1"
    async with console.database.write() as db:
        changed = await team.set_active(db, telegram_id, active=active)
    if changed is None:
        message = _("No such manager (an admin cannot be disabled here).")
    else:
        message = _("Enabled.") if active else _("Disabled.")
    return back(request, console, SITES_PAGE, message)


@router.post("/managers/{telegram_id}/sites")
async def manager_sites(
    telegram_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    chosen = [name.removeprefix("site:") for name in form if name.startswith("site:")]
    async with console.database.write() as db:
        known = {site.key for site in console.settings.sites}
        known |= set(await console_site_keys(db))
        sites = [key for key in chosen if key in known]
        changed = await team.set_sites(db, telegram_id, sites=sites)
    if changed is None:
        message = _("No such manager.")
    else:
        message = _("Sites saved: {sites}.").format(sites=", ".join(sites) or _("all"))
    return back(request, console, SITES_PAGE, message)


@router.post("/managers/{telegram_id}/admin")
async def switch_admin(
    telegram_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, form: Form
) -> Response:
    """Make a member admin, or an admin a manager again (never the last admin)."""
    _ = console.renderer.gettext(request)
    admin = form.get("admin") == "1"
    if not admin and telegram_id in console.settings.telegram_admins:
        return back(
            request,
            console,
            SITES_PAGE,
            _(
                "{id} is an admin by LEADRELAY_TELEGRAM_ADMINS: remove them there and restart."
            ).format(id=telegram_id),
        )
    async with console.database.write() as db:
        done = await set_admin(db, telegram_id, admin=admin)
        manager = await team.get_manager(db, telegram_id)
    name = (manager.name if manager else "") or str(telegram_id)
    if done is None:
        message = _("No such member: they join through /invite in the bot first.")
    elif not done:
        message = _(
            "{name} is the last admin: make another member admin first, then this one a manager."
        ).format(name=name)
    elif admin:
        message = _("{name} is an admin now.").format(name=name)
    else:
        message = _("{name} is a manager now, no longer an admin.").format(name=name)
    return back(request, console, SITES_PAGE, message)


@router.post("/setup/admin-link")
async def new_admin_link(
    request: Request, console: ConsoleDep, session: AdminSession, _form: Form
) -> Response:
    """While there is no admin: a one-time link that makes whoever opens it the first."""
    _ = console.renderer.gettext(request)
    link = await first_admin_link(console.database, console.settings)
    if link is NoLink.HAS_ADMIN:
        return back(
            request,
            console,
            SITES_PAGE,
            _("There is an admin already: admins make others admin here or in /managers."),
        )
    if link is NoLink.NO_BOT:
        return back(
            request,
            console,
            SITES_PAGE,
            _("The bot is not known yet: paste its token first, then ask for the link."),
        )
    return await sites_page(
        request,
        console,
        session,
        notice=_("Open this link in Telegram, once, within 24 hours: it makes you the admin."),
        admin_link=link,
    )


def _bot_token_refusal(console: Console, _: Callable[[str], str]) -> str | None:
    if console.settings.telegram_bot_token is not None:
        return _("LEADRELAY_TELEGRAM_BOT_TOKEN is set: the bot uses that token.")
    return None


@router.post("/setup/bot-token")
async def paste_bot_token(
    request: Request, console: ConsoleDep, session: AdminSession, form: Form
) -> Response:
    """On a fresh install: the bot token, checked by `getMe`, kept sealed; every process
    takes it up within seconds and the bot starts."""
    _ = console.renderer.gettext(request)
    try:
        refusal = _bot_token_refusal(console, _)
        if refusal is not None:
            raise Refused(refusal)
        sealer = sealer_or_refuse(console, _)
        async with console.database.read() as db:
            if await get_value(db, BOT_TOKEN) is not None:
                raise Refused(_("A bot token was pasted here already: the bot uses it."))
        token = text_field(form, "bot_token", _("Bot token"), MAX_TOKEN_LENGTH, _)
        if not token:
            raise Refused(_("Paste the token @BotFather gave for the bot."))
        bot = await check_bot_token(str(console.settings.telegram_api_url), token, _)
        sealed = sealer.seal(SecretStr(token))
        async with console.database.write() as db:
            await set_value(db, BOT_TOKEN, sealed, sealed=True)
            await set_value(db, BOT_USERNAME, bot.username, sealed=False)
            admins = await count_admins(db)
    except Refused as refused:
        return await sites_page(
            request, console, session, status_code=400, problem=refused.sentence
        )
    notice = _(
        "The bot @{username} ({name}) is connected: it starts within seconds, no restart needed."
    ).format(username=bot.username, name=bot.name or bot.username)
    link = ""
    if admins == 0 and not console.settings.telegram_admins:
        link = await admin_link(console.database, bot.username)
        notice += " " + _("Now open the admin link below in Telegram: it makes you the admin.")
    return await sites_page(request, console, session, notice=notice, admin_link=link)


def _away_words(text: str) -> str:
    """What `/away` would read: a day (`14.12`, `14.12.2027`, or `2027-12-14` as a date
    field posts it) is `until` that day; a duration (`3d`) as it is."""
    iso = _ISO_DAY.fullmatch(text)
    if iso is not None:
        return f"until {iso.group(3)}.{iso.group(2)}.{iso.group(1)}"
    return f"until {text}" if _DAY.fullmatch(text) else text


def _away_refusal(problem: AwayProblem, _: Callable[[str], str]) -> str:
    if problem is AwayProblem.PAST:
        return _("That day has passed: write a day from tomorrow on, e.g. 14.12.")
    if problem is AwayProblem.TOO_FAR:
        return _("At most a year away: for longer, disable the manager.")
    return _(
        "Write the day they are back (14.12 or 14.12.2027), or how long they are away "
        "(3d, 4h); leave it empty for until they come back."
    )


async def _refused(
    request: Request, console: Console, session: AdminSession, sentence: str
) -> Response:
    return await sites_page(request, console, session, status_code=400, problem=sentence)


@router.post("/managers/{telegram_id}/away")
async def set_away(
    telegram_id: Id, request: Request, console: ConsoleDep, session: AdminSession, form: Form
) -> Response:
    """Away as `/away` makes them: from now, until a day or for a while, or until back."""
    _ = console.renderer.gettext(request)
    now = utcnow()
    try:
        words = text_field(form, "until", _("Away until"), MAX_AWAY_LENGTH, _)
        until = away_until(_away_words(words), now=now, zone=ZoneInfo(console.settings.timezone))
    except Refused as refused:
        return await _refused(request, console, session, refused.sentence)
    except AwayRefused as refused:
        return await _refused(request, console, session, _away_refusal(refused.problem, _))
    async with console.database.write() as db:
        manager = await team.set_away(db, telegram_id, since=now, until=until)
    if manager is None:
        return back(request, console, SITES_PAGE, _("No such manager."))
    name = manager.name or str(telegram_id)
    if until is None:
        message = _("{name} is away until they come back.").format(name=name)
    else:
        moment = until.astimezone(ZoneInfo(console.settings.timezone)).strftime("%d.%m.%Y %H:%M")
        message = _("{name} is away until {moment}.").format(name=name, moment=moment)
    return back(request, console, SITES_PAGE, message)


@router.post("/managers/{telegram_id}/back")
async def set_back(
    telegram_id: Id, request: Request, console: ConsoleDep, _session: AdminSession, _form: Form
) -> Response:
    _ = console.renderer.gettext(request)
    async with console.database.write() as db:
        manager = await team.set_back(db, telegram_id)
    if manager is None:
        return back(request, console, SITES_PAGE, _("No such manager."))
    message = _("{name} is back.").format(name=manager.name or str(telegram_id))
    return back(request, console, SITES_PAGE, message)


@router.post("/managers/{telegram_id}/hours")
async def set_hours(
    telegram_id: Id, request: Request, console: ConsoleDep, session: AdminSession, form: Form
) -> Response:
    """Their own week, in the syntax of a site's working hours; empty: their site's."""
    _ = console.renderer.gettext(request)
    label = _("Working hours")
    try:
        hours = text_field(form, "working_hours", label, MAX_HOURS_LENGTH, _)
        if hours:
            try:
                parse_week(hours)
            except ValueError as error:
                raise Refused(
                    _("{field}: {reason}").format(field=label, reason=str(error)[:300])
                ) from None
    except Refused as refused:
        return await _refused(request, console, session, refused.sentence)
    async with console.database.write() as db:
        manager = await team.set_working_hours(db, telegram_id, hours or None)
    if manager is None:
        return back(request, console, SITES_PAGE, _("No such manager."))
    name = manager.name or str(telegram_id)
    if hours:
        message = _("{name} works {hours}.").format(name=name, hours=hours)
    else:
        message = _("{name} works their site's hours.").format(name=name)
    return back(request, console, SITES_PAGE, message)


@router.post("/managers/{telegram_id}/weight")
async def set_weight(
    telegram_id: Id, request: Request, console: ConsoleDep, session: AdminSession, form: Form
) -> Response:
    """Their share of the leads handed out in turn: 2 gets two for every one of 1."""
    _ = console.renderer.gettext(request)
    try:
        weight = whole_number(form.get("weight", "").strip()[:20], _("Weight"), 1, MAX_WEIGHT, _)
    except Refused as refused:
        return await _refused(request, console, session, refused.sentence)
    async with console.database.write() as db:
        manager = await team.set_weight(db, telegram_id, weight)
    if manager is None:
        return back(request, console, SITES_PAGE, _("No such manager."))
    message = _("{name} has the weight {weight}.").format(
        name=manager.name or str(telegram_id), weight=weight
    )
    return back(request, console, SITES_PAGE, message)
