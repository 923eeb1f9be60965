"""Managers and invites: who may see and act on leads."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.team import MAX_WEIGHT
from storage.clock import utcnow
from storage.models import Invite, Manager, ManagerRole

INVITE_LIFETIME = timedelta(days=2)


async def ensure_admins(session: AsyncSession, admin_ids: Iterable[int]) -> None:
    """Configured admins exist, are active and are admins; others keep what they have."""
    for telegram_id in admin_ids:
        manager = await session.get(Manager, telegram_id)
        if manager is None:
            session.add(Manager(telegram_id=telegram_id, role=ManagerRole.ADMIN.value))
        elif manager.role != ManagerRole.ADMIN.value or not manager.active:
            manager.role, manager.active, manager.updated_at = (
                ManagerRole.ADMIN.value,
                True,
                utcnow(),
            )
            session.add(manager)
    await session.flush()


async def get_manager(session: AsyncSession, telegram_id: int) -> Manager | None:
    """The active manager with this Telegram id, or None for anyone else."""
    manager = await session.get(Manager, telegram_id)
    return manager if manager is not None and manager.active else None


async def list_managers(session: AsyncSession) -> list[Manager]:
    result = await session.exec(select(Manager).order_by(col(Manager.created_at)))
    return list(result.all())


async def managers_for_site(session: AsyncSession, site_key: str) -> list[Manager]:
    """Active managers who get this site's cards in their private chat."""
    result = await session.exec(select(Manager).where(col(Manager.active).is_(True)))
    return [m for m in result.all() if not m.sites or site_key in m.sites]


async def set_active(session: AsyncSession, telegram_id: int, *, active: bool) -> Manager | None:
    manager = await session.get(Manager, telegram_id)
    if manager is None or manager.role == ManagerRole.ADMIN.value:
        return None
    manager.active, manager.updated_at = active, utcnow()
    session.add(manager)
    return manager


async def set_away(
    session: AsyncSession, telegram_id: int, *, since: datetime, until: datetime | None
) -> Manager | None:
    """Away from `since` until `until` (None: until back); None for no such member."""
    manager = await session.get(Manager, telegram_id)
    if manager is None:
        return None
    manager.away_from, manager.away_until, manager.updated_at = since, until, utcnow()
    session.add(manager)
    return manager


async def set_back(session: AsyncSession, telegram_id: int) -> Manager | None:
    """Back at work; None for no such member."""
    manager = await session.get(Manager, telegram_id)
    if manager is None:
        return None
    manager.away_from = manager.away_until = None
    manager.updated_at = utcnow()
    session.add(manager)
    return manager


async def set_working_hours(
    session: AsyncSession, telegram_id: int, hours: str | None
) -> Manager | None:
    """The member's own week (checked by the caller), or None for their site's."""
    manager = await session.get(Manager, telegram_id)
    if manager is None:
        return None
    manager.working_hours, manager.updated_at = hours, utcnow()
    session.add(manager)
    return manager


async def set_weight(session: AsyncSession, telegram_id: int, weight: int) -> Manager | None:
    """The member's share of the leads handed out in turn, 1 to MAX_WEIGHT; None for no such
    member. Raises ValueError for another weight."""
    if not 1 <= weight <= MAX_WEIGHT:
        raise ValueError(f"A weight is a whole number from 1 to {MAX_WEIGHT}, not {weight}.")
    manager = await session.get(Manager, telegram_id)
    if manager is None:
        return None
    manager.weight, manager.updated_at = weight, utcnow()
    session.add(manager)
    return manager


async def set_sites(session: AsyncSession, telegram_id: int, *, sites: list[str]) -> Manager | None:
    """The sites whose leads the manager receives in private; empty means every site."""
    manager = await session.get(Manager, telegram_id)
    if manager is None:
        return None
    manager.sites, manager.updated_at = sorted(set(sites)), utcnow()
    session.add(manager)
    return manager


async def set_language(session: AsyncSession, telegram_id: int, language: str) -> None:
    """The manager's own choice (`/lang`): it wins over what their Telegram app says."""
    await session.exec(
        update(Manager)
        .where(col(Manager.telegram_id) == telegram_id)
        .values(language=language, language_chosen=True, updated_at=utcnow())
    )


async def note_app_language(session: AsyncSession, manager: Manager, language: str) -> None:
    """The language a manager's Telegram app reports, kept until they choose one themselves,
    so that messages they did not ask for (alerts, cards) speak it too."""
    if manager.language_chosen or manager.language == language:
        return
    manager.language, manager.updated_at = language, utcnow()
    session.add(manager)


async def create_invite(
    session: AsyncSession, *, created_by: int, sites: list[str] | None = None
) -> Invite:
    now = utcnow()
    invite = Invite(
        code=secrets.token_urlsafe(12),
        created_by=created_by,
        sites=sites or [],
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    session.add(invite)
    await session.flush()
    return invite


async def redeem_invite(
    session: AsyncSession,
    *,
    code: str,
    telegram_id: int,
    name: str,
    username: str | None,
    language: str,
) -> Manager | None:
    """Turn a valid invite into a manager, once: a second use, or a late one, gets None."""
    now = utcnow()
    claimed = await session.exec(
        update(Invite)
        .where(
            col(Invite.code) == code,
            col(Invite.used_by).is_(None),
            col(Invite.expires_at) > now,
        )
        .values(used_by=telegram_id, used_at=now)
    )
    if claimed.rowcount != 1:
        return None
    invite = await session.get(Invite, code)
    assert invite is not None
    manager = await session.get(Manager, telegram_id)
    if manager is None:
        manager = Manager(telegram_id=telegram_id)
    manager.name, manager.username = name, username
    if not manager.language_chosen:
        manager.language = language
    manager.sites, manager.active, manager.updated_at = invite.sites, True, now
    session.add(manager)
    await session.flush()
    return manager
