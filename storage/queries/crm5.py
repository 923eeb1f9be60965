"""5CRM: the steps the deal button has done per lead, and managers' 5CRM accounts."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.models import Crm5ManagerLink, Crm5Progress


async def crm5_progress(session: AsyncSession, *, lead_id: int) -> dict[str, Crm5Progress]:
    """Step name → its row, for the steps already done for this lead."""
    result = await session.exec(select(Crm5Progress).where(Crm5Progress.lead_id == lead_id))
    return {row.step: row for row in result.all()}


async def record_crm5_step(
    session: AsyncSession,
    *,
    lead_id: int,
    step: str,
    manager_id: int | None,
    remote_id: int | None = None,
) -> None:
    """Mark a step done. Only the lead's one deal job writes these (its dedupe key), so a
    look-up before the insert is enough; a row already there is kept."""
    if await session.get(Crm5Progress, (lead_id, step)) is not None:
        return
    session.add(
        Crm5Progress(lead_id=lead_id, step=step, manager_id=manager_id, remote_id=remote_id)
    )
    await session.flush()


async def crm5_link_of(session: AsyncSession, telegram_id: int) -> Crm5ManagerLink | None:
    return await session.get(Crm5ManagerLink, telegram_id)


async def crm5_links(session: AsyncSession) -> dict[int, Crm5ManagerLink]:
    """Telegram id → the 5CRM account their deals are credited to."""
    result = await session.exec(select(Crm5ManagerLink).order_by(col(Crm5ManagerLink.telegram_id)))
    return {link.telegram_id: link for link in result.all()}


async def link_crm5_manager(
    session: AsyncSession,
    *,
    telegram_id: int,
    crm5_manager_id: int,
    crm5_manager_name: str,
    linked_by: int,
) -> Crm5ManagerLink:
    """Credit this manager's deals to a 5CRM account (replacing any earlier one)."""
    link = await session.get(Crm5ManagerLink, telegram_id) or Crm5ManagerLink(
        telegram_id=telegram_id, crm5_manager_id=crm5_manager_id
    )
    link.crm5_manager_id = crm5_manager_id
    link.crm5_manager_name = crm5_manager_name[:255]
    link.linked_by, link.linked_at = linked_by, utcnow()
    session.add(link)
    await session.flush()
    return link


async def unlink_crm5_manager(session: AsyncSession, *, telegram_id: int) -> bool:
    """Back to the site's `manager_id`; False when there was no link."""
    link = await session.get(Crm5ManagerLink, telegram_id)
    if link is None:
        return False
    await session.delete(link)
    await session.flush()
    return True
