"""Messages that are not cards: alerts to admins (a chat that blocked the bot, a group
that became a supergroup, a forum topic that is missing, an action that failed for good),
recovery summaries, sync reports."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import LeadsPage
from bot.cards import status_label
from bot.delivery import Delivered, Delivery
from bot.history import call_label
from bot.outcomes import explain
from config.chats import ChatAddress
from config.settings import DEFAULT_SITE_KEY, Settings
from domain.jobs import (
    ActionFailedPayload,
    MovedAlertPayload,
    SyncReportPayload,
    TopicAlertPayload,
)
from storage.database import Database
from storage.queries.team import get_manager


async def send_alert(
    *, bot: Bot, database: Database, i18n: I18n, admin_id: int, blocked_chat: int
) -> None:
    async with database.read() as session:
        admin = await get_manager(session, admin_id)
    with i18n.context(), i18n.use_locale(admin.language if admin else i18n.default_locale):
        text = _(
            "Chat {chat} no longer accepts messages from the bot (blocked or removed). "
            "Its cards stop; add the bot back and it resumes with new leads."
        ).format(chat=blocked_chat)
    await bot.send_message(admin_id, text, parse_mode=None)


async def send_moved_alert(
    *, bot: Bot, database: Database, i18n: I18n, settings: Settings, payload: MovedAlertPayload
) -> None:
    """Tell one admin that a group became a supergroup; with the configuration's lines
    that name the old id, as they should read now (the service follows the move anyway)."""
    lines = configured_lines(settings, payload.old_chat, payload.new_chat)
    with (
        i18n.context(),
        i18n.use_locale(await _language(database, payload.chat_id, i18n.default_locale)),
    ):
        text = _(
            "Group {old} became supergroup {new}: its cards, reminders and digests go to "
            "the new id now, and the cards that failed meanwhile were sent there."
        ).format(old=payload.old_chat, new=payload.new_chat)
        if lines:
            text += "\n\n" + _(
                "The configuration still names the old id (leadrelay follows the move "
                "meanwhile). Change it to read:"
            )
            text += "\n" + "\n".join(lines)
    await bot.send_message(payload.chat_id, text, parse_mode=None)


def configured_lines(settings: Settings, old_chat: int, new_chat: int) -> list[str]:
    """The lines of the configuration that name `old_chat`, as they read with `new_chat`
    instead: LEADRELAY_TELEGRAM_CHATS, and the `chats` of each site of the TOML."""
    lines: list[str] = []
    if old_chat in settings.telegram_chats:
        chats = [new_chat if chat == old_chat else chat for chat in settings.telegram_chats]
        lines.append("LEADRELAY_TELEGRAM_CHATS=" + ",".join(str(chat) for chat in chats))
    for site in settings.sites:
        if site.key == DEFAULT_SITE_KEY or all(chat.chat_id != old_chat for chat in site.chats):
            continue  # the site of the LEADRELAY_ variables reads LEADRELAY_TELEGRAM_CHATS
        moved = [
            ChatAddress(new_chat, chat.topic) if chat.chat_id == old_chat else chat
            for chat in site.chats
        ]
        listed = ", ".join(_toml_chat(chat) for chat in moved)
        lines.append(f'[[sites]] key = "{site.key}": chats = [{listed}]')
    return lines


def _toml_chat(chat: ChatAddress) -> str:
    return str(chat.chat_id) if chat.topic is None else f'"{chat.chat_id}:{chat.topic}"'


async def send_topic_alert(
    *, bot: Bot, database: Database, i18n: I18n, settings: Settings, payload: TopicAlertPayload
) -> None:
    """Tell one admin that the topic a site's cards go to does not exist."""
    known = settings.sites_by_key
    names = [
        known[key].display_name if key in known else key for key in payload.site.split(", ") if key
    ]
    with (
        i18n.context(),
        i18n.use_locale(await _language(database, payload.chat_id, i18n.default_locale)),
    ):
        text = _(
            "Topic {topic} of chat {chat}, where the cards of {site} go, does not exist "
            "(deleted, or a wrong id). They go to the chat's General for now. Type "
            "/connect inside the right topic, or correct the topic in the configuration "
            '("{chat}:<topic id>").'
        ).format(topic=payload.topic, chat=payload.topic_chat, site=", ".join(names) or "?")
    await bot.send_message(payload.chat_id, text, parse_mode=None)


async def _language(database: Database, chat_id: int, default: str) -> str:
    if chat_id > 0:
        async with database.read() as session:
            manager = await get_manager(session, chat_id)
        if manager is not None:
            return manager.language
    return default


async def send_recovered(
    *,
    delivery: Delivery,
    database: Database,
    i18n: I18n,
    chat_id: int,
    site: str,
    lead_ids: list[int],
    language: str,
) -> Delivered | None:
    """One message instead of a flood of cards: how many leads were recovered, and a button
    that lists them, in the site's topic. Where it went (the leads' reminders reply to it),
    or None if the chat refuses the bot."""
    with i18n.context(), i18n.use_locale(await _language(database, chat_id, language)):
        text = _(
            "{count} leads of {site} reached Flexbe but not leadrelay; they are recovered now."
        ).format(count=len(lead_ids), site=site)
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("Show them"),
            callback_data=LeadsPage(period="recovered", before_id=max(lead_ids) + 1),
        )
        markup = builder.as_markup()
    return await delivery.send_message(
        chat_id, text, sites=(site,), parse_mode=None, reply_markup=markup
    )


async def send_sync_report(
    *, bot: Bot, database: Database, i18n: I18n, payload: SyncReportPayload
) -> None:
    chat_id = payload.chat_id
    with i18n.context(), i18n.use_locale(await _language(database, chat_id, i18n.default_locale)):
        text = _(
            "Sync of {site}: {new} new, {updated} updated, {unchanged} unchanged, {failed} failed"
        ).format(
            site=payload.site,
            new=payload.new,
            updated=payload.updated,
            unchanged=payload.unchanged,
            failed=payload.failed,
        )
    await bot.send_message(chat_id, text, parse_mode=None)


def action_name(kind: str) -> str:
    """A button's action (`deal`, `call:600`, `status:2`…) in the reader's words."""
    name, _sep, argument = kind.partition(":")
    if name == "deal":
        return _("5CRM deal")
    if name == "call":
        return call_label(argument)
    if name == "uncall":
        return _("Cancel call")
    if name == "status":
        label = status_label(int(argument)) if argument.isdigit() else argument
        return _("Flexbe status → {status}").format(status=label)
    return kind


def action_failed_text(payload: dict[str, Any]) -> str:
    """The admins' alert about an action that will not succeed, in the current locale.

    Plain text (sent without a parse mode): ids, codes and names of things only.
    """
    num = payload.get("num")
    job = payload.get("job_id")
    lines = [
        _(
            "⚠️ {action} failed for lead {lead} (site {site}, Flexbe id {flexbe_id}): {reason}."
        ).format(
            action=action_name(str(payload.get("action", ""))),
            lead=f"#{num}" if num is not None else f"id {payload.get('lead_id')}",
            site=payload.get("site") or "?",
            flexbe_id=payload.get("flexbe_id") or "?",
            reason=explain(str(payload.get("code", "")), with_details=False),
        ),
        _("Code: {code}; leadrelay lead {lead_id}, job {job}.").format(
            # Service and reason only: what a service said about the fields may quote them.
            code=":".join(str(payload.get("code") or "?").split(":")[:2]),
            lead_id=payload.get("lead_id"),
            job=f"#{job}" if job is not None else "?",
        ),
        _(
            "It will not be tried again by itself. See /failed in this bot or "
            "`leadrelay jobs list --status dead` on the server; Retry on the lead's card "
            "or in /failed runs it again."
        ),
    ]
    return "\n".join(lines)


async def send_action_failed(
    *, bot: Bot, database: Database, i18n: I18n, payload: ActionFailedPayload
) -> None:
    """Tell one admin (`payload.chat_id`) that an action failed for good."""
    chat_id = payload.chat_id
    with i18n.context(), i18n.use_locale(await _language(database, chat_id, i18n.default_locale)):
        text = action_failed_text(payload.dump())
    await bot.send_message(chat_id, text, parse_mode=None)
