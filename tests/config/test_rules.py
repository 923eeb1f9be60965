"""Speed-to-lead rules in the TOML: what a rule may say, and each refusal naming the rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.rules import RuleActionKind, RuleTargetError, check_rule_targets
from domain.statuses import SETTABLE_STATUSES
from tests.config.refusals import LoadToml, toml_site

OKNA = toml_site("okna")


def test_rules_are_read_in_order_with_their_conditions_and_actions(load_toml: LoadToml) -> None:
    settings = load_toml(
        OKNA
        + """
[[sites.rules]]
name = "Night"
when = { working_hours = false, form = "Callback", utm = { utm_source = ["yandex", "google"] } }
do = ["call:1h30m", "status:1"]

[[sites.rules]]
do = ["assign:owner", "deal"]

[[sites.rules]]
name = "Round"
do = ["assign:next"]

[[sites.rules]]
name = "Offers"
do = ["offer:2m", "call"]

[[rules]]
site = "okna"
do = ["call"]
""",
    )
    rules = settings.site("okna").rules
    assert [rule.name for rule in rules] == ["Night", "rule 2", "Round", "Offers", "rule 5"]
    night = rules[0]
    assert night.when.form == ("Callback",) and night.when.working_hours is False
    assert night.when.utm == {"utm_source": ("yandex", "google")}
    assert night.do[0].delay == timedelta(minutes=90)
    assert night.do[1].status == 1 and rules[1].do[0].to_owner and rules[4].when.form == ()
    assert rules[2].do[0].to_next and not rules[2].do[0].to_owner
    offer = rules[3].do[0]
    assert offer.kind is RuleActionKind.OFFER and offer.delay == timedelta(minutes=2)


def test_an_unknown_manager_or_status_is_refused_at_start_naming_the_rule(
    load_toml: LoadToml,
) -> None:
    settings = load_toml(
        OKNA + '[[sites.rules]]\nname = "Ghost"\ndo = ["assign:424242"]\n'
        '[[sites.rules]]\nname = "Gone"\ndo = ["status:11"]\n',
    )
    rules = {"okna": settings.site("okna").rules}
    managers = {7: ["okna"], 424242: ["dveri"]}
    with pytest.raises(RuleTargetError) as manager:
        check_rule_targets(rules, managers=managers, statuses=SETTABLE_STATUSES)
    assert "rule 'Ghost'" in str(manager.value) and "assign:424242" in str(manager.value)

    with pytest.raises(RuleTargetError) as status:
        check_rule_targets(rules, managers={424242: []}, statuses=SETTABLE_STATUSES)
    assert "rule 'Gone'" in str(status.value) and "unknown status 11" in str(status.value)


def test_the_settable_statuses_are_the_cards_buttons() -> None:
    from bot.handlers.actions import STATUS_OF

    assert {status.value for status in STATUS_OF.values()} == SETTABLE_STATUSES
