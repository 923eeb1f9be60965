"""The bot's routers, in the order the dispatcher tries them; the refusal comes last."""

from __future__ import annotations

from aiogram import Router

from . import actions, admin, fallback, leads, start


def get_routers() -> list[Router]:
    routers = [start.router, admin.router, leads.router, actions.router, fallback.router]
    for router in routers:
        # A router belongs to one dispatcher at a time; a process that builds a new one
        # (the test suite does, for each test) takes the routers over from the old one.
        router._parent_router = None  # noqa: SLF001
    return routers
