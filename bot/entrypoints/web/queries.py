"""What the pages' query strings may say, read into the reads' terms: the incident list's filters and
where a page starts, the follow-ups' filters, the stats window. Anything else is a BadRequest naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from bot.domain.incidents import Status
from bot.domain.policy import Policy
from bot.entrypoints.api import cursors
from bot.entrypoints.api.problems import ApiError
from bot.usecases.api_reads import IncidentFilters

SORT = "-declared_at"  # the incident list: newest first
STATUSES = ("open", *(s.value for s in Status))
MAX_TEXT = 200
STATS_WINDOWS = {"30": 30, "90": 90, "all": None}  # as `/incident stats` offers them
FOLLOW_UP_STATES = ("open", "done", "all")


class BadRequest(Exception):
    """A page was asked for with parameters it cannot use (answered 400 with the reason)."""


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The incident list as asked for: its filters (as given, for the form) and where the page starts."""

    status: str
    severity: str
    service: str
    text: str
    after: tuple[datetime, int] | None

    def filters(self) -> IncidentFilters:
        """The filters for the reads."""
        return IncidentFilters(
            status=self.status or None,
            severity=self.severity or None,
            service=self.service or None,
            text=self.text or None,
        )

    def next_url(self, after: tuple[datetime, int]) -> str:
        """The next page's URL: the same filters, starting after `after`."""
        kept = {"status": self.status, "severity": self.severity, "service": self.service, "q": self.text}
        cursor = cursors.incident_cursor(SORT, after[0], after[1])
        return "/?" + urlencode({**{k: v for k, v in kept.items() if v}, "after": cursor})

    @property
    def filtered(self) -> bool:
        """Whether any filter is set."""
        return bool(self.status or self.severity or self.service or self.text)


def list_query(query: Mapping[str, str], policy: Policy) -> ListQuery:
    """The incident list's query string read; BadRequest for a value it cannot take."""
    status = query.get("status", "")
    if status and status not in STATUSES:
        raise BadRequest(f"There is no status {status[:40]!r}; choose one of {', '.join(STATUSES)}.")
    severity = query.get("severity", "")
    if severity:
        named = policy.severity_named(severity)
        if named is None:
            raise BadRequest(f"There is no severity {severity[:40]!r}.")
        severity = named.name
    service = _text(query.get("service", ""), "service")
    text = _text(query.get("q", ""), "search")
    after = None
    if query.get("after"):
        try:
            key = cursors.incident_key(query["after"], SORT)
        except ApiError:
            raise BadRequest("That page link is not one these pages made; start again from the first page.") from None
        assert isinstance(key[0], datetime)
        after = (key[0], key[1])
    return ListQuery(status, severity, service, text, after)


@dataclass(frozen=True, slots=True)
class FollowUpQuery:
    """The follow-ups as asked for: state, overdue only, owner, and where the page starts (an id)."""

    state: str
    overdue: bool
    owner: str
    after: int | None

    def next_url(self, after: int) -> str:
        """The next page's URL."""
        kept = {"state": self.state, "overdue": "1" if self.overdue else "", "owner": self.owner}
        return "/follow-ups?" + urlencode({**{k: v for k, v in kept.items() if v}, "after": str(after)})


def follow_up_query(query: Mapping[str, str], *, me: str) -> FollowUpQuery:
    """The follow-ups' query string read (`owner=me` is the signed-in person)."""
    state = query.get("state", "open")
    if state not in FOLLOW_UP_STATES:
        raise BadRequest(f"Choose a state: {', '.join(FOLLOW_UP_STATES)}.")
    owner = _text(query.get("owner", ""), "owner")
    if owner == "me":
        owner = me
    after_text = query.get("after", "")
    if after_text and not (after_text.isdigit() and len(after_text) <= 10 and int(after_text) <= cursors.MAX_KEY):
        raise BadRequest("That page link is not one these pages made; start again from the first page.")
    return FollowUpQuery(state, query.get("overdue") == "1", owner, int(after_text) if after_text else None)


def stats_window(query: Mapping[str, str]) -> tuple[str, int | None]:
    """The stats window asked for (`30`, `90` or `all` days) and its days."""
    window = query.get("days", "30")
    if window not in STATS_WINDOWS:
        raise BadRequest("Choose a window: 30, 90 or all days.")
    return window, STATS_WINDOWS[window]


def _text(value: str, what: str) -> str:
    value = value.strip()
    if len(value) > MAX_TEXT or "\x00" in value:
        raise BadRequest(f"The {what} is too long or holds characters it cannot.")
    return value
