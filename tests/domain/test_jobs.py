"""The job catalogue: each kind's payload survives the database's JSON, and the strings it
builds are the ones databases already hold (a changed key would let a repeat through)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.jobs import (
    ACTION_FAILED,
    ALL_KINDS,
    BLOCKED_ALERT,
    BURST_SUMMARY,
    CALL,
    CANCEL_CALL,
    CRM5_DEAL,
    DIGEST,
    DIGEST_MESSAGE,
    FLEXBE_CLIENT,
    FLEXBE_INVOICE,
    FLEXBE_NOTE,
    FLEXBE_PAY,
    FLEXBE_STATUS,
    MOVED_ALERT,
    NOBODY_ON_SHIFT,
    NOTIFY,
    OFFER_ALERT,
    OFFER_ENDED,
    OFFER_EXPIRE,
    OFFER_MESSAGE,
    OFFER_NEXT,
    PRUNE,
    RECONCILE,
    RECOVERED,
    RULES_APPLY,
    RULES_REDISTRIBUTE,
    SLA_ALERT,
    SLA_ESCALATE,
    SLA_REMIND,
    SLA_REMINDER,
    STATS_CHART,
    SYNC_REPORT,
    TAKE_BACK,
    TAKE_BACK_MESSAGE,
    TELEGRAM_KINDS,
    TELEGRAM_UPDATE,
    TOPIC_ALERT,
    ActionFailedPayload,
    ActionPayload,
    BlockedAlertPayload,
    BurstSummaryPayload,
    CardPayload,
    ChartPayload,
    DigestMessagePayload,
    DigestPayload,
    JobKind,
    LeadEditPayload,
    LeadMessagePayload,
    LeadTimerPayload,
    MovedAlertPayload,
    NoPayload,
    OfferMessagePayload,
    OfferNextPayload,
    OfferPayload,
    PayloadError,
    Queued,
    ReconcilePayload,
    RecoveredPayload,
    RedistributePayload,
    SyncReportPayload,
    TakeBackMessagePayload,
    TakeBackPayload,
    TopicAlertPayload,
    UpdatePayload,
    action_failed_key,
    answer_edit_key,
    asked_reconcile_key,
    blocked_alert_key,
    burst_summary_key,
    call_key,
    cancel_call_key,
    changed_card_key,
    deal_key,
    digest_key,
    digest_message_key,
    moved_alert_key,
    new_card_key,
    offer_alert_key,
    offer_ended_key,
    offer_expire_key,
    offer_message_key,
    offer_next_key,
    pay_status_key,
    prune_key,
    reconcile_key,
    recovered_key,
    redistribute_key,
    refresh_card_key,
    repost_card_key,
    rules_key,
    sla_alert_key,
    sla_escalate_key,
    sla_remind_key,
    sla_reminder_key,
    stats_chart_key,
    status_key,
    sync_report_key,
    take_back_key,
    take_back_message_key,
    telegram_queue,
    topic_alert_key,
    update_key,
)

# One payload of each kind, and the JSON the project has always stored for it.
EXAMPLES: list[tuple[JobKind[Any], Any, dict[str, Any]]] = [
    (
        NOTIFY,
        CardPayload(lead_id=7, chat_id=-100123, reason="new"),
        {"lead_id": 7, "chat_id": -100123, "reason": "new"},
    ),
    (TELEGRAM_UPDATE, UpdatePayload(update_id=991), {"update_id": 991}),
    (
        BLOCKED_ALERT,
        BlockedAlertPayload(chat_id=42, blocked_chat=-100123),
        {"chat_id": 42, "blocked_chat": -100123},
    ),
    (
        MOVED_ALERT,
        MovedAlertPayload(chat_id=42, old_chat=-4001, new_chat=-1004001),
        {"chat_id": 42, "old_chat": -4001, "new_chat": -1004001},
    ),
    (
        TOPIC_ALERT,
        TopicAlertPayload(chat_id=42, topic_chat=-100123, topic=15, site="okna"),
        {"chat_id": 42, "topic_chat": -100123, "topic": 15, "site": "okna"},
    ),
    (
        ACTION_FAILED,
        ActionFailedPayload(
            chat_id=42,
            lead_id=7,
            num=1001,
            flexbe_id=555,
            site="okna",
            action="call:0",
            code="comunik8:existing_contact",
            job_id=3,
        ),
        {
            "lead_id": 7,
            "num": 1001,
            "flexbe_id": 555,
            "site": "okna",
            "action": "call:0",
            "code": "comunik8:existing_contact",
            "job_id": 3,
            "chat_id": 42,
        },
    ),
    (
        RECOVERED,
        RecoveredPayload(chat_id=-100123, site="okna", lead_ids=(4, 5, 6)),
        {"chat_id": -100123, "site": "okna", "lead_ids": [4, 5, 6]},
    ),
    (
        SYNC_REPORT,
        SyncReportPayload(chat_id=42, site="Okna", new=1, updated=2, unchanged=3, failed=0),
        {"chat_id": 42, "site": "Okna", "new": 1, "updated": 2, "unchanged": 3, "failed": 0},
    ),
    (
        BURST_SUMMARY,
        BurstSummaryPayload(chat_id=-100123, lead_ids=(4, 5), part=2, parts=3, total=90),
        {"chat_id": -100123, "lead_ids": [4, 5], "part": 2, "parts": 3, "total": 90},
    ),
    (
        STATS_CHART,
        ChartPayload(
            chat_id=42, since=1000, until=2000, sites=("okna",), language="ru", title="week"
        ),
        {
            "chat_id": 42,
            "since": 1000,
            "until": 2000,
            "sites": ["okna"],
            "language": "ru",
            "title": "week",
        },
    ),
    (RECONCILE, ReconcilePayload(site="okna"), {"site": "okna"}),
    (
        RECONCILE,
        ReconcilePayload(site="okna", report_to=42),
        {"site": "okna", "report_to": 42},
    ),
    (PRUNE, NoPayload(), {}),
    (
        FLEXBE_STATUS,
        ActionPayload(lead_id=7, site="okna", actor=42, status=2, action="status:2"),
        {"lead_id": 7, "site": "okna", "actor": 42, "status": 2, "action": "status:2"},
    ),
    (
        CRM5_DEAL,
        ActionPayload(lead_id=7, site="okna", actor=42, action="deal", action_id=9),
        {"lead_id": 7, "site": "okna", "actor": 42, "action": "deal", "action_id": 9},
    ),
    (
        CALL,
        ActionPayload(lead_id=7, site="okna", actor=42, delay=600, action="call:600"),
        {"lead_id": 7, "site": "okna", "actor": 42, "delay": 600, "action": "call:600"},
    ),
    (
        CALL,
        ActionPayload(
            lead_id=7,
            site="okna",
            actor=42,
            delay=3600,
            action="call:@1796626800",
            call_at=1796626800,
        ),
        {
            "lead_id": 7,
            "site": "okna",
            "actor": 42,
            "delay": 3600,
            "action": "call:@1796626800",
            "call_at": 1796626800,
        },
    ),
    (
        CANCEL_CALL,
        ActionPayload(lead_id=7, site="okna", actor=42, action="uncall"),
        {"lead_id": 7, "site": "okna", "actor": 42, "action": "uncall"},
    ),
    (
        FLEXBE_NOTE,
        LeadEditPayload(lead_id=7, site="okna", actor=42, action="note", note="02.12 Max: ok"),
        {"lead_id": 7, "site": "okna", "actor": 42, "action": "note", "note": "02.12 Max: ok"},
    ),
    (
        FLEXBE_CLIENT,
        LeadEditPayload(
            lead_id=7, site="okna", actor=42, action="client:phone", client_phone="+79123456789"
        ),
        {
            "lead_id": 7,
            "site": "okna",
            "actor": 42,
            "action": "client:phone",
            "client_phone": "+79123456789",
        },
    ),
    (
        FLEXBE_INVOICE,
        LeadEditPayload(
            lead_id=7,
            site="okna",
            actor=42,
            action="invoice",
            pay_summ="15000.50",
            pay_status=0,
            pay_desc="",
            action_id=9,
        ),
        {
            "lead_id": 7,
            "site": "okna",
            "actor": 42,
            "action": "invoice",
            "pay_summ": "15000.50",
            "pay_status": 0,
            "pay_desc": "",
            "action_id": 9,
        },
    ),
    (
        FLEXBE_PAY,
        LeadEditPayload(lead_id=7, site="okna", actor=11, action="pay:2", pay_status=2),
        {"lead_id": 7, "site": "okna", "actor": 11, "action": "pay:2", "pay_status": 2},
    ),
    (SLA_REMIND, LeadTimerPayload(lead_id=7), {"lead_id": 7}),
    (SLA_ESCALATE, LeadTimerPayload(lead_id=7), {"lead_id": 7}),
    (RULES_APPLY, LeadTimerPayload(lead_id=7), {"lead_id": 7}),
    (
        SLA_REMINDER,
        LeadMessagePayload(chat_id=-100123, lead_id=7),
        {"chat_id": -100123, "lead_id": 7},
    ),
    (SLA_ALERT, LeadMessagePayload(chat_id=42, lead_id=7), {"chat_id": 42, "lead_id": 7}),
    (NOBODY_ON_SHIFT, LeadMessagePayload(chat_id=42, lead_id=7), {"chat_id": 42, "lead_id": 7}),
    (
        TAKE_BACK,
        TakeBackPayload(lead_id=7, owner_id=42, taking=9),
        {"lead_id": 7, "owner_id": 42, "taking": 9},
    ),
    (
        TAKE_BACK_MESSAGE,
        TakeBackMessagePayload(chat_id=42, lead_id=7, owner_id=42, action_id=11),
        {"chat_id": 42, "lead_id": 7, "owner_id": 42, "action_id": 11},
    ),
    (
        RULES_REDISTRIBUTE,
        RedistributePayload(lead_id=7, owner_id=42, taken_back=12),
        {"lead_id": 7, "owner_id": 42, "taken_back": 12},
    ),
    (OFFER_EXPIRE, OfferPayload(lead_id=7, step=2), {"lead_id": 7, "step": 2}),
    (
        OFFER_NEXT,
        OfferNextPayload(lead_id=7, step=2, first_step=1, window=120),
        {"lead_id": 7, "step": 2, "first_step": 1, "window": 120},
    ),
    (
        OFFER_MESSAGE,
        OfferMessagePayload(chat_id=42, lead_id=7, step=2),
        {"chat_id": 42, "lead_id": 7, "step": 2},
    ),
    (
        OFFER_ENDED,
        OfferMessagePayload(chat_id=42, lead_id=7, step=2),
        {"chat_id": 42, "lead_id": 7, "step": 2},
    ),
    (OFFER_ALERT, LeadMessagePayload(chat_id=42, lead_id=7), {"chat_id": 42, "lead_id": 7}),
    (
        DIGEST,
        DigestPayload(chat_id=-100123, day="2027-03-29"),
        {"chat_id": -100123, "day": "2027-03-29"},
    ),
    (
        DIGEST_MESSAGE,
        DigestMessagePayload(chat_id=-100123, day="2027-03-29"),
        {"chat_id": -100123, "day": "2027-03-29"},
    ),
]


@pytest.mark.parametrize(
    ("kind", "payload", "stored"), EXAMPLES, ids=lambda v: getattr(v, "name", "")
)
def test_every_payload_round_trips_through_the_stored_json(
    kind: JobKind[Any], payload: Any, stored: dict[str, Any]
) -> None:
    dumped = payload.dump()
    assert json.dumps(dumped) == json.dumps(stored), "the same keys, in the same order"
    assert kind.parse(json.loads(json.dumps(dumped))) == payload


def test_every_kind_has_an_example_and_a_name_of_its_own() -> None:
    names = [kind.name for kind in ALL_KINDS]
    assert len(names) == len(set(names)), "no two kinds share a name"
    assert {kind.name for kind, _, _ in EXAMPLES} == set(names)
    assert {kind.name for kind in TELEGRAM_KINDS} <= set(names)
    assert all(len(name) <= 64 for name in names), "job.kind is VARCHAR(64)"


def test_the_kind_names_are_the_stored_ones() -> None:
    assert sorted(kind.name for kind in ALL_KINDS) == [
        "comunik8.call",
        "comunik8.cancel",
        "crm5.deal",
        "digest",
        "flexbe.client",
        "flexbe.invoice",
        "flexbe.note",
        "flexbe.pay",
        "flexbe.reconcile",
        "flexbe.status",
        "notify",
        "offer.expire",
        "offer.next",
        "retention.prune",
        "rules.apply",
        "rules.redistribute",
        "sla.escalate",
        "sla.remind",
        "take_back",
        "telegram.action_failed",
        "telegram.alert",
        "telegram.digest",
        "telegram.moved_alert",
        "telegram.nobody_on_shift",
        "telegram.offer",
        "telegram.offer_alert",
        "telegram.offer_ended",
        "telegram.recovered",
        "telegram.sla_alert",
        "telegram.sla_reminder",
        "telegram.stats_chart",
        "telegram.summary",
        "telegram.sync_report",
        "telegram.take_back",
        "telegram.topic_alert",
        "telegram.update",
    ]


def test_the_dedupe_keys_and_queues_are_the_stored_ones() -> None:
    # 100 h 7 min after the epoch: slot 1201 of 5 minutes, slot 100 of an hour.
    now = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=100, minutes=7)
    assert new_card_key(7, -100123) == "notify:7:-100123"
    assert changed_card_key(7, -100123, 4) == "notify:7:-100123:v4"
    assert refresh_card_key(7, -100123, "a9ok") == "notify:7:-100123:a9ok"
    assert repost_card_key(7, -100123, "cb77") == "notify:7:-100123:rcb77"
    assert update_key(991) == "tg.update:991"
    assert blocked_alert_key(-100123, 42) == "alert:blocked:-100123:42"
    assert moved_alert_key(-4001, 42) == "alert:moved:-4001:42"
    assert topic_alert_key(-100123, 15, 42) == "alert:topic:-100123:15:42"
    assert action_failed_key("j3.2", 42) == "alert:dead:j3.2:42"
    assert recovered_key("okna", -100123, [6, 4, 5]) == "recovered:okna:-100123:4:3"
    assert burst_summary_key(-100123, 7, 2) == "summary:-100123:7:2"
    assert rules_key(7) == "rules:7"
    assert sync_report_key(42, now) == "sync-report:42:360420.0"
    assert reconcile_key("okna", now, timedelta(minutes=5)) == "reconcile:okna:1201"
    assert asked_reconcile_key("okna", 42, 17) == "reconcile:okna:asked:42:17"
    assert prune_key(now, timedelta(hours=1)) == "prune:100"
    assert stats_chart_key(42, "17") == "stats-chart:42:17"
    assert status_key(7, 2, 3) == "flexbe.status:7:2:v3"
    assert deal_key(7) == "crm5.deal:7"
    assert call_key(7, 0) == "comunik8.call:7:0"
    assert cancel_call_key(7, 1) == "comunik8.cancel:7:1"
    assert answer_edit_key(-100123, 55) == "flexbe.edit:-100123:55"
    assert pay_status_key(7, 2, 3) == "flexbe.pay:7:2:v3"
    assert telegram_queue(-100123) == "tg:-100123"
    assert LeadEditPayload(lead_id=7).queue == "lead:7", "a lead's edits run in order"
    assert sla_remind_key(7) == "sla.remind:7"
    assert sla_escalate_key(7) == "sla.escalate:7"
    assert sla_reminder_key(7, -100123) == "sla.remind:7:-100123"
    assert sla_alert_key(7, 42) == "sla.escalate:7:42"
    assert take_back_key(7, 9) == "take_back:7:9"
    assert take_back_message_key(7, 9, 42) == "take_back:7:9:42"
    assert redistribute_key(7, 12) == "rules:7:again:12"
    assert offer_expire_key(7, 2) == "offer:7:2"
    assert offer_next_key(7, 2) == "offer:7:2:next"
    assert offer_message_key(7, 2) == "offer:7:2:message"
    assert offer_ended_key(7, 2) == "offer:7:2:ended"
    assert offer_alert_key(7, 1, 42) == "offer_alert:7:1:42"
    assert digest_key(-100123, "2027-03-29") == "digest:-100123:2027-03-29"
    assert digest_message_key(-100123, "2027-03-29") == "digest:-100123:2027-03-29:message"
    assert telegram_queue(-100123) == "tg:-100123"
    # Timers wait outside the chats' queues (a future job would hold a chat's cards back);
    # the messages they send go in line.
    assert not isinstance(LeadTimerPayload(7), Queued)
    assert not isinstance(TakeBackPayload(7, 42, 9), Queued)
    assert TakeBackMessagePayload(42, 7, 42, 11).queue == "tg:42"
    assert not isinstance(OfferPayload(7, 2), Queued)
    assert not isinstance(OfferNextPayload(7, 2, 1, 120), Queued)
    assert OfferMessagePayload(42, 7, 2).queue == "tg:42"
    assert not isinstance(DigestPayload(-100123, "2027-03-29"), Queued)
    assert LeadMessagePayload(-100123, 7).queue == "tg:-100123"
    assert DigestMessagePayload(-100123, "2027-03-29").queue == "tg:-100123"
    assert CardPayload(lead_id=7, chat_id=-100123, reason="new").queue == "tg:-100123"


def test_keys_with_a_free_form_part_fit_the_column() -> None:
    assert len(refresh_card_key(7, -100123, "x" * 400)) == 255
    assert len(repost_card_key(7, -100123, "x" * 400)) == 255
    assert len(action_failed_key("x" * 400, 42)) == 255


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (NOTIFY, {"chat_id": 1, "reason": "new"}),
        (NOTIFY, {"lead_id": "seven", "chat_id": 1, "reason": "new"}),
        (NOTIFY, {"lead_id": True, "chat_id": 1, "reason": "new"}),
        (TELEGRAM_UPDATE, {"update_id": None}),
        (RECOVERED, {"chat_id": 1, "site": "okna", "lead_ids": 4}),
        (SYNC_REPORT, {"chat_id": 1, "site": "okna", "new": 1}),
        (BURST_SUMMARY, {"chat_id": 1, "lead_ids": "4,5"}),
        (STATS_CHART, {"chat_id": 1, "since": 0, "until": 1, "sites": "okna"}),
        (RECONCILE, {}),
        (FLEXBE_STATUS, {"site": "okna"}),
    ],
)
def test_a_malformed_payload_is_refused_by_name(kind: JobKind[Any], raw: dict[str, Any]) -> None:
    with pytest.raises(PayloadError, match="job payload"):
        kind.parse(raw)


def test_a_status_change_needs_its_status() -> None:
    with pytest.raises(PayloadError, match="status"):
        FLEXBE_STATUS.parse({"lead_id": 7}).new_status()
    assert FLEXBE_STATUS.parse({"lead_id": "7", "status": "2"}).new_status() == 2
