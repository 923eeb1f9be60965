"""The 5CRM and dialler buttons: one deal, calls queued now or later, cancelled."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Stack, buttons, card_of, card_text, eventually, tap, tap_at_once
from tests.e2e.team import ADMIN, GROUP, MANAGER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_deal_button_creates_one_deal(stack: Stack) -> None:
    await stack.new_card()

    await tap_at_once(stack, "📇 5CRM deal", MANAGER, ADMIN, MANAGER)

    await eventually(lambda: "5CRM deal: done" in card_text(stack))
    [call] = stack.crm5.calls("public/deal/add")
    assert call.fields["client_name"] == "Иван Петров"
    assert call.fields["phone"] == "+79991234567"


async def test_call_now_later_and_cancel(stack: Stack) -> None:
    await stack.new_card()

    await tap(stack, "⏰ Call in 10 min")
    await eventually(lambda: "Call in 10 min: done" in card_text(stack))
    [added] = stack.comunik8.calls("lead/add")
    body = added.body if isinstance(added.body, dict) else json.loads(added.body)
    # Counted down from the tap when the job runs: ten minutes, less a moment.
    assert body["mobile"] == "+79991234567" and 590 <= body["delays"] <= 600
    assert body["type"] == "callback"

    await tap(stack, "✖️ Cancel call")
    await eventually(lambda: "Max: cancel call: done" in card_text(stack))
    assert len(stack.comunik8.calls("lead/cancel")) == 1


async def test_cancel_with_nothing_scheduled_says_so(stack: Stack) -> None:
    await stack.new_card()

    await tap(stack, "✖️ Cancel call")

    await eventually(lambda: "no scheduled call to cancel" in card_text(stack))
    final = card_of(stack.telegram, GROUP)
    assert final is not None and "🔁 Retry" in buttons(final)


async def test_status_changed_in_flexbe_admin_shows_on_the_card(stack: Stack) -> None:
    from actions.reconcile import ReconcileSettings, schedule_reconciles
    from jobs import signals
    from storage.clock import utcnow

    await stack.new_lead(time=int(utcnow().timestamp()) - 60)
    await eventually(lambda: card_of(stack.telegram, GROUP) is not None)
    stack.flexbe.set_status(1414, 2)  # a manager changed it in the Flexbe admin

    await schedule_reconciles(
        stack.database, list(stack.settings.effective_sites), ReconcileSettings(), now=utcnow()
    )
    signals.notify_enqueued()

    await eventually(lambda: "Status: Fulfilled" in card_text(stack))
    assert stack.flexbe.calls("getLeads"), "found by the reconcile"
