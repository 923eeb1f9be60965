"""Admin commands: invite managers, list and disable them, make admins, a login link to the
console."""

from __future__ import annotations

import contextlib
import html
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import DeadJob
from bot.config import BotConfig
from bot.filters import IsAdmin
from bot.handlers.crm5_team import extend_team_view
from bot.menus import drop_admin_menu, set_admin_menus
from config.shifts import ShiftState, shift_of
from domain.jobs import RECONCILE, ReconcilePayload, asked_reconcile_key
from domain.team import DEFAULT_WEIGHT, ManagerRole
from storage.clock import utcnow
from storage.models import JobStatus, Manager
from storage.queries.console_logins import LOGIN_LINK_LIFETIME, create_login_link
from storage.queries.jobs import discard_dead, enqueue_job, list_jobs, retry_dead
from storage.queries.setup import set_admin
from storage.queries.team import INVITE_LIFETIME, create_invite, list_managers, set_active


class ManagerSwitch(CallbackData, prefix="mg"):
    telegram_id: int
    active: bool


async def invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    manager: Manager,
    bot: Bot,
    config: BotConfig,
) -> None:
    sites = [key for key in (command.args or "").split() if key][:10]
    unknown = [key for key in sites if key not in config.site_names]
    if unknown:
        # A typo would make an invite to no site at all; say so instead of making it.
        await message.answer(
            _("Unknown site: {unknown}. Known sites: {known}.").format(
                unknown=", ".join(key[:32] for key in unknown),
                known=", ".join(sorted(config.site_names)) or "—",
            ),
            parse_mode=None,
        )
        return
    code = (await create_invite(session, created_by=manager.telegram_id, sites=sites)).code
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={code}"
    hours = int(INVITE_LIFETIME.total_seconds() // 3600)
    await message.answer(
        _("Invite link for one manager, valid {hours} h:\n{link}").format(hours=hours, link=link),
        parse_mode=None,
    )


async def console_link(
    message: Message, session: AsyncSession, manager: Manager, config: BotConfig
) -> None:
    """A link into the admin console that logs in once, within minutes; only in private,
    where nobody else reads it."""
    if config.console_url is None:
        await message.answer(
            _(
                "The admin console is off: it needs LEADRELAY_ADMIN_TOKEN and "
                "LEADRELAY_PUBLIC_URL (the address the service is reached at)."
            ),
            parse_mode=None,
        )
        return
    if message.chat.type != ChatType.PRIVATE:
        await message.answer(_("Send /admin to me in a private chat: the link logs you in."))
        return
    token = await create_login_link(session, created_by=manager.telegram_id)
    minutes = int(LOGIN_LINK_LIFETIME.total_seconds() // 60)
    await message.answer(
        _("Admin console, one login within {minutes} min:\n{link}").format(
            minutes=minutes, link=f"{config.console_url}/link/{token}"
        ),
        parse_mode=None,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def sync_now(
    message: Message, command: CommandObject, session: AsyncSession, config: BotConfig
) -> None:
    """Reconcile with Flexbe now; the summary comes back to this chat when it is done."""
    wanted = (command.args or "").strip()
    sites = [key for key in config.flexbe_sites if not wanted or key == wanted]
    if not sites:
        await message.answer(_("No site with a Flexbe API key to sync."))
        return
    for site in sorted(sites):
        await enqueue_job(
            session,
            RECONCILE,
            ReconcilePayload(site=site, report_to=message.chat.id),
            dedupe_key=asked_reconcile_key(site, message.chat.id, message.message_id),
            max_attempts=3,
        )
    await message.answer(_("Syncing with Flexbe; the summary follows."))


async def failed_jobs(message: Message, session: AsyncSession) -> None:
    """Dead jobs, newest first, each with Retry and Discard."""
    dead = await list_jobs(session, status=JobStatus.DEAD.value, limit=10)
    if not dead:
        await message.answer(_("No failed jobs."))
        return
    builder = InlineKeyboardBuilder()
    lines = [_("<b>Failed jobs</b>")]
    for job in dead:
        assert job.id is not None
        error = html.escape((job.last_error or "?")[:120])
        lines.append(f"#{job.id} <code>{html.escape(job.kind)}</code>: {error}")
        builder.button(
            text=_("Retry #{id}").format(id=job.id),
            callback_data=DeadJob(act="retry", job_id=job.id),
        )
        builder.button(
            text=_("Discard #{id}").format(id=job.id),
            callback_data=DeadJob(act="discard", job_id=job.id),
        )
    builder.adjust(2)
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


async def dead_job_action(
    query: CallbackQuery, callback_data: DeadJob, session: AsyncSession
) -> None:
    if callback_data.act == "retry":
        # Due now: a worker takes it on its next look at the queue.
        done = await retry_dead(session, job_id=callback_data.job_id) > 0
        await query.answer(_("Queued again.") if done else _("No such failed job."))
        return
    removed = await discard_dead(session, callback_data.job_id)
    await query.answer(_("Discarded.") if removed else _("No such failed job."))


class AdminSwitch(CallbackData, prefix="ad"):
    telegram_id: int
    admin: bool


async def team_view(session: AsyncSession, config: BotConfig) -> tuple[str, InlineKeyboardMarkup]:
    """The team, each member's role and state, and a button per change an admin can make
    here: enable or disable a manager, make a member admin or an admin a manager again
    (those of LEADRELAY_TELEGRAM_ADMINS are changed there, not here)."""
    team = await list_managers(session)
    now = utcnow()
    builder = InlineKeyboardBuilder()
    lines = [_("<b>Team</b>")]
    for member in team:
        name = html.escape(member.name or str(member.telegram_id))
        short = (member.name or str(member.telegram_id))[:32]
        configured = member.telegram_id in config.configured_admins
        if member.role != ManagerRole.ADMIN.value:
            role = _("manager")
        elif configured:
            role = _("admin, from the environment")
        else:
            role = _("admin")
        state = _("active") if member.active else _("disabled")
        if member.active:
            state = shift_text(member, config, now)
        if member.weight != DEFAULT_WEIGHT:
            state += ", " + _("weight {weight}").format(weight=member.weight)
        lines.append(f"• {name} — {role}, {state}")
        if member.role != ManagerRole.ADMIN.value:
            label = _("Disable {name}") if member.active else _("Enable {name}")
            builder.button(
                text=label.format(name=short),
                callback_data=ManagerSwitch(
                    telegram_id=member.telegram_id, active=not member.active
                ),
            )
            if member.active:
                builder.button(
                    text=_("Make {name} admin").format(name=short),
                    callback_data=AdminSwitch(telegram_id=member.telegram_id, admin=True),
                )
        elif not configured:
            builder.button(
                text=_("Make {name} a manager").format(name=short),
                callback_data=AdminSwitch(telegram_id=member.telegram_id, admin=False),
            )
    if config.can_deal:
        await extend_team_view(session, team, lines, builder)
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def shift_text(member: Manager, config: BotConfig, now: datetime) -> str:
    """On shift, away (until when), or off shift, by their own hours or else by those of
    the first site they receive."""
    site = next(iter(member.sites or config.site_names), "")
    shift = shift_of(member, config.timers_of(site).hours, now)
    if shift.state is ShiftState.AWAY and shift.until is not None:
        until = shift.until.astimezone(config.zone).strftime("%d.%m %H:%M")
        return _("away until {moment}").format(moment=until)
    if shift.state is ShiftState.AWAY:
        return _("away until /back")
    return _("on shift") if shift.on else _("off shift")


async def managers(message: Message, session: AsyncSession, config: BotConfig) -> None:
    text, keyboard = await team_view(session, config)
    await message.answer(text, reply_markup=keyboard)


async def switch_manager(
    query: CallbackQuery, callback_data: ManagerSwitch, session: AsyncSession
) -> None:
    changed = await set_active(session, callback_data.telegram_id, active=callback_data.active)
    if changed is None:
        await query.answer(_("No such manager."))
        return
    await query.answer(_("Enabled.") if callback_data.active else _("Disabled."))


async def switch_admin(
    query: CallbackQuery,
    callback_data: AdminSwitch,
    session: AsyncSession,
    config: BotConfig,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Make a member admin, or an admin a manager again; never the last admin."""
    telegram_id, admin = callback_data.telegram_id, callback_data.admin
    if not admin and telegram_id in config.configured_admins:
        await query.answer(
            _("An admin of LEADRELAY_TELEGRAM_ADMINS: remove them there and restart."),
            show_alert=True,
        )
        return
    done = await set_admin(session, telegram_id, admin=admin)
    if done is None:
        await query.answer(_("No such member."), show_alert=True)
        return
    if not done:
        await query.answer(
            _("The last admin stays: make another member admin first."), show_alert=True
        )
        return
    member = await session.get(Manager, telegram_id)
    assert member is not None  # set_admin found it
    if admin:
        await set_admin_menus(bot, i18n, [(telegram_id, member.language)])
    else:
        await drop_admin_menu(bot, telegram_id)
    await query.answer(_("Made admin.") if admin else _("Made a manager."))
    if isinstance(query.message, Message):
        text, keyboard = await team_view(session, config)
        with contextlib.suppress(TelegramBadRequest):  # the same view: nothing to edit
            await query.message.edit_text(text, reply_markup=keyboard)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.message.register(invite, Command("invite"))
    router.message.register(console_link, Command("admin"))
    router.message.register(sync_now, Command("sync"))
    router.message.register(failed_jobs, Command("failed"))
    router.callback_query.register(dead_job_action, DeadJob.filter(F.act.in_({"retry", "discard"})))
    router.message.register(managers, Command("managers"))
    router.callback_query.register(switch_manager, ManagerSwitch.filter(F.telegram_id > 0))
    router.callback_query.register(switch_admin, AdminSwitch.filter(F.telegram_id > 0))
    return router
