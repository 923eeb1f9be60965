"""Speed-to-lead rules in the TOML: what a rule may say, and each refusal naming the rule."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from config.rules import RuleTargetError, check_rule_targets
from config.settings import ConfigError, Settings, load_settings
from domain.statuses import SETTABLE_STATUSES

SITE = """
[[sites]]
key = "okna"
webhook_token = "toml-token-0123456789abcdef"
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("LEADRELAY_")]:
        monkeypatch.delenv(name)


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str) -> Settings:
    path = tmp_path / "sites.toml"
    path.write_text(SITE + rules, encoding="utf-8")
    monkeypatch.setenv("LEADRELAY_CONFIG", str(path))
    return load_settings()


def refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str) -> str:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, monkeypatch, rules)
    return str(refused.value)


def test_rules_are_read_in_order_with_their_conditions_and_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load(
        tmp_path,
        monkeypatch,
        """
[[sites.rules]]
name = "Night"
when = { working_hours = false, form = "Callback", utm = { utm_source = ["yandex", "google"] } }
do = ["call:1h30m", "status:1"]

[[sites.rules]]
do = ["assign:owner", "deal"]

[[rules]]
site = "okna"
do = ["call"]
""",
    )
    rules = settings.site("okna").rules
    assert [rule.name for rule in rules] == ["Night", "rule 2", "rule 3"]
    night = rules[0]
    assert night.when.form == ("Callback",) and night.when.working_hours is False
    assert night.when.utm == {"utm_source": ("yandex", "google")}
    assert night.do[0].delay == timedelta(minutes=90)
    assert night.do[1].status == 1 and rules[1].do[0].to_owner and rules[2].when.form == ()


def test_an_unknown_action_is_refused_naming_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refusal(tmp_path, monkeypatch, '[[sites.rules]]\nname = "Fast"\ndo = ["cal"]\n')
    assert "sites[0]" in message and "rules.0" in message
    assert "rule 'Fast'" in message and "unknown action 'cal'" in message


def test_a_bad_duration_is_refused_naming_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refusal(tmp_path, monkeypatch, '[[sites.rules]]\nname = "Later"\ndo = ["call:10x"]\n')
    assert "rule 'Later'" in message and "'10x' is not a duration" in message
    too_far = refusal(tmp_path, monkeypatch, '[[sites.rules]]\nname = "Far"\ndo = ["call:30d"]\n')
    assert "rule 'Far'" in too_far and "at most" in too_far


def test_an_unknown_site_is_refused_naming_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refusal(
        tmp_path, monkeypatch, '[[rules]]\nname = "Elsewhere"\nsite = "dveri"\ndo = ["deal"]\n'
    )
    assert "rules[0]" in message and "rule 'Elsewhere'" in message
    assert "unknown site 'dveri'" in message and "okna" in message
    siteless = refusal(tmp_path, monkeypatch, '[[rules]]\nname = "Nowhere"\ndo = ["deal"]\n')
    assert "rule 'Nowhere'" in siteless and "names its `site`" in siteless


def test_other_mistakes_are_refused_naming_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    twice = refusal(
        tmp_path, monkeypatch, '[[sites.rules]]\nname = "Two"\ndo = ["call", "call:5m"]\n'
    )
    assert "rule 'Two'" in twice and "named twice" in twice
    not_a_list = refusal(tmp_path, monkeypatch, '[[sites.rules]]\nname = "One"\ndo = "call"\n')
    assert "rule 'One'" in not_a_list and "list of actions" in not_a_list
    condition = refusal(
        tmp_path, monkeypatch, '[[sites.rules]]\nwhen = { colour = "red" }\ndo = ["deal"]\n'
    )
    assert "rules.0" in condition and "colour" in condition


def test_an_unknown_manager_or_status_is_refused_at_start_naming_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load(
        tmp_path,
        monkeypatch,
        '[[sites.rules]]\nname = "Ghost"\ndo = ["assign:424242"]\n'
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
