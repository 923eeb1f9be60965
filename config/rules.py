"""Speed-to-lead rules: `[[sites.rules]]` (and top-level `[[rules]]` naming a `site`).

A rule has a `when` (every condition it gives must hold; a list means any of its values;
no condition at all matches every lead) and a `do`, a list of the card's actions written
as words: `call`, `call:10m`, `status:1`, `deal`, `assign:<manager's Telegram id>`,
`assign:owner` (a repeat goes to whoever had the client's earlier lead), `assign:next`
(the next manager on shift, in turn) and `offer:2m` (offered to the managers on shift in
turn, each for that long in working time, then to the group). The first rule
of a site that matches a new lead acts on it, once (`bot.rules`).

What can be checked without the database is checked here, at load; the managers a rule
names and the statuses it sets are checked at start (`check_rule_targets`), as the
managers live in the database and the statuses in `domain`. Every refusal names the rule.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.durations import parse_duration

# A delayed call further away than this is a typo: the dialler is for calling back soon.
MAX_CALL_DELAY = timedelta(days=7)
# An offer waits for one manager's answer: past a day it is no longer an offer.
MAX_OFFER_WINDOW = timedelta(days=1)
# Bounds on what a rule may hold: a rule set is a handful of lines, not a database.
MAX_VALUES = 50
MAX_TEXT = 200
OWNER = "owner"
NEXT = "next"
ACTIONS_WRITTEN = (
    "call, call:<duration> (e.g. call:10m), status:<code>, deal, "
    "assign:<manager's Telegram id>, assign:owner, assign:next, offer:<duration> (e.g. offer:2m)"
)


class RuleActionKind(StrEnum):
    CALL = "call"
    STATUS = "status"
    DEAL = "deal"
    ASSIGN = "assign"
    OFFER = "offer"


class RuleAction(BaseModel):
    """One action of a rule. `delay`: a call's wait in working time (None: at once, or
    at the next working minute), or an offer's window per manager in working time;
    `status`: the Flexbe status code to set; `manager`: the Telegram id to assign to (None
    with `to_owner`: the repeat's earlier owner, falling back to the next in turn when
    that owner is away; None with `to_next`: the next manager on shift, in turn)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RuleActionKind
    delay: timedelta | None = None
    status: int | None = None
    manager: int | None = None
    to_owner: bool = False
    to_next: bool = False

    @classmethod
    def read(cls, written: object) -> RuleAction:
        """An action from its written form; `ValueError` says what is wrong with it."""
        if not isinstance(written, str):
            raise ValueError(f"an action is written as text ({ACTIONS_WRITTEN})")
        text = written.strip()
        name, sep, argument = text.partition(":")
        name = name.strip().lower()
        argument = argument.strip()
        if name == RuleActionKind.CALL:
            delay = parse_duration(argument, at_most=MAX_CALL_DELAY) if sep else None
            return cls(kind=RuleActionKind.CALL, delay=delay)
        if name == RuleActionKind.DEAL and not sep:
            return cls(kind=RuleActionKind.DEAL)
        if name == RuleActionKind.STATUS and argument.isdigit() and len(argument) <= 3:
            return cls(kind=RuleActionKind.STATUS, status=int(argument))
        if name == RuleActionKind.ASSIGN and argument.lower() == OWNER:
            return cls(kind=RuleActionKind.ASSIGN, to_owner=True)
        if name == RuleActionKind.ASSIGN and argument.lower() == NEXT:
            return cls(kind=RuleActionKind.ASSIGN, to_next=True)
        if name == RuleActionKind.OFFER:
            if not argument:
                raise ValueError("offer needs its window per manager, e.g. offer:2m")
            window = parse_duration(argument, at_most=MAX_OFFER_WINDOW)
            return cls(kind=RuleActionKind.OFFER, delay=window)
        if name == RuleActionKind.ASSIGN and argument.isdigit() and len(argument) <= 20:
            return cls(kind=RuleActionKind.ASSIGN, manager=int(argument))
        raise ValueError(f"unknown action {text[:40]!r}; write one of {ACTIONS_WRITTEN}")


def _texts(value: object) -> object:
    """One value or a list of them: `form = "Callback"` or `form = ["Callback", "Quiz"]`."""
    return (value,) if isinstance(value, str) else value


class RuleWhen(BaseModel):
    """Which leads a rule is for. Texts compare without regard to case; `page` is a part
    of the page's address; `utm` maps a UTM name to its value (or values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    form: tuple[str, ...] = Field(default=(), max_length=MAX_VALUES)
    page: tuple[str, ...] = Field(default=(), max_length=MAX_VALUES)
    utm: Mapping[str, tuple[str, ...]] = Field(default_factory=dict, max_length=MAX_VALUES)
    # True: only leads that came in working hours; False: only those that came outside.
    working_hours: bool | None = None
    # True: only a client's repeat request; False: only a first one.
    repeat: bool | None = None

    _lists = field_validator("form", "page", mode="before")(_texts)

    @field_validator("utm", mode="before")
    @classmethod
    def _utm_lists(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return {key: _texts(values) for key, values in value.items()}
        return value

    @field_validator("form", "page")
    @classmethod
    def _bounded(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_checked_text(value) for value in values)

    @field_validator("utm")
    @classmethod
    def _bounded_utm(cls, value: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
        return {
            _checked_text(key): tuple(_checked_text(v) for v in values)
            for key, values in value.items()
        }

    def matches(self, lead: LeadFacts) -> bool:
        if self.form and lead.form.casefold() not in {f.casefold() for f in self.form}:
            return False
        if self.page and not any(p.casefold() in lead.page.casefold() for p in self.page):
            return False
        for name, wanted in self.utm.items():
            value = lead.utm.get(name)
            if not isinstance(value, str | int) or str(value).casefold() not in {
                w.casefold() for w in wanted
            }:
                return False
        if self.working_hours is not None and self.working_hours != lead.in_working_hours:
            return False
        return self.repeat is None or self.repeat == lead.repeat


def _checked_text(value: str) -> str:
    if not value.strip() or len(value) > MAX_TEXT:
        raise ValueError(f"a condition's text must be 1-{MAX_TEXT} characters")
    return value


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What the rules look at in a lead (read by `bot.rules` from the stored lead)."""

    form: str
    page: str
    utm: Mapping[str, Any]
    in_working_hours: bool
    repeat: bool


class Rule(BaseModel):
    """One rule. `name` shows on the card's history ("Rule «Night calls»"); unset, a
    site's rules are named `rule 1`, `rule 2`… in their order. `site` is for a top-level
    `[[rules]]` only (a site's own rules belong to it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=64)
    site: str | None = None
    when: RuleWhen = Field(default_factory=RuleWhen)
    do: tuple[RuleAction, ...] = Field(min_length=1, max_length=8)

    @model_validator(mode="before")
    @classmethod
    def _read_actions(cls, raw: Any) -> Any:
        """The actions, read here so that a refusal names the rule."""
        if not isinstance(raw, Mapping) or "do" not in raw:
            return raw
        written = raw["do"]
        label = rule_label(str(raw.get("name") or ""))
        if isinstance(written, str) or not isinstance(written, list | tuple):
            raise ValueError(f'{label}: `do` is a list of actions, e.g. ["call"]')
        try:
            actions = [RuleAction.read(action) for action in written]
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
        kinds = [action.kind for action in actions]
        twice = next((kind for kind in kinds if kinds.count(kind) > 1), None)
        if twice is not None:
            raise ValueError(f"{label}: {twice.value!r} is named twice; a rule acts once")
        if RuleActionKind.ASSIGN in kinds and RuleActionKind.OFFER in kinds:
            raise ValueError(f"{label}: a lead is either assigned or offered; keep one of the two")
        return {**raw, "do": actions}

    @property
    def label(self) -> str:
        return rule_label(self.name)


def rule_label(name: str) -> str:
    return f"rule {name!r}" if name else "a rule"


def named_in_order(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """A site's rules with a name each: the unnamed ones by their place (`rule 2`)."""
    return tuple(
        rule if rule.name else rule.model_copy(update={"name": f"rule {index}"})
        for index, rule in enumerate(rules, start=1)
    )


def first_match(rules: tuple[Rule, ...], lead: LeadFacts) -> Rule | None:
    return next((rule for rule in rules if rule.when.matches(lead)), None)


class RuleTargetError(ValueError):
    """A rule names a manager or a status that does not exist; the message names it."""


def check_rule_targets(
    rules_by_site: Mapping[str, tuple[Rule, ...]],
    *,
    managers: Mapping[int, Collection[str]],
    statuses: Collection[int],
) -> None:
    """Refuse a rule that assigns to someone who is not an active manager receiving its
    site (`managers`: Telegram id → the sites they receive, empty for all), or that sets a
    status the card cannot set."""
    for site, rules in rules_by_site.items():
        for rule in rules:
            for action in rule.do:
                if action.kind is RuleActionKind.STATUS and action.status not in statuses:
                    known = ", ".join(str(code) for code in sorted(statuses))
                    raise RuleTargetError(
                        f"site {site!r}, {rule.label}: unknown status {action.status} "
                        f"(the statuses are {known})"
                    )
                if action.manager is None:
                    continue
                sites = managers.get(action.manager)
                if sites is None or (sites and site not in sites):
                    raise RuleTargetError(
                        f"site {site!r}, {rule.label}: assign:{action.manager} names no "
                        "active manager who receives this site's leads (a manager joins "
                        "with an invite, see /invite; an admin is in LEADRELAY_TELEGRAM_ADMINS)"
                    )
