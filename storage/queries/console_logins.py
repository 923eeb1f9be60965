"""One-time login links into the admin console: made by the bot (or at first run), used once.

Only the SHA-256 of a link's token is stored, so a copy of the database lets nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import ConsoleLogin

LOGIN_LINK_LIFETIME = timedelta(minutes=10)
# Used or expired links are kept this long (to tell "used" from "unknown"), then deleted.
_KEEP_SPENT = timedelta(days=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


async def create_login_link(session: AsyncSession, *, created_by: int | None) -> str:
    """A new link's token (shown once, never stored as is)."""
    now = utcnow()
    await session.exec(delete(ConsoleLogin).where(col(ConsoleLogin.expires_at) < now - _KEEP_SPENT))
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleLogin(
            token_hash=hash_token(token),
            created_by=created_by,
            created_at=now,
            expires_at=now + LOGIN_LINK_LIFETIME,
        )
    )
    await session.flush()
    return token


async def redeem_login_link(session: AsyncSession, *, token: str) -> bool:
    """Mark the link used if it is valid: True once, then False (used, expired or unknown)."""
    return await claim_once(session, ConsoleLogin, ConsoleLogin.token_hash, token)


class OneTimeLink(Protocol):
    """A stored link (hashed) that may be used once before it expires."""

    used_at: datetime | None
    expires_at: datetime


async def claim_once(
    session: AsyncSession,
    table: type[OneTimeLink],
    hashed: str,
    token: str,
    **also: object,
) -> bool:
    """Mark the link of `token` used (with `also`, e.g. who used it) if it is valid: True
    once, then False (used, expired or unknown). `hashed`: the column of its hash."""
    if not token or len(token) > 128:
        return False
    now = utcnow()
    claimed = await session.exec(
        update(table)
        .where(
            col(hashed) == hash_token(token),
            col(table.used_at).is_(None),
            col(table.expires_at) > now,
        )
        .values(used_at=now, **also)
    )
    return claimed.rowcount == 1
