"""Turning the action log into the card's history lines, in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from aiogram.utils.i18n import gettext as _

from bot.card_view import HistoryLine
from bot.cards import status_label
from bot.lost_reasons import any_reason_label, cancelled_because
from bot.outcomes import explain
from domain.calls import CALL_AT_MARK
from domain.lost_reasons import reason_in
from domain.offers import (
    OFFER,
    OFFER_ACCEPT,
    OFFER_ACTIONS,
    OFFER_EXPIRED,
    OFFER_PASS,
)
from domain.owners import ASSIGN, RELEASE, TAKE, TAKE_BACK, is_ownership, read_take_back
from domain.rules import rule_named
from domain.statuses import PayStatus
from storage.models import Action, ActionOutcome


def actor_of(action: Action) -> str:
    """Who took an action, in the reader's language: a manager by name, or a rule."""
    rule = rule_named(action.actor_id, action.actor_name)
    if rule is not None:
        return _("Rule «{rule}»").format(rule=rule)
    return action.actor_name or _("someone")


def describe_action(action: Action, zone: tzinfo = UTC) -> str:
    who = actor_of(action)
    kind, _sep, argument = action.kind.partition(":")
    if kind == TAKE:
        return _("{name} took the lead").format(name=who)
    if kind == ASSIGN:
        assigned = action.detail or argument
        rule = rule_named(action.actor_id, action.actor_name)
        if rule is not None:
            # A sentence of its own: Russian agrees the verb with "rule", not with a person.
            return _("Rule «{rule}» assigned the lead to {name}").format(rule=rule, name=assigned)
        return _("{admin} assigned the lead to {name}").format(admin=who, name=assigned)
    if kind == RELEASE:
        if action.detail:
            return _("{name} released the lead of {owner}").format(name=who, owner=action.detail)
        return _("{name} released the lead").format(name=who)
    if kind == TAKE_BACK:
        return taken_back_text(action.detail)
    if kind in OFFER_ACTIONS:
        return offer_text(kind, action.detail or "?")
    lost = reason_in(action.detail) if action.outcome != ActionOutcome.FAILED.value else None
    if kind == "status" and lost:
        # Cancelled with the reason picked: the line says why (none given: it says nothing).
        label = cancelled_because(any_reason_label(lost))
        what = _("{name}: status → {status}").format(name=who, status=label)
    elif kind == "status":
        label = status_label(int(argument)) if argument.isdigit() else argument
        what = _("{name}: status → {status}").format(name=who, status=label)
    elif kind == "deal":
        what = _("{name}: 5CRM deal").format(name=who)
    elif kind == "call":
        what = call_label(argument, zone)
        if rule_named(action.actor_id, action.actor_name) is not None:
            # A call's line names no one (the tapping manager took the lead); a rule's says so.
            what = _("{rule}: {call}").format(rule=who, call=what)
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
    if action.detail and reason_in(action.detail) is None:
        return _("{what}: done — {detail}").format(what=what, detail=explain(action.detail))
    return _("{what}: done").format(what=what)


def taken_back_text(detail: str) -> str:
    """A take-back's line: from whom, after how long without action."""
    owner, minutes = read_take_back(detail)
    # The wait in working minutes, as `bot.sla.waited_text` says it (not imported: bot.sla
    # imports bot.views, which imports this module).
    if minutes < 60:
        waited = _("{minutes} min").format(minutes=max(1, minutes))
    else:
        waited = _("{hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)
    return _("Taken back from {name} after {waited} without action").format(
        name=owner or "?", waited=waited
    )


def offer_text(kind: str, name: str) -> str:
    """An offer's line: to whom, and how it ended (`name`: the manager offered it)."""
    if kind == OFFER:
        return _("Offered to {name}").format(name=name)
    if kind == OFFER_ACCEPT:
        return _("{name} accepted the offer").format(name=name)
    if kind == OFFER_PASS:
        return _("{name} passed the offer").format(name=name)
    if kind == OFFER_EXPIRED:
        return _("{name} let the offer run out").format(name=name)
    return _("Offered to everyone on shift: open to anyone")


def _client_corrected(field: str) -> str:
    # One sentence per detail: languages agree the verb with the noun.
    sentences = {
        "name": _("{name}: client's name corrected"),
        "phone": _("{name}: client's phone corrected"),
        "email": _("{name}: client's e-mail corrected"),
    }
    return sentences.get(field, _("{name}: client corrected"))


def call_label(argument: str, zone: tzinfo | None = None) -> str:
    """A call's name from its action's argument: `0` now, `600` a delay in seconds,
    `@1767340800` a moment (shown in `zone`; without one, as "in the morning")."""
    if argument in ("", "0"):
        return _("Call now")
    if argument.startswith(CALL_AT_MARK):
        moment = argument.removeprefix(CALL_AT_MARK)
        if zone is None or not moment.isdigit():
            return _("Call in the morning")
        local = datetime.fromtimestamp(int(moment), UTC).astimezone(zone)
        return _("Call at {time}").format(time=local.strftime("%d.%m %H:%M"))
    if not argument.isdigit():
        return _("Call in {minutes} min").format(minutes=argument)
    seconds = int(argument)
    if seconds >= 3600 and seconds % 3600 == 0:
        return _("Call in {hours} h").format(hours=seconds // 3600)
    return _("Call in {minutes} min").format(minutes=seconds // 60)


def assigned_by(actions: Sequence[Action]) -> str | None:
    """Who assigned the lead to its owner, when the last change of owner was an assignment."""
    for action in reversed(actions):
        if is_ownership(action.kind):
            is_assignment = action.kind.partition(":")[0] == ASSIGN
            return actor_of(action) if is_assignment else None
    return None


def history_lines(actions: Sequence[Action], zone: tzinfo = UTC) -> list[HistoryLine]:
    return [
        HistoryLine(
            at=action.finished_at or action.requested_at,
            text=describe_action(action, zone),
            ok=action.outcome != ActionOutcome.FAILED.value,
        )
        for action in actions
    ]
