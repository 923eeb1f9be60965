"""Reading the leads page's filters from the query string: each value checked, each
problem said in words, and the same filters for the list and its exports."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.statuses import LeadStatus
from integrations.phones import normalize_phone
from storage.models import Lead, LeadOrigin
from storage.queries.browse import LeadSearch, list_leads

MAX_SEARCH = 100
MAX_ID = 2**63 - 1
FILTER_NAMES = ("since", "until", "site", "status", "origin", "manager", "q")
_PHONE_LIKE = re.compile(r"^[+\d\s().\-]{5,32}$")


@dataclass
class LeadFilters:
    since: datetime | None = None
    until: datetime | None = None
    site: str | None = None
    status: int | None = None
    origin: str | None = None
    manager: int | None = None
    search: LeadSearch | None = None
    before_id: int | None = None
    # What was typed, to show it back in the form.
    form: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def query(self) -> str:
        """The filters (not the cursor) as a query string, for the exports and the next page."""
        return urlencode({name: value for name, value in self.form.items() if value})

    def next_query(self, last_id: int) -> str:
        return urlencode({**{n: v for n, v in self.form.items() if v}, "cursor": cursor(last_id)})

    async def leads(
        self, session: AsyncSession, *, limit: int, before_id: int | None
    ) -> list[Lead]:
        """The leads these filters match, newest first: `limit` of them before `before_id`."""
        return await list_leads(
            session,
            limit=limit,
            before_id=before_id,
            since=self.since,
            until=self.until,
            status=self.status,
            site_key=self.site,
            origin=self.origin,
            taken_by=self.manager,
            search=self.search,
        )


def cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def read_cursor(text: str) -> int | None:
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, value = decoded.partition(":")
    if prefix == "id" and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def read_search(text: str, *, region: str) -> LeadSearch:
    """A phone in any format, a lead number, part of an e-mail or of a name."""
    if "@" in text:
        return LeadSearch(email=text)
    number = int(text) if text.isdecimal() and len(text) <= 12 else None
    phone = normalize_phone(text, region) or None if _PHONE_LIKE.fullmatch(text) else None
    if phone is not None or number is not None:
        return LeadSearch(phone=phone, num=number)
    return LeadSearch(name=text)


def read_filters(
    params: Mapping[str, str],
    *,
    zone: ZoneInfo,
    sites: set[str],
    region: str,
    gettext: Callable[[str], str],
) -> LeadFilters:
    _ = gettext
    filters = LeadFilters(
        form={name: params.get(name, "")[:MAX_SEARCH].strip() for name in FILTER_NAMES}
    )
    form, problems = filters.form, filters.problems

    def day(name: str) -> date | None:
        if not form[name]:
            return None
        try:
            return date.fromisoformat(form[name])
        except ValueError:
            problems.append(
                _("The date {value} is not a date like 2026-01-31.").format(value=form[name])
            )
            return None

    since, until = day("since"), day("until")
    if since is not None:
        filters.since = datetime.combine(since, time(), zone)
    if until is not None:
        filters.until = datetime.combine(until + timedelta(days=1), time(), zone)
    if since and until and since > until:
        problems.append(_("The period ends before it starts."))
    if form["site"]:
        if form["site"] in sites:
            filters.site = form["site"]
        else:
            problems.append(_("There is no site {value}.").format(value=form["site"]))
    if form["status"]:
        if form["status"].isdigit() and int(form["status"]) in set(LeadStatus):
            filters.status = int(form["status"])
        else:
            problems.append(_("There is no status {value}.").format(value=form["status"]))
    if form["origin"]:
        if form["origin"] in {origin.value for origin in LeadOrigin}:
            filters.origin = form["origin"]
        else:
            problems.append(_("There is no origin {value}.").format(value=form["origin"]))
    if form["manager"]:
        if form["manager"].isdigit() and int(form["manager"]) <= MAX_ID:
            filters.manager = int(form["manager"])
        else:
            problems.append(_("There is no manager {value}.").format(value=form["manager"]))
    if form["q"]:
        filters.search = read_search(form["q"], region=region)
    raw_cursor = params.get("cursor", "")
    if raw_cursor:
        filters.before_id = read_cursor(raw_cursor[:64])
        if filters.before_id is None:
            problems.append(_("This page link is broken: start again from the first page."))
    return filters
