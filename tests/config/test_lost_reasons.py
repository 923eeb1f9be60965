"""A site's `lost_reasons`: read from the TOML or LEADRELAY_LOST_REASONS, and refused at
start with one sentence when the list cannot be shown as buttons."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.lost_reasons import LOST_REASON_MAX_LENGTH, MAX_LOST_REASONS
from config.settings import load_settings
from tests.config.refusals import refusal, toml_refusal, toml_site, use_toml

TOO_MANY = [f"Reason {number}" for number in range(MAX_LOST_REASONS + 1)]
TOO_LONG = "x" * (LOST_REASON_MAX_LENGTH + 1)

# A list the TOML gives, and what its refusal says.
BAD_LISTS = [
    ("[]", "must list at least one reason"),
    ('["Дорого", ""]', "has an empty reason"),
    ('["Дорого", "   "]', "has an empty reason"),
    (f'["Дорого", "{TOO_LONG}"]', f"longer than {LOST_REASON_MAX_LENGTH} characters"),
    ("[" + ", ".join(f'"{reason}"' for reason in TOO_MANY) + "]", f"at most {MAX_LOST_REASONS}"),
    ('["Дорого", "дорого "]', "lists reason 'дорого' twice"),
    ('["Дорого", "Две\\nстроки"]', "line break"),
]


@pytest.mark.parametrize(("written", "says"), BAD_LISTS)
def test_a_sites_bad_list_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, written: str, says: str
) -> None:
    message = toml_refusal(monkeypatch, tmp_path, toml_site("okna", f"lost_reasons = {written}\n"))

    assert message.startswith("LEADRELAY_CONFIG: sites[0] in ")
    assert "lost_reasons: " in message and says in message, message
    assert "\n" not in message, "one sentence"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (";".join(TOO_MANY), f"at most {MAX_LOST_REASONS}"),
        ("Дорого;;Другое", "has an empty reason"),
        (f"Дорого;{TOO_LONG}", f"longer than {LOST_REASON_MAX_LENGTH}"),
        ("Дорого; дорого", "twice"),
        (";", "must list at least one reason"),
    ],
)
def test_a_bad_variable_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    message = refusal(monkeypatch, LEADRELAY_LOST_REASONS=value)

    assert message.startswith("LEADRELAY_LOST_REASONS: ") and says in message, message


def test_a_sites_list_wins_over_the_variable_and_the_default_is_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_toml(
        monkeypatch,
        tmp_path,
        toml_site("okna", 'lost_reasons = [" Дорого ", "Не дозвонились, занято"]\n')
        + toml_site("dveri"),
    )
    settings = load_settings(_env_file=None)
    assert settings.site("okna").lost_reasons == ("Дорого", "Не дозвонились, занято")
    assert settings.site("dveri").lost_reasons is None, "unset: the default list, translated"

    monkeypatch.setenv("LEADRELAY_LOST_REASONS", "No answer; Too expensive, for now")
    settings = load_settings(_env_file=None)
    assert settings.site("okna").lost_reasons == ("Дорого", "Не дозвонились, занято")
    assert settings.site("dveri").lost_reasons == ("No answer", "Too expensive, for now")
