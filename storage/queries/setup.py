"""The set-up kept in the database beside the configuration: console sites, connected
chats, moved groups, setup values, admin links. Every change raises the one version row in
its own transaction, which every process polls (`leadrelay.setup_watch`) to reload it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.team import ManagerRole
from storage.clock import utcnow
from storage.models import (
    EVERY_SITE,
    AdminLink,
    ChatConnection,
    ChatMove,
    ConsoleSite,
    Manager,
    SetupValue,
    SetupVersion,
)
from storage.queries.console_logins import claim_once, hash_token
from storage.queries.sites import ensure_sites

ADMIN_LINK_LIFETIME = timedelta(hours=24)
# How an admin link's code starts (`/start admin-…`), to tell it from an invite's.
ADMIN_LINK_PREFIX = "admin-"
# The setup values the console and the bot keep: the bot token pasted in the console
# (sealed) and the bot's username (what `getMe` answered), for the links that open it.
BOT_TOKEN = "telegram_bot_token"
BOT_USERNAME = "telegram_bot_username"
# Spent or expired admin links are kept this long (to tell "used" from "unknown").
_KEEP_SPENT = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SetupRows:
    """The stored set-up as stored: secrets still sealed."""

    version: int
    sites: list[ConsoleSite]
    connections: list[ChatConnection]
    moves: list[ChatMove]
    values: dict[str, SetupValue]
    admins: list[int]


async def setup_version(session: AsyncSession) -> int:
    """One indexed read of one row: what the processes poll."""
    found = await session.get(SetupVersion, 1)
    return found.version if found is not None else 0


async def bump_version(session: AsyncSession) -> None:
    """Tell every process the set-up changed (in the caller's transaction)."""
    raised = await session.exec(
        update(SetupVersion)
        .where(col(SetupVersion.id) == 1)
        .values(version=SetupVersion.version + 1)
    )
    if raised.rowcount == 0:  # the row the migration made is gone: start it again
        session.add(SetupVersion(id=1, version=1))
        await session.flush()


async def read_setup(session: AsyncSession) -> SetupRows:
    version = await setup_version(session)
    sites = await session.exec(select(ConsoleSite).order_by(col(ConsoleSite.created_at)))
    connections = await session.exec(select(ChatConnection).order_by(col(ChatConnection.id)))
    moves = await session.exec(select(ChatMove))
    values = await session.exec(select(SetupValue))
    admins = await session.exec(
        select(Manager.telegram_id).where(
            col(Manager.role) == ManagerRole.ADMIN.value, col(Manager.active).is_(True)
        )
    )
    return SetupRows(
        version=version,
        sites=list(sites.all()),
        connections=list(connections.all()),
        moves=list(moves.all()),
        values={value.name: value for value in values.all()},
        admins=sorted(admins.all()),
    )


# --- chats


async def connect_chat(
    session: AsyncSession,
    *,
    chat_id: int,
    site_key: str | None,
    topic: int | None,
    title: str,
    created_by: int | None,
) -> bool:
    """Connect a chat (a topic of it) to a site, or to every site with `site_key` None;
    connected already, its topic and title are updated. True if anything changed."""
    key = site_key or EVERY_SITE
    found = (
        await session.exec(
            select(ChatConnection).where(
                col(ChatConnection.chat_id) == chat_id, col(ChatConnection.site_key) == key
            )
        )
    ).first()
    if found is not None and found.topic == topic and found.title == title[:255]:
        return False
    connection = found or ChatConnection(chat_id=chat_id, site_key=key, created_by=created_by)
    connection.topic, connection.title = topic, title[:255]
    session.add(connection)
    await bump_version(session)
    return True


async def disconnect_chat(session: AsyncSession, *, chat_id: int, site_key: str | None) -> int:
    """Disconnect a chat from one site (or, `site_key` None, from all): how many went."""
    query = delete(ChatConnection).where(col(ChatConnection.chat_id) == chat_id)
    if site_key is not None:
        query = query.where(col(ChatConnection.site_key) == site_key)
    gone = (await session.exec(query)).rowcount
    if gone:
        await bump_version(session)
    return gone


async def connections_of(session: AsyncSession, chat_id: int) -> list[ChatConnection]:
    found = await session.exec(
        select(ChatConnection)
        .where(col(ChatConnection.chat_id) == chat_id)
        .order_by(col(ChatConnection.id))
    )
    return list(found.all())


async def connections_to_site(session: AsyncSession, site_key: str) -> list[ChatConnection]:
    """The chats connected to one site (not those connected to every site)."""
    found = await session.exec(
        select(ChatConnection)
        .where(col(ChatConnection.site_key) == site_key)
        .order_by(col(ChatConnection.id))
    )
    return list(found.all())


async def move_chat(session: AsyncSession, *, old_id: int, new_id: int) -> bool:
    """A group became a supergroup: its connections move to the new id, and the move is
    kept so that chats named in the configuration follow. False if known already."""
    if old_id == new_id or await session.get(ChatMove, old_id) is not None:
        return False
    session.add(ChatMove(old_id=old_id, new_id=new_id))
    await session.exec(
        update(ChatConnection).where(col(ChatConnection.chat_id) == old_id).values(chat_id=new_id)
    )
    await bump_version(session)
    return True


# --- values


async def set_value(session: AsyncSession, name: str, value: str, *, sealed: bool) -> None:
    found = await session.get(SetupValue, name)
    row = found or SetupValue(name=name, value=value)
    row.value, row.sealed, row.updated_at = value, sealed, utcnow()
    session.add(row)
    await bump_version(session)


async def get_value(session: AsyncSession, name: str) -> SetupValue | None:
    return await session.get(SetupValue, name)


# --- admins


async def create_admin_link(session: AsyncSession) -> str:
    """A new link's code (shown once, stored hashed); unused older ones stay valid."""
    now = utcnow()
    await session.exec(delete(AdminLink).where(col(AdminLink.expires_at) < now - _KEEP_SPENT))
    code = ADMIN_LINK_PREFIX + secrets.token_urlsafe(24)
    session.add(
        AdminLink(code_hash=hash_token(code), created_at=now, expires_at=now + ADMIN_LINK_LIFETIME)
    )
    await session.flush()
    return code


async def redeem_admin_link(session: AsyncSession, *, code: str, telegram_id: int) -> bool:
    """Mark the link used by `telegram_id` if it is valid: True once, then False."""
    return await claim_once(session, AdminLink, AdminLink.code_hash, code, used_by=telegram_id)


class AdminLinkRefused(Enum):
    SPENT = "spent"  # used, expired, or never made
    TEAM_HAS_ADMIN = "team_has_admin"  # admins make others admin instead


async def become_admin(
    session: AsyncSession,
    *,
    code: str,
    telegram_id: int,
    name: str,
    username: str | None,
    language: str,
) -> Manager | AdminLinkRefused:
    """While the team has no admin, whoever opens a valid admin link becomes one (the link
    is spent); `language` is a newcomer's. A link printed in a log is worth nothing once
    the first admin is in."""
    if await count_admins(session) > 0:
        return AdminLinkRefused.TEAM_HAS_ADMIN
    if not await redeem_admin_link(session, code=code, telegram_id=telegram_id):
        return AdminLinkRefused.SPENT
    manager = await session.get(Manager, telegram_id) or Manager(
        telegram_id=telegram_id, language=language
    )
    manager.name, manager.username = name[:200], username
    manager.role, manager.active, manager.updated_at = ManagerRole.ADMIN.value, True, utcnow()
    session.add(manager)
    await bump_version(session)
    await session.flush()
    return manager


async def count_admins(session: AsyncSession) -> int:
    found = await session.exec(
        select(func.count())
        .select_from(Manager)
        .where(col(Manager.role) == ManagerRole.ADMIN.value, col(Manager.active).is_(True))
    )
    return int(found.one())


async def set_admin(session: AsyncSession, telegram_id: int, *, admin: bool) -> bool | None:
    """Make a known member admin, or a manager again. None: unknown member; False: it
    would leave no admin (the last one stays)."""
    manager = await session.get(Manager, telegram_id)
    if manager is None:
        return None
    role = ManagerRole.ADMIN.value if admin else ManagerRole.MANAGER.value
    if manager.role == role and manager.active:
        return True
    if not admin and await count_admins(session) <= 1:
        return False
    manager.role, manager.active, manager.updated_at = role, True, utcnow()
    session.add(manager)
    await bump_version(session)
    return True


# --- console sites


async def console_site_keys(session: AsyncSession) -> list[str]:
    """The keys of the console's sites, enabled or not, oldest first."""
    found = await session.exec(select(ConsoleSite.key).order_by(col(ConsoleSite.created_at)))
    return list(found.all())


async def get_console_site(session: AsyncSession, key: str) -> ConsoleSite | None:
    return await session.get(ConsoleSite, key)


async def save_console_site(session: AsyncSession, site: ConsoleSite) -> None:
    """Add or change a console site; its row of `site` (which leads point at) with it."""
    site.updated_at = utcnow()
    session.add(site)
    await ensure_sites(session, [(site.key, site.name or site.key)])
    await bump_version(session)
