"""What API requests carry, as pydantic models: each route's path and query parameters, and its JSON body.
Strings are checked to be storable text (no NUL, no lone surrogates) and times to be UTC-able, so nothing
a client sends can reach the database in a shape it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.domain.events import EventKind

MAX_PAGE = 200
INCIDENT_REF = r"^(?:[Ii][Nn][Cc]-)?[0-9]{1,9}$"
USER_ID = r"^[UW][A-Z0-9]{2,31}$"
MAX_ID = 2**31 - 1


def _storable(value: str) -> str:
    """Text a database stores as given: no NUL character (PostgreSQL refuses it) and valid UTF-8."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


# Times and days a request may name: far enough either way for any real use, and far from the ends of the
# calendar, where adding a day or a rotation to them (on-call handoffs, reminders) would overflow.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)
_OUT_OF_RANGE = "is out of range (years 1970 to 8999)"


def _utc(value: datetime) -> datetime:
    """A time in UTC, within EARLIEST and LATEST; a time without an offset is read as UTC."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError(_OUT_OF_RANGE) from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError(_OUT_OF_RANGE)
    return moment


def _in_range(value: date) -> date:
    """A day within EARLIEST and LATEST."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(_OUT_OF_RANGE)
    return value


Text = Annotated[str, AfterValidator(_storable)]
Moment = Annotated[datetime, AfterValidator(_utc)]
Day = Annotated[date, AfterValidator(_in_range)]


class Inputs(BaseModel):
    """A request's parameters or body: unknown fields are refused, strings taken as given."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ----- parameters --------------------------------------------------------------------------------------
class Paging(Inputs):
    """A page of a list: how many items, and where the page before ended."""

    limit: int = Field(50, ge=1, le=MAX_PAGE, description="How many items (1-200)")
    cursor: Text | None = Field(None, max_length=500, description="`next_cursor` of the page before")


class IncidentRef(Inputs):
    """An incident named in the path: `INC-42` by its number, `42` by its id."""

    ref: str = Field(pattern=INCIDENT_REF, description="INC-<number>, or the incident's numeric id")


StatusFilter = Literal["open", "investigating", "identified", "monitoring", "resolved", "closed"]
IncidentSort = Literal["-declared_at", "declared_at", "-number", "number"]


class IncidentListParams(Paging):
    """Which incidents to list, and in what order."""

    status: StatusFilter | None = Field(None, description="A status, or `open` for any open one")
    severity: Text | None = Field(None, max_length=32, description="A severity name, e.g. SEV1")
    service: Text | None = Field(None, max_length=100, description="A service named in the policy")
    private: bool | None = Field(None, description="Only private (true) or only public (false) incidents")
    declared_after: Moment | None = Field(None, description="Declared at or after this time")
    declared_before: Moment | None = Field(None, description="Declared before this time")
    resolved_after: Moment | None = Field(None, description="Resolved at or after this time")
    resolved_before: Moment | None = Field(None, description="Resolved before this time")
    q: Text | None = Field(None, max_length=200, description="Text found in the title or description")
    sort: IncidentSort = Field("-declared_at", description="Sort key; `-` first for descending")


class TimelineParams(IncidentRef, Paging):
    """A page of an incident's timeline."""


class FollowUpFilters(Paging):
    """Which follow-ups to list."""

    state: Literal["open", "done"] | None = Field(None, description="Open or done follow-ups only")
    owner: Text | None = Field(None, max_length=32, description="A Slack user ID")
    overdue: bool | None = Field(None, description="Only overdue (true) or only not overdue (false)")


class IncidentFollowUpParams(IncidentRef, FollowUpFilters):
    """Which follow-ups of an incident to list."""


class FollowUpRef(Inputs):
    """A follow-up named in the path by its id."""

    follow_up_id: int = Field(ge=1, le=MAX_ID, description="The follow-up's id")


class StatsParams(Inputs):
    """The window of the figures."""

    days: int | None = Field(None, ge=1, le=36500, description="The last so many days; all time if not given")


class OnCallParams(Inputs):
    """When, and which schedule."""

    at: Moment | None = Field(None, description="The moment to ask about; now if not given")
    schedule: Text | None = Field(None, max_length=100, description="One schedule of the policy")


class EventParams(Inputs):
    """Where to read the event log from."""

    after: Text | None = Field(
        None, max_length=500, description="`next_cursor` of the read before; the start if not given"
    )
    limit: int = Field(100, ge=1, le=MAX_PAGE, description="How many events (1-200)")
    kind: EventKind | None = Field(None, description="Only events of this kind")


# ----- bodies --------------------------------------------------------------------------------------------
class DeclareBody(Inputs):
    """An incident to declare."""

    title: Text = Field(min_length=1, max_length=120, description="What is wrong, in a line")
    severity: Text = Field(min_length=1, max_length=32, description="A severity of the policy, e.g. SEV2")
    description: Text = Field("", max_length=4000)
    service: Text | None = Field(None, max_length=100, description="A service of the policy")
    private: bool = Field(False, description="A private incident (the token needs private:read)")
    detected_via: Literal["monitoring", "customer", "internal"] | None = Field(None, description="How it came to light")


class UpdateBody(Inputs):
    """A status update."""

    text: Text = Field(min_length=1, max_length=3000, description="What we know")
    doing: Text = Field("", max_length=3000, description="What we are doing about it")
    next_update_at: Moment | None = Field(None, description="When the next update is due; the cadence's if not given")


class NoteBody(Inputs):
    """A timeline note."""

    text: Text = Field(min_length=1, max_length=3000)


class SeverityBody(Inputs):
    """A new severity, and why."""

    severity: Text = Field(min_length=1, max_length=32, description="A severity of the policy, e.g. SEV1")
    reason: Text = Field("", max_length=500)


class StatusBody(Inputs):
    """A new status (resolving has a route of its own)."""

    status: Literal["investigating", "identified", "monitoring"]


class ResolveBody(Inputs):
    """How the incident was resolved."""

    summary: Text = Field("", max_length=3000)
    impact: Text = Field("", max_length=3000, description="Customer impact")
    cause: Text = Field("", max_length=3000, description="Root cause, as far as known")


class FollowUpBody(Inputs):
    """An action item."""

    text: Text = Field(min_length=1, max_length=500)
    owner: str | None = Field(None, pattern=USER_ID, description="A Slack user ID")
    due_on: Day | None = Field(None, description="The day it is due (the policy's time zone)")
