"""The form of a site added in the console: read within bounds, then validated as the
TOML's sites are (a `SiteConfig` is built from it, and its error shown)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError

from config.chats import ChatAddress
from config.sites import SiteConfig
from console.forms import Refused, text_field
from console.i18n import N_
from console.site_keys import MAX_KEY_LENGTH, free_key

MAX_CHATS = 50
MAX_SECRET_LENGTH = 200
# What each field may hold, in characters (the columns of `console_site` are as wide).
LIMITS = {
    "name": 200,
    "key": MAX_KEY_LENGTH,
    "flexbe_api_url": 500,
    "region": 8,
    "working_hours": 500,
    "remind_after": 32,
    "escalate_after": 32,
    "chats": 2000,
}
LABELS = {
    "name": N_("Name"),
    "key": N_("Key"),
    "flexbe_api_url": N_("Flexbe API URL"),
    "flexbe_api_key": N_("Flexbe API key"),
    "region": N_("Phone region"),
    "working_hours": N_("Working hours"),
    "remind_after": N_("Remind after"),
    "escalate_after": N_("Alert admins after"),
    "chats": N_("Chats"),
}
# A `SiteConfig` field (the first part of an error's place) → the form's field.
_FORM_FIELD = {"default_region": "region", "sla": "remind_after"}
_CHAT_SEPARATORS = re.compile(r"[\s,;]+")
_AROUND_COLON = re.compile(r"\s*:\s*")


@dataclass(frozen=True)
class SiteFields:
    """The form as typed (a Flexbe key never: it is not shown back)."""

    name: str = ""
    key: str = ""
    flexbe_api_url: str = ""
    region: str = ""
    working_hours: str = ""
    remind_after: str = ""
    escalate_after: str = ""
    chats: str = ""

    @classmethod
    def read(cls, form: Mapping[str, str], _: Callable[[str], str]) -> SiteFields:
        values = {
            item.name: text_field(form, item.name, _(LABELS[item.name]), LIMITS[item.name], _)
            for item in fields(cls)
        }
        return cls(**values)


def read_secret(form: Mapping[str, str], name: str, _: Callable[[str], str]) -> str:
    return text_field(form, name, _(LABELS.get(name, name)), MAX_SECRET_LENGTH, _)


def check_http_url(url: str, _: Callable[[str], str]) -> None:
    """Refused unless an http(s) address of a host (Flexbe's API is `…/mod/api/`)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or " " in url:
        raise Refused(
            _(
                "The Flexbe API URL must be a web address starting with https:// or http://, "
                "e.g. https://yoursite.ru/mod/api/."
            )
        )


def parse_chats(text: str, _: Callable[[str], str]) -> tuple[ChatAddress, ...]:
    """Chat ids, or `id:topic` for a topic of a forum, apart by commas, spaces or lines."""
    items = [item for item in _CHAT_SEPARATORS.split(_AROUND_COLON.sub(":", text)) if item]
    if len(items) > MAX_CHATS:
        raise Refused(_("At most {count} chats per site.").format(count=MAX_CHATS))
    chats: dict[int, ChatAddress] = {}
    for item in items:
        try:
            address = ChatAddress.parse(item)
        except ValueError:
            raise Refused(
                _(
                    "{chat} is not a chat: a chat id such as -1001234567890, or "
                    "-1001234567890:15 for topic 15 of a forum."
                ).format(chat=item[:40])
            ) from None
        if address.chat_id in chats:
            raise Refused(_("Chat {chat} is listed twice.").format(chat=address.chat_id))
        chats[address.chat_id] = address
    return tuple(chats.values())


def chats_text(chats: Collection[ChatAddress]) -> str:
    """The chats as the form shows them."""
    return ", ".join(
        str(chat.chat_id) if chat.topic is None else f"{chat.chat_id}:{chat.topic}"
        for chat in chats
    )


def choose_key(
    fields: SiteFields,
    *,
    configured: Collection[str],
    stored: Collection[str],
    others: Collection[str],
    _: Callable[[str], str],
) -> str:
    """The key typed (never a configured site's, nor another console site's), else one made
    from the name that no site has had (`others`: the keys leads were ever stored under)."""
    if not fields.key:
        return free_key(fields.name, {*configured, *stored, *others})
    if fields.key in configured:
        raise Refused(
            _(
                "{key} is the key of a site from the configuration: choose another, or leave "
                "the key empty and one is made from the name."
            ).format(key=fields.key)
        )
    if fields.key in stored:
        raise Refused(
            _("A site added here has the key {key} already: choose another.").format(key=fields.key)
        )
    return fields.key


def site_config(
    fields: SiteFields,
    *,
    key: str,
    token: SecretStr,
    api_key: str | None,
    _: Callable[[str], str],
) -> SiteConfig:
    """The site as the TOML would configure it, or refused with the first error in words."""
    if not fields.name:
        raise Refused(_("Give the site a name (its cards show it)."))
    if fields.flexbe_api_url:
        check_http_url(fields.flexbe_api_url, _)
        if not api_key:
            raise Refused(_("Give the Flexbe API key with the Flexbe API URL."))
    elif api_key:
        raise Refused(_("Give the Flexbe API URL with the Flexbe API key."))
    sla = {
        name: value
        for name, value in (
            ("remind_after", fields.remind_after),
            ("escalate_after", fields.escalate_after),
        )
        if value
    }
    entry: dict[str, Any] = {
        "key": key,
        "name": fields.name,
        "webhook_token": token,
        "flexbe_api_url": fields.flexbe_api_url or None,
        "flexbe_api_key": SecretStr(api_key) if api_key else None,
        "chats": parse_chats(fields.chats, _),
        "default_region": fields.region or None,
        "working_hours": fields.working_hours or None,
        "sla": sla or None,
    }
    try:
        return SiteConfig.model_validate(entry)
    except ValidationError as error:
        first = error.errors()[0]
        place = [str(part) for part in first["loc"]]
        field = place[-1] if place[0] == "sla" and len(place) > 1 else place[0]
        label = LABELS.get(_FORM_FIELD.get(field, field), field)
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise Refused(_("{field}: {reason}").format(field=_(label), reason=reason[:300])) from None
