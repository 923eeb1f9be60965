"""Turning the action log into the card's history lines, in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.utils.i18n import gettext as _

from bot.cards import HistoryLine, status_label
from bot.outcomes import explain
from domain.statuses import PayStatus
from storage.models import Action, ActionOutcome


def describe_action(action: Action) -> str:
    who = action.actor_name or _("someone")
    kind, _sep, argument = action.kind.partition(":")
    if kind == "take":
        return _("{name} took the lead").format(name=who)
    if kind == "status":
        label = status_label(int(argument)) if argument.isdigit() else argument
        what = _("{name}: status → {status}").format(name=who, status=label)
    elif kind == "deal":
        what = _("{name}: 5CRM deal").format(name=who)
    elif kind == "call":
        what = (
            _("Call now")
            if argument in ("", "0")
            else _("Call in {minutes} min").format(
                minutes=int(argument) // 60 if argument.isdigit() else argument
            )
        )
    elif kind == "uncall":
        what = _("{name}: cancel call").format(name=who)
    elif kind == "note":
        what = _("{name}: note").format(name=who)
    elif kind == "client":
        what = _client_corrected(argument).format(name=who)
    elif kind == "invoice":
        what = _("{name}: invoice").format(name=who)
    elif kind == "pay":
        what = (
            _("{name}: marked paid").format(name=who)
            if argument == str(int(PayStatus.PAID))
            else _("{name}: marked payment error").format(name=who)
        )
    else:
        what = action.kind
    if action.outcome == ActionOutcome.PENDING.value:
        return _("{what}: in progress…").format(what=what)
    if action.outcome == ActionOutcome.FAILED.value:
        reason = explain(action.detail) if action.detail else "?"
        return _("{what}: failed — {reason}").format(what=what, reason=reason)
    if action.detail:
        return _("{what}: done — {detail}").format(what=what, detail=explain(action.detail))
    return _("{what}: done").format(what=what)


def _client_corrected(field: str) -> str:
    # One sentence per detail: languages agree the verb with the noun.
    sentences = {
        "name": _("{name}: client's name corrected"),
        "phone": _("{name}: client's phone corrected"),
        "email": _("{name}: client's e-mail corrected"),
    }
    return sentences.get(field, _("{name}: client corrected"))


def history_lines(actions: Sequence[Action]) -> list[HistoryLine]:
    return [
        HistoryLine(
            at=action.finished_at or action.requested_at,
            text=describe_action(action),
            ok=action.outcome != ActionOutcome.FAILED.value,
        )
        for action in actions
    ]
