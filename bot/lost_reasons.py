"""The reasons a lead is lost, as the bot shows them: a site's configured list as written,
else the default list in the reader's language. What is stored is the reason as configured
(the English of a default), so every language counts one reason once."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.config import BotConfig
from config.lost_reasons import DEFAULT_LOST_REASONS


def reasons_of(config: BotConfig, site_key: str) -> tuple[str, ...]:
    """The site's reasons as stored, in the order of its buttons."""
    site = config.sites.get(site_key)
    configured = site.lost_reasons if site is not None else None
    return configured or DEFAULT_LOST_REASONS


def reason_label(config: BotConfig, site_key: str, reason: str) -> str:
    """A stored reason in the current locale: a default one translated, a configured one as
    written, none ("") as "no reason given"."""
    if not reason:
        return _("no reason given")
    site = config.sites.get(site_key)
    if site is not None and site.lost_reasons is not None:
        return reason
    return any_reason_label(reason)


def any_reason_label(reason: str) -> str:
    """`reason_label` where the site is not at hand (a history line): a reason that is a
    default one is translated, any other shown as written."""
    return _default_labels().get(reason, reason) if reason else _("no reason given")


def cancelled_because(reason: str) -> str:
    """Cancelled and why (`reason` as `reason_label` gives it), as the card and its
    history say it."""
    return _("Cancelled — {reason}").format(reason=reason)


def _default_labels() -> dict[str, str]:
    # Each spelled out for the catalogs; `tests/bot/test_lost_reasons.py` checks that these
    # are `DEFAULT_LOST_REASONS`.
    return {
        "No answer": _("No answer"),
        "Too expensive": _("Too expensive"),
        "Chose a competitor": _("Chose a competitor"),
        "Not a real request": _("Not a real request"),
        "Duplicate": _("Duplicate"),
        "Other": _("Other"),
    }
