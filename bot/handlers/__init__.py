"""The bot's routers, in the order the dispatcher tries them; the refusal comes last.

Each is built anew for each dispatcher: a router belongs to one dispatcher only."""

from __future__ import annotations

from aiogram import Router

from . import actions, admin, fallback, find, leads, start, stats


def get_routers() -> list[Router]:
    modules = (start, admin, leads, find, stats, actions, fallback)
    return [module.build_router() for module in modules]
