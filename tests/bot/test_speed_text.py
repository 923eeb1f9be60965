"""`/stats`' speed section and the digest's line in words: the figures as a reader sees
them, in both languages, names escaped, and a message of many managers within Telegram's
4,096 characters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram.utils.i18n import I18n

from bot.i18n import build_i18n
from bot.speed import MESSAGE_LIMIT, digest_lines, duration_text, fitted, speed_lines
from storage.models import Lead
from storage.queries.speed import speed_figures

ARRIVED = datetime(2026, 1, 5, 10, tzinfo=UTC)
I18N: I18n = build_i18n()


def lead(lead_id: int, owner: str, seconds: float | None, *, lost: str | None = None) -> Lead:
    return Lead(
        id=lead_id,
        flexbe_id=lead_id,
        site_key="okna",
        received_at=ARRIVED,
        first_action_at=None if seconds is None else ARRIVED + timedelta(seconds=seconds),
        taken_by=lead_id,
        taken_by_name=owner,
        utm={"utm_source": "google"},
        form_name="Quiz",
        lost_reason=lost,
    )


def real_time(_site: str, since: datetime, until: datetime) -> timedelta:
    return until - since


def in_language(language: str, leads: list[Lead]) -> list[str]:
    figures = speed_figures(leads, working_between=real_time, taken_back={1: 1})
    with I18N.context(), I18N.use_locale(language):
        return speed_lines(figures) + ["--"] + digest_lines(figures)


def test_the_section_in_both_languages() -> None:
    leads = [
        lead(1, "<Max>", 40),
        lead(2, "<Max>", 200),
        lead(3, "Anna", 7500, lost="too expensive"),
    ]

    english = "\n".join(in_language("en", leads))
    assert "<b>Speed to first action</b> (working time only)" in english
    assert "• &lt;Max&gt;: leads 2 · median 2 min · p90 3 min · 100% in 5 min · taken back 1" in (
        english
    )
    assert "• Anna: leads 1 · median 2 h 5 min" in english
    assert "Lost reasons: too expensive 1" in english
    assert "First action (working time): median 3 min, p90 2 h 5 min, 67% within 5 min" in english
    assert "Taken back: 1" in english

    russian = "\n".join(in_language("ru", leads))
    assert "(только рабочее время)" in russian and "По менеджерам:" in russian
    assert "заявок 2 · медиана 2 мин" in russian
    assert "Первое действие (рабочее время): медиана 3 мин" in russian


def test_nothing_to_say_without_leads() -> None:
    assert in_language("en", []) == ["--"]


def test_durations() -> None:
    with I18N.context(), I18N.use_locale("en"):
        assert [duration_text(s) for s in (None, 0, 59, 60, 3599, 3660)] == [
            "—",
            "0 s",
            "59 s",
            "1 min",
            "59 min",
            "1 h 1 min",
        ]


def test_many_managers_stay_within_a_message() -> None:
    lines = ["x" * 90 for _ in range(100)]
    text = fitted(lines)
    assert len(text) <= MESSAGE_LIMIT and text.endswith("…")
    assert fitted(["a", "b"]) == "a\nb"
