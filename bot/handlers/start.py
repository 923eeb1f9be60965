"""`/start` (with an invite code, the way in for a new manager; with the first admin's
link, the way in for the first admin), `/help` and `/lang`."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.filters import IsManager
from bot.i18n import LANGUAGES, pick_language
from bot.menus import set_admin_menus
from domain.team import is_admin
from storage.models import Manager
from storage.queries.setup import ADMIN_LINK_PREFIX, AdminLinkRefused, become_admin
from storage.queries.team import redeem_invite, set_language

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


class LanguageChoice(CallbackData, prefix="lang"):
    language: str


async def start_with_invite(
    message: Message, command: CommandObject, session: AsyncSession, manager: Manager | None
) -> None:
    user = message.from_user
    if user is None or message.chat.type != "private":
        return
    if manager is not None:
        await message.answer(_("You are already on the team. /help lists what I can do."))
        return
    language = pick_language(user.language_code)
    joined = await redeem_invite(
        session,
        code=(command.args or "")[:64],
        telegram_id=user.id,
        name=user.full_name[:128],
        username=user.username,
        language=language,
    )
    if joined is None:
        await message.answer(_("This invite is used or expired. Ask an admin for a new one."))
        return
    await message.answer(
        _("Welcome, {name}! New leads will come here. /help lists what I can do.").format(
            name=user.full_name
        )
    )


async def start_as_admin(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    manager: Manager | None,
    i18n: I18n,
    bot: Bot,
) -> None:
    """The first admin's link: `/start admin-…` in a private chat."""
    user = message.from_user
    if user is None or message.chat.type != "private":
        return
    if is_admin(manager):
        await message.answer(_("You are an admin already. /help lists what I can do."))
        return
    language = pick_language(user.language_code)
    outcome = await become_admin(
        session,
        code=(command.args or "")[:64],
        telegram_id=user.id,
        name=user.full_name[:128],
        username=user.username,
        language=language,
    )
    if outcome is AdminLinkRefused.TEAM_HAS_ADMIN:
        await message.answer(
            _("The team has an admin already: ask them to make you admin in /managers.")
        )
        return
    if outcome is AdminLinkRefused.SPENT:
        await message.answer(
            _(
                "This admin link is used, expired or not valid. Ask for a new one on the "
                "console's Sites page, or run `leadrelay admin-link` on the server."
            ),
            parse_mode=None,
        )
        return
    await set_admin_menus(bot, i18n, [(outcome.telegram_id, outcome.language)])
    await message.answer(
        _(
            "You are the admin now, {name}. Add me to the team's group and tap its site; "
            "/invite brings managers in, /help lists the rest."
        ).format(name=user.full_name),
        parse_mode=None,
    )


async def help_message(message: Message) -> None:
    await message.answer(
        "\n".join(
            [
                _("Lead cards come here; the buttons act on the lead."),
                _("/leads [today|yesterday|week|month|new|unpaid] [mine|site] — list leads"),
                _("/find <phone|e-mail|name|number> — find a lead"),
                _("/lead <number> — show a lead's card again"),
                _("/stats [today|yesterday|week|month] [site] — numbers and a chart"),
                _("/away [3d|until 14.12], /back — away: no new leads, then back"),
                _("/lang — language"),
                _("Admins: /invite, /managers, /failed, /sync, /admin (the console)"),
                _(
                    "In a group, admins: /connect [site] sends a site's cards there, in a topic "
                    "to that topic; /disconnect [site] stops them"
                ),
            ]
        ),
        parse_mode=None,
    )


async def choose_language(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    for code in LANGUAGES:
        builder.button(text=LANGUAGE_NAMES[code], callback_data=LanguageChoice(language=code))
    await message.answer(_("Choose your language:"), reply_markup=builder.as_markup())


async def language_chosen(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    session: AsyncSession,
    manager: Manager,
    i18n: I18n,
    bot: Bot,
) -> None:
    await set_language(session, manager.telegram_id, callback_data.language)
    if is_admin(manager):
        # An admin's menu is their chat's own (bot.menus): it follows their choice.
        await set_admin_menus(bot, i18n, [(manager.telegram_id, callback_data.language)])
    with i18n.use_locale(callback_data.language):
        await query.answer(_("Language: English"))


def build_router() -> Router:
    router = Router(name=__name__)
    # Before the invites: an admin code is not an invite.
    router.message.register(
        start_as_admin,
        CommandStart(deep_link=True, magic=F.args.startswith(ADMIN_LINK_PREFIX)),
    )
    router.message.register(start_with_invite, CommandStart(deep_link=True))
    router.message.register(help_message, Command("help"), IsManager())
    router.message.register(help_message, CommandStart(), IsManager())
    router.message.register(choose_language, Command("lang"), IsManager())
    router.callback_query.register(
        language_chosen, LanguageChoice.filter(F.language.in_(LANGUAGES)), IsManager()
    )
    return router
