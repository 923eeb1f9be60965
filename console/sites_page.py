"""The Sites page: every site (from the configuration, read-only, or added here), the chats
their cards go to, the team and its admins, Telegram's state and the first-run set-up (the
bot token, the first admin's link).

What the database keeps is read from its rows, not from the merged settings: a change made
here shows at once, while every process (this one too) merges it within a second
(`leadrelay.setup_watch`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import Request, Response

from config.chats import ChatAddress
from config.sealing import Sealer
from config.settings import Settings
from config.shifts import ShiftState, shift_of
from config.working_time import WorkingHours
from console.access import Console
from console.notices import page
from console.security import Session
from console.site_form import LABELS, SiteFields, chats_text
from domain.team import DEFAULT_WEIGHT, MAX_WEIGHT
from storage.clock import utcnow
from storage.models import EVERY_SITE, ConsoleSite, Manager, ManagerRole
from storage.queries import team
from storage.queries.setup import BOT_TOKEN, BOT_USERNAME, SetupRows, read_setup


@dataclass(frozen=True)
class SiteRow:
    key: str
    name: str
    from_configuration: bool
    enabled: bool = True
    # A console site whose key the configuration has taken since: the configuration's wins.
    shadowed: bool = False
    has_api: bool = False
    api_url: str = ""
    # Until when the token it replaced is still taken (after a rotation).
    previous_until: datetime | None = None
    # A console site's form, as its edit form shows it.
    fields: SiteFields | None = None


@dataclass(frozen=True)
class ChatRow:
    chat_id: int
    topic: int | None
    # None: every site.
    site_key: str | None
    title: str
    from_configuration: bool
    # A configured group that Telegram turned into a supergroup: its new id.
    moved_to: int | None = None


@dataclass(frozen=True)
class MemberRow:
    telegram_id: int
    name: str
    username: str | None
    admin: bool
    active: bool
    sites: Sequence[str]
    # An admin by LEADRELAY_TELEGRAM_ADMINS (removed there, not here).
    from_environment: bool
    # Known to the bot (a row of the team); not yet, for an admin of the environment only.
    known: bool = True
    weight: int = DEFAULT_WEIGHT
    # Their own week; empty: their site's hours.
    working_hours: str = ""
    # On shift now, away or off shift, as the bot tells it (`config.shifts`).
    shift: ShiftState = ShiftState.ON
    # Away: until when, in the service's zone ("" until they come back).
    away_until: str = ""


@dataclass(frozen=True)
class SetupState:
    # LEADRELAY_SECRET_KEY is set: secrets can be stored.
    can_seal: bool
    # LEADRELAY_TELEGRAM_BOT_TOKEN is set.
    bot_from_environment: bool
    # A token was pasted here (it may not be merged yet).
    bot_pasted: bool
    bot_username: str
    # No admin, by the environment or the database.
    needs_admin: bool

    @property
    def has_bot(self) -> bool:
        return self.bot_from_environment or self.bot_pasted


@dataclass(frozen=True)
class Reveal:
    """A secret link shown once, to the admin who asked, in a page not cached."""

    key: str
    url: str


def configured_chats(settings: Settings, moves: dict[int, int]) -> list[ChatRow]:
    rows = []
    for site in settings.sites:
        chats = site.chats or tuple(ChatAddress.parse(chat) for chat in settings.telegram_chats)
        rows += [
            ChatRow(chat.chat_id, chat.topic, site.key, "", True, moved_to=moves.get(chat.chat_id))
            for chat in chats
        ]
    return rows


def connected_chats(rows: SetupRows) -> list[ChatRow]:
    return [
        ChatRow(
            row.chat_id,
            row.topic,
            None if row.site_key == EVERY_SITE else row.site_key,
            row.title,
            False,
        )
        for row in rows.connections
    ]


def console_site_fields(row: ConsoleSite, rows: SetupRows) -> SiteFields:
    own = [ChatAddress(c.chat_id, c.topic) for c in rows.connections if c.site_key == row.key]
    return SiteFields(
        name=row.name,
        key=row.key,
        flexbe_api_url=row.flexbe_api_url or "",
        region=row.default_region or "",
        working_hours=row.working_hours or "",
        remind_after=row.sla_remind_after or "",
        escalate_after=row.sla_escalate_after or "",
        chats=chats_text(own),
    )


def site_rows(settings: Settings, rows: SetupRows) -> list[SiteRow]:
    configured = [
        SiteRow(
            site.key,
            site.display_name,
            True,
            has_api=site.flexbe_api_url is not None and site.flexbe_api_key is not None,
        )
        for site in settings.sites
    ]
    keys = {site.key for site in settings.sites}
    now = utcnow()
    stored = [
        SiteRow(
            row.key,
            row.name or row.key,
            False,
            enabled=row.enabled,
            shadowed=row.key in keys,
            has_api=row.flexbe_api_key_sealed is not None,
            api_url=row.flexbe_api_url or "",
            previous_until=(
                row.previous_until.astimezone(UTC)
                if row.previous_token_sealed
                and row.previous_until
                and row.previous_until.astimezone(UTC) > now
                else None
            ),
            fields=console_site_fields(row, rows),
        )
        for row in rows.sites
    ]
    return configured + stored


def site_hours(settings: Settings, manager: Manager) -> WorkingHours:
    """The hours of the first site the member receives, as `/managers` in the bot reads them;
    a site no longer known is always working."""
    sites = settings.sites_by_key
    key = next(iter(manager.sites or sites), "")
    if key in sites:
        return sites[key].timers.hours
    return WorkingHours(zone=ZoneInfo(settings.timezone))


def member_row(settings: Settings, manager: Manager, now: datetime) -> MemberRow:
    shift = shift_of(manager, site_hours(settings, manager), now)
    until = shift.until
    return MemberRow(
        manager.telegram_id,
        manager.name,
        manager.username,
        manager.role == ManagerRole.ADMIN.value,
        manager.active,
        manager.sites,
        manager.telegram_id in set(settings.telegram_admins),
        weight=manager.weight,
        working_hours=manager.working_hours or "",
        shift=shift.state,
        away_until=(
            until.astimezone(ZoneInfo(settings.timezone)).strftime("%d.%m.%Y %H:%M")
            if until is not None
            else ""
        ),
    )


def member_rows(settings: Settings, managers: list[Manager]) -> list[MemberRow]:
    now = utcnow()
    members = [member_row(settings, manager, now) for manager in managers]
    known = {manager.telegram_id for manager in managers}
    members += [
        MemberRow(admin, "", None, True, True, (), True, known=False)
        for admin in settings.telegram_admins
        if admin not in known
    ]
    return members


def setup_state(settings: Settings, rows: SetupRows) -> SetupState:
    username = rows.values.get(BOT_USERNAME)
    return SetupState(
        can_seal=settings.secret_key is not None,
        bot_from_environment=settings.telegram_bot_token is not None,
        bot_pasted=BOT_TOKEN in rows.values,
        bot_username=username.value if username is not None else "",
        needs_admin=not rows.admins and not settings.telegram_admins,
    )


def telegram_state(settings: Settings, state: SetupState, _: Callable[[str], str]) -> str:
    if state.bot_pasted and not settings.telegram_enabled:
        return _("Starting: the bot token pasted here is taken up within seconds.")
    if not settings.telegram_enabled:
        return _(
            "Off: no bot token (LEADRELAY_TELEGRAM_BOT_TOKEN, or paste one on this page). "
            "Leads are still received and stored."
        )
    if settings.telegram_webhook_secret is not None:
        return _("On, by webhook: Telegram posts updates to this service.")
    return _("On, by polling: the bot asks Telegram for updates.")


def sealer_of(console: Console) -> Sealer | None:
    secret_key = console.settings.secret_key
    return Sealer(secret_key) if secret_key is not None else None


def webhook_url(console: Console, request: Request, token: str) -> str:
    return f"{console.base_url(request)}/flexbe/{token}"


async def sites_page(
    request: Request,
    console: Console,
    session: Session,
    *,
    status_code: int = 200,
    notice: str | None = None,
    problem: str = "",
    revealed: Reveal | None = None,
    admin_link: str = "",
    checks: Sequence[object] = (),
    add_form: SiteFields | None = None,
    editing: tuple[str, SiteFields] | None = None,
) -> Response:
    """The page, with what a form just did: its notice or its problem, a link shown once,
    the form refused as it was typed (`add_form`, or `editing`: a site's key and its form)."""
    _ = console.renderer.gettext(request)
    settings = console.settings
    async with console.database.read() as db:
        rows = await read_setup(db)
        managers = await team.list_managers(db)
    state = setup_state(settings, rows)
    sites = site_rows(settings, rows)
    if editing is not None:
        sites = [
            replace(site, fields=editing[1]) if site.key == editing[0] else site for site in sites
        ]
    context = {} if notice is None else {"notice": notice}
    return page(
        request,
        console,
        "sites.html",
        session=session,
        status_code=status_code,
        problem=problem,
        sites=sites,
        chats=configured_chats(settings, {move.old_id: move.new_id for move in rows.moves})
        + connected_chats(rows),
        revealed=revealed,
        admin_link=admin_link,
        checks=list(checks),
        telegram=telegram_state(settings, state, _),
        setup=state,
        members=member_rows(settings, managers),
        max_weight=MAX_WEIGHT,
        add_form=add_form or SiteFields(),
        editing=editing[0] if editing else "",
        labels=LABELS,
        **context,
    )
