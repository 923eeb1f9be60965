"""The bot's routers, in the order the dispatcher tries them; the refusal comes last.

Each is built anew for each dispatcher: a router belongs to one dispatcher only."""

from __future__ import annotations

from aiogram import Router

from . import (
    actions,
    admin,
    chats,
    crm5_team,
    fallback,
    find,
    lead_work,
    leads,
    lost_reasons,
    migration,
    offers,
    owners,
    pages,
    shifts,
    start,
    stats,
)


def get_routers() -> list[Router]:
    modules = (
        # A group that became a supergroup: before anything reads the chat's id.
        migration,
        start,
        shifts,
        admin,
        chats,
        crm5_team,
        leads,
        find,
        stats,
        actions,
        lost_reasons,
        offers,
        pages,
        owners,
        lead_work,
        fallback,
    )
    return [module.build_router() for module in modules]
