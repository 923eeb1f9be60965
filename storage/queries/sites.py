"""Keeping the site table in step with the configuration (and the console's sites)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import Site


async def ensure_sites(session: AsyncSession, sites: Iterable[tuple[str, str]]) -> None:
    """Create or rename the configured sites, given as (key, name); never deletes one."""
    for key, name in sites:
        row = await session.get(Site, key)
        if row is None:
            session.add(Site(key=key, name=name))
        elif row.name != name:
            row.name = name
            row.updated_at = utcnow()
            session.add(row)
    await session.flush()


async def site_keys(session: AsyncSession) -> list[str]:
    """Every site's key that leads were ever stored under, configured now or not."""
    return list((await session.exec(select(Site.key))).all())
