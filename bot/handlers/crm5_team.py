"""Admins credit each Telegram manager's 5CRM deals to a 5CRM manager: from `/managers`,
"🔗 5CRM" lists the team, a member's button lists 5CRM's managers (`managers/get`), and a
tap links them (or sends them back to the site's `manager_id`)."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Sequence

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.filters import IsAdmin
from bot.outcomes import explain
from integrations.crm5 import Manager as Crm5Manager
from integrations.errors import IntegrationError
from integrations.failures import failure_code
from storage.models import Manager
from storage.queries.crm5 import crm5_links, link_crm5_manager, unlink_crm5_manager
from storage.queries.team import list_managers
from storage.ranges import Int64

# 5CRM's list of managers, asked when an admin opens it (`managers/get`, secret token).
Crm5Managers = Callable[[], Awaitable[Sequence[Crm5Manager]]]
# A list of accounts or members longer than this is cut: a keyboard holds 100 buttons.
MAX_ACCOUNTS = 90
_NAME = 32
# Names from 5CRM or Telegram in a sentence: enough to tell people apart.
_SHOWN = 64


class Crm5Pick(CallbackData, prefix="c5p"):
    """0: list the team; else list 5CRM's managers for this Telegram manager."""

    telegram_id: Int64


class Crm5Link(CallbackData, prefix="c5l"):
    """Link a Telegram manager to 5CRM manager `crm5_id` (0: back to the site's default)."""

    telegram_id: Int64
    crm5_id: Int64


async def not_configured() -> Sequence[Crm5Manager]:
    raise LookupError("5CRM is not configured")


def team_block(team: Sequence[Manager], links: dict[int, str]) -> list[str]:
    """`/managers`' lines on whose deals go to which 5CRM manager."""
    lines = ["", _("<b>5CRM</b> (deals are credited to)")]
    for member in team:
        name = html.escape(member.name or str(member.telegram_id))
        target = links.get(member.telegram_id)
        account = html.escape(target) if target else _("the site's manager")
        lines.append(f"• {name} → {account}")
    return lines


async def extend_team_view(
    session: AsyncSession, team: Sequence[Manager], lines: list[str], builder: InlineKeyboardBuilder
) -> None:
    """Add the 5CRM block and its button to `/managers`."""
    links = {
        tid: link.crm5_manager_name or f"#{link.crm5_manager_id}"
        for tid, link in (await crm5_links(session)).items()
    }
    lines.extend(team_block([m for m in team if m.active], links))
    builder.button(text="🔗 " + _("5CRM managers"), callback_data=Crm5Pick(telegram_id=0))


async def pick(
    query: CallbackQuery,
    callback_data: Crm5Pick,
    session: AsyncSession,
    crm5_managers: Crm5Managers,
) -> None:
    if callback_data.telegram_id == 0:
        await _show_team(query, session)
        return
    member = await session.get(Manager, callback_data.telegram_id)
    if member is None or not member.active:
        await query.answer(_("No such manager."), show_alert=True)
        return
    accounts = await _accounts(query, crm5_managers)
    if accounts is None:
        return
    builder = InlineKeyboardBuilder()
    for account in accounts[:MAX_ACCOUNTS]:
        builder.button(
            text=(account.name or f"#{account.id}")[:_NAME],
            callback_data=Crm5Link(telegram_id=member.telegram_id, crm5_id=account.id),
        )
    builder.button(
        text=_("The site's manager"),
        callback_data=Crm5Link(telegram_id=member.telegram_id, crm5_id=0),
    )
    builder.adjust(2)
    await query.answer()
    if isinstance(query.message, Message):
        name = html.escape(member.name or str(member.telegram_id))
        await query.message.answer(
            _("Whom in 5CRM are {name}'s deals credited to?").format(name=name),
            reply_markup=builder.as_markup(),
        )


async def link(
    query: CallbackQuery,
    callback_data: Crm5Link,
    session: AsyncSession,
    manager: Manager,
    crm5_managers: Crm5Managers,
) -> None:
    member = await session.get(Manager, callback_data.telegram_id)
    if member is None or not member.active:
        await query.answer(_("No such manager."), show_alert=True)
        return
    name = (member.name or str(member.telegram_id))[:_SHOWN]
    if callback_data.crm5_id == 0:
        await unlink_crm5_manager(session, telegram_id=member.telegram_id)
        text = _("{name}'s deals go to the site's 5CRM manager.").format(name=name)
    else:
        accounts = await _accounts(query, crm5_managers)
        if accounts is None:
            return
        account = next((a for a in accounts if a.id == callback_data.crm5_id), None)
        if account is None:
            # Deleted in 5CRM since the list was shown, or a forged button.
            await query.answer(_("5CRM has no such manager any more."), show_alert=True)
            return
        account_name = (account.name or f"#{account.id}")[:_SHOWN]
        await link_crm5_manager(
            session,
            telegram_id=member.telegram_id,
            crm5_manager_id=account.id,
            crm5_manager_name=account_name,
            linked_by=manager.telegram_id,
        )
        text = _("{name}'s deals are credited to {account} in 5CRM.").format(
            name=name, account=account_name
        )
    # A callback's answer holds 200 characters at most.
    await query.answer(text[:200])
    if isinstance(query.message, Message):
        await query.message.edit_text(html.escape(text, quote=False))


async def _show_team(query: CallbackQuery, session: AsyncSession) -> None:
    builder = InlineKeyboardBuilder()
    active = [member for member in await list_managers(session) if member.active]
    for member in active[:MAX_ACCOUNTS]:
        builder.button(
            text=(member.name or str(member.telegram_id))[:_NAME],
            callback_data=Crm5Pick(telegram_id=member.telegram_id),
        )
    builder.adjust(2)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Whose 5CRM manager do you set?"), reply_markup=builder.as_markup()
        )


async def _accounts(
    query: CallbackQuery, crm5_managers: Crm5Managers
) -> Sequence[Crm5Manager] | None:
    """5CRM's managers, or None once the admin was told why there are none."""
    try:
        accounts = await crm5_managers()
    except LookupError:
        await query.answer(_("5CRM is not set up."), show_alert=True)
        return None
    except IntegrationError as error:
        await query.answer(explain(failure_code(error)), show_alert=True)
        return None
    if not accounts:
        await query.answer(_("5CRM lists no managers."), show_alert=True)
        return None
    return accounts


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(IsAdmin())
    router.callback_query.register(pick, Crm5Pick.filter(F.telegram_id >= 0))
    router.callback_query.register(link, Crm5Link.filter(F.crm5_id >= 0))
    return router
