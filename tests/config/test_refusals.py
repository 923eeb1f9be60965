"""Configuration that cannot run stops start-up with one message naming what to fix; a
refused secret is never echoed back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.refusals import refusal, toml_refusal, toml_site

GENERATE = "secrets.token_urlsafe(24)"
SITE = toml_site("okna")

# A variable, a value it must refuse, and what the refusal says besides the variable's name.
ENVIRONMENT = [
    ("DATABASE_URL", "mysql://localhost/x", "must start with sqlite+aiosqlite://"),
    ("WEBHOOK_TOKEN", "short", GENERATE),
    ("WEBHOOK_TOKEN", "has spaces in it but long", "only contain letters, digits"),
    ("DEFAULT_REGION", "UK", "the United Kingdom is GB"),
    ("TELEGRAM_CHATS", "12,abc", "valid integer"),
    ("TELEGRAM_API_URL", "not a url", "valid URL"),
    ("LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR"),
    ("CONFIG", "/nonexistent/sites.toml", "does not exist"),
    ("CALL_MORNING_HOUR", "24", "less than or equal to 23"),
    ("CALL_MORNING_HOUR", "nine", "valid integer"),
    ("WORKING_HOURS", "weekdays 9 to 7", "cannot read"),
    ("WORKING_HOURS", "Mon-Fri 19:00-09:00", "night shift"),
    ("HOLIDAYS", "2027-02-30", "not a date"),
    ("SLA_REMIND_AFTER", "15 minutes", "is not a duration"),
    ("SLA_ESCALATE_AFTER", "0s", "more than 0"),
    ("DIGEST_AT", "9am", "time of day"),
    *(
        ("REPEAT_WINDOW", written, "")
        for written in ["90", "90 days", "P90D", "0d", "-1d", "9999d", "1.5d"]
    ),
]


@pytest.mark.parametrize(("name", "value", "says"), ENVIRONMENT)
def test_a_bad_variable_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    variable = f"LEADRELAY_{name}"

    message = refusal(monkeypatch, **{variable: value})

    assert message.startswith(f"{variable}: ") and says in message
    if "TOKEN" in variable:
        assert value not in message, "a bad secret is not echoed back"


WEAK_SECRETS = {
    "one repeated character": "a" * 40,
    "a short random one": "Xk3_9fQ2-pLm7Rt",  # 15 characters, ~90 bits
    "lowercase only, too short": "qwhdkzbmxpaoieutnv",  # 18 letters, ~85 bits
    "an example placeholder": "replace-me-with-a-random-token-1",
}


@pytest.mark.parametrize(
    "variable",
    [
        "LEADRELAY_WEBHOOK_TOKEN",
        "LEADRELAY_ADMIN_TOKEN",
        "LEADRELAY_TELEGRAM_WEBHOOK_SECRET",
        "LEADRELAY_METRICS_TOKEN",
    ],
)
@pytest.mark.parametrize("weak", WEAK_SECRETS.values(), ids=WEAK_SECRETS.keys())
def test_weak_secret_is_refused_naming_the_setting_and_the_cure(
    monkeypatch: pytest.MonkeyPatch, variable: str, weak: str
) -> None:
    message = refusal(monkeypatch, **{variable: weak})

    assert message.startswith(f"{variable}: ")
    assert GENERATE in message
    assert weak not in message, "a refused secret is not echoed back"


# A site in the TOML that must be refused, and what the refusal says (every part of it).
SITES = {
    "a key that is no slug, a weak token": (
        '[[sites]]\nkey = "Bad Key"\nwebhook_token = "x"\n',
        ["LEADRELAY_CONFIG", "sites[0]", "key", "webhook_token"],
    ),
    "two sites, one token": (
        '[[sites]]\nkey = "a"\nwebhook_token = "same-token-0123456789abcdef"\n'
        '[[sites]]\nkey = "b"\nwebhook_token = "same-token-0123456789abcdef"\n',
        ["share a webhook token"],
    ),
    "the second site's token is weak": (
        SITE + '[[sites]]\nkey = "dveri"\nwebhook_token = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"\n',
        ["LEADRELAY_CONFIG", "sites[1]", "webhook_token", GENERATE],
    ),
    "a morning hour out of range": (
        SITE + "call_morning_hour = -1\n",
        ["sites[0]", "call_morning_hour"],
    ),
    "an unknown region": (
        SITE + 'default_region = "UK"\n',
        ["LEADRELAY_CONFIG", "sites[0]", "default_region", "unknown region 'UK'", "is GB"],
    ),
    "a site's SLA that is no duration": (
        SITE + '[sites.sla]\nescalate_after = "soon"\n',
        ["sites[0]", "sla.escalate_after: 'soon' is not a duration"],
    ),
    "a repeat window that is no duration": (
        SITE + 'repeat_window = "a month"\n',
        ["sites[0]", "repeat_window", "90d"],
    ),
}

# A speed-to-lead rule that must be refused (after the site above), and what the refusal says.
RULES = {
    "an unknown action": (
        '[[sites.rules]]\nname = "Fast"\ndo = ["cal"]\n',
        ["sites[0]", "rules.0", "rule 'Fast'", "unknown action 'cal'"],
    ),
    "a delay that is no duration": (
        '[[sites.rules]]\nname = "Later"\ndo = ["call:10x"]\n',
        ["rule 'Later'", "'10x' is not a duration"],
    ),
    "a delay too far": (
        '[[sites.rules]]\nname = "Far"\ndo = ["call:30d"]\n',
        ["rule 'Far'", "at most"],
    ),
    "an offer without its window": (
        '[[sites.rules]]\nname = "Quick"\ndo = ["offer"]\n',
        ["rule 'Quick'", "offer needs its window per manager, e.g. offer:2m"],
    ),
    "an offer of no time": (
        '[[sites.rules]]\nname = "Zero"\ndo = ["offer:0m"]\n',
        ["rule 'Zero'", "more than 0"],
    ),
    "an offer longer than a day": (
        '[[sites.rules]]\nname = "Slow"\ndo = ["offer:2d"]\n',
        ["rule 'Slow'", "at most 1d"],
    ),
    "a lead both assigned and offered": (
        '[[sites.rules]]\nname = "Both"\ndo = ["assign:next", "offer:2m"]\n',
        ["rule 'Both'", "either assigned or offered"],
    ),
    "a top-level rule of an unknown site": (
        '[[rules]]\nname = "Elsewhere"\nsite = "dveri"\ndo = ["deal"]\n',
        ["rules[0]", "rule 'Elsewhere'", "unknown site 'dveri'", "okna"],
    ),
    "a top-level rule naming no site": (
        '[[rules]]\nname = "Nowhere"\ndo = ["deal"]\n',
        ["rule 'Nowhere'", "names its `site`"],
    ),
    "an action named twice": (
        '[[sites.rules]]\nname = "Two"\ndo = ["call", "call:5m"]\n',
        ["rule 'Two'", "named twice"],
    ),
    "actions that are no list": (
        '[[sites.rules]]\nname = "One"\ndo = "call"\n',
        ["rule 'One'", "list of actions"],
    ),
    "an unknown condition": (
        '[[sites.rules]]\nwhen = { colour = "red" }\ndo = ["deal"]\n',
        ["rules.0", "colour"],
    ),
}

TOML = {**SITES, **{case: (SITE + rule, says) for case, (rule, says) in RULES.items()}}


@pytest.mark.parametrize(("toml", "says"), TOML.values(), ids=TOML.keys())
def test_a_bad_toml_is_refused_naming_the_site_or_rule(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, says: list[str]
) -> None:
    message = toml_refusal(monkeypatch, tmp_path, toml)

    missing = [part for part in says if part not in message]
    assert not missing, f"{message!r} does not say {missing}"
    assert "bbbbbbbbbbbbbbbbbbbb" not in message, "a refused token is not echoed back"
