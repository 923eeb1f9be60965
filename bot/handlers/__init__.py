"""The bot's routers, in the order the dispatcher tries them; the refusal comes last."""

from __future__ import annotations

from aiogram import Router

from . import actions, admin, fallback, leads, start


def get_routers() -> list[Router]:
    return [start.router, admin.router, leads.router, actions.router, fallback.router]
