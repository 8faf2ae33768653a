"""SQLModel tables. Every timestamp is stored and returned as timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """DateTime(timezone=True) that refuses naive values and always gives back UTC (SQLite too)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store UTC; a naive datetime is a bug, not a guess."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """SQLite returns naive values: they were stored as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(*, nullable: bool = False, index: bool = False) -> datetime:
    # Field() is typed Any so that a field's default reads as the field's type: here, a datetime.
    return cast(datetime, Field(sa_type=UTCDateTime, nullable=nullable, index=index))


class WorkspaceCounter(SQLModel, table=True):
    """The last incident number used in a workspace; bumped inside the declaring transaction."""

    __tablename__ = "workspace_counters"

    team_id: str = Field(primary_key=True, max_length=32)
    last_number: int = 0


class IncidentRow(SQLModel, table=True):
    """An incident."""

    __tablename__ = "incidents"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "number", name="uq_incidents_team_number"),
        # A workspace's open incidents (list, App Home), and its incidents in a window (stats).
        sa.Index("ix_incidents_team_status", "team_id", "status"),
        sa.Index("ix_incidents_team_declared_at", "team_id", "declared_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    number: int
    title: str = Field(max_length=200)
    severity: str = Field(max_length=32)
    status: str = Field(max_length=32, index=True)
    description: str = ""
    detected_via: str | None = Field(default=None, max_length=32)
    declared_by: str = Field(max_length=32)
    declare_key: str = Field(max_length=255, unique=True)
    declared_at: datetime = _when()
    started_at: datetime | None = _when(nullable=True)
    detected_at: datetime | None = _when(nullable=True)
    channel_id: str | None = Field(default=None, max_length=32, index=True)
    channel_name: str | None = Field(default=None, max_length=80)
    channel_topic: str | None = Field(default=None, max_length=250)
    header_ts: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = _when(nullable=True)
    acknowledged_by: str | None = Field(default=None, max_length=32)
    identified_at: datetime | None = _when(nullable=True)
    mitigated_at: datetime | None = _when(nullable=True)
    resolved_at: datetime | None = _when(nullable=True)
    resolution_summary: str = ""
    customer_impact: str = ""
    cause: str = ""
    last_update_at: datetime | None = _when(nullable=True)
    next_update_due: datetime | None = _when(nullable=True)
    service: str | None = Field(default=None, max_length=100)
    private: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    moved_from: str | None = Field(default=None, max_length=32)  # a private channel being left (going public)
    incident_type: str | None = Field(default=None, max_length=64)  # a `types:` name of the policy
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, sa_type=sa.JSON, sa_column_kwargs={"server_default": sa.text("'{}'")}
    )  # the type's fields: name -> value (text, number, list of options, user ID, URL, ISO date)
    bridge_url: str | None = Field(default=None, max_length=500)  # the call to join
    # The update-reminder timer: when it next fires, how many nags were sent since the last update,
    # and the lease of the tick working on it (so replicas never nag twice).
    reminder_at: datetime | None = _when(nullable=True, index=True)
    reminders_sent: int = 0
    reminder_claim: str | None = Field(default=None, max_length=36)
    reminder_claimed_until: datetime | None = _when(nullable=True)
    # Setting the incident up in Slack (channel, header, announcements…) until it is complete: when a
    # sweep may finish it (a declare that died, or steps Slack refused for now), and that sweep's lease.
    setup_at: datetime | None = _when(nullable=True, index=True)
    setup_attempts: int = 0
    setup_claim: str | None = Field(default=None, max_length=36)
    setup_claimed_until: datetime | None = _when(nullable=True)


class RoleAssignmentRow(SQLModel, table=True):
    """Who held a role and when; the open row (ended_at null) is the current holder."""

    __tablename__ = "role_assignments"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    role: str = Field(max_length=64)
    user_id: str = Field(max_length=32)
    assigned_by: str = Field(max_length=32)
    assigned_at: datetime = _when()
    ended_at: datetime | None = _when(nullable=True)


class TimelineEventRow(SQLModel, table=True):
    """One timeline entry."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        sa.UniqueConstraint("incident_id", "source", name="uq_timeline_incident_source"),
        sa.Index("ix_timeline_events_incident_time", "incident_id", "occurred_at", "id"),  # a page, in order
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    kind: str = Field(max_length=64)
    occurred_at: datetime = _when()
    actor: str | None = Field(default=None, max_length=32)
    text: str = ""
    # A captured Slack message: "C123:1700000000.000100"; unique per incident, so capturing twice is a no-op.
    source: str | None = Field(default=None, max_length=64)
    permalink: str | None = Field(default=None, max_length=500)
    thread_ts: str | None = Field(default=None, max_length=32)  # a captured reply: its thread's parent


class PageRow(SQLModel, table=True):
    """A page: an escalation policy, snapshotted when it started, working through its tiers."""

    __tablename__ = "pages"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    title: str = Field(max_length=200)
    severity: str = Field(max_length=32)
    source: str = Field(max_length=200)  # "service:checkout", "user:U123"
    plan: dict[str, Any] = Field(sa_type=sa.JSON)  # the escalation policy as it was when the page started
    status: str = Field(max_length=16)  # triggered | acknowledged | exhausted | cancelled
    tier: int = 0  # the next tier to notify
    round: int = 0  # how many times the tiers have been run through already
    next_step_at: datetime | None = _when(nullable=True, index=True)
    claim: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = _when(nullable=True)
    created_by: str = Field(max_length=32)
    created_at: datetime = _when()
    acknowledged_by: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = _when(nullable=True)
    dedup_key: str | None = Field(default=None, max_length=255)


class PageDigestRow(SQLModel, table=True):
    """One DM gathering the pages a person got in a storm (each acknowledgeable on its own, and all at once)."""

    __tablename__ = "page_digests"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    channel: str | None = Field(default=None, max_length=32)  # the DM, once posted
    ts: str | None = Field(default=None, max_length=32, index=True)  # a settled page's DM is looked up by it
    opened_at: datetime = _when()
    last_added_at: datetime = _when()
    pages: int = 0


class PageNotificationRow(SQLModel, table=True):
    """One person notified by one step of a page: the DM, so it can be updated on acknowledgement."""

    __tablename__ = "page_notifications"
    __table_args__ = (
        sa.UniqueConstraint("page_id", "round", "tier", "user_id", name="uq_page_step_user"),
        sa.Index("ix_page_notifications_user_sent", "user_id", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    page_id: int = Field(foreign_key="pages.id", index=True)
    round: int
    tier: int
    user_id: str = Field(max_length=32)
    sent_at: datetime = _when()
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    digest_id: int | None = Field(default=None, foreign_key="page_digests.id", index=True)


class RunbookPostRow(SQLModel, table=True):
    """A runbook message posted in an incident channel (a runbook may take several messages)."""

    __tablename__ = "runbook_posts"
    __table_args__ = (sa.UniqueConstraint("incident_id", "runbook", "part", name="uq_runbook_post_part"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    runbook: str = Field(max_length=100)
    part: int
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)


class RunbookTickRow(SQLModel, table=True):
    """A ticked runbook step: who and when."""

    __tablename__ = "runbook_ticks"

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    runbook: str = Field(max_length=100, primary_key=True)
    step: str = Field(max_length=16, primary_key=True)
    ticked_by: str = Field(max_length=32)
    ticked_at: datetime = _when()


class AlertGroupRow(SQLModel, table=True):
    """An alert group (an Alertmanager/Grafana group, or a generic dedup_key): one page, one incident."""

    __tablename__ = "alert_groups"
    __table_args__ = (sa.UniqueConstraint("source", "group_key", name="uq_alert_group"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    group_key: str = Field(max_length=500)
    page_id: int | None = Field(default=None, foreign_key="pages.id")
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    created_at: datetime = _when()
    generation: int = 0  # +1 each time the group fires again after fully resolving: a new page
    url: str | None = Field(default=None, max_length=2000)  # the first link its alerts brought (a dashboard…)


class AlertRow(SQLModel, table=True):
    """One alert by fingerprint: firing again updates it, never a second one."""

    __tablename__ = "alerts"
    __table_args__ = (sa.UniqueConstraint("source", "fingerprint", name="uq_alert_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    fingerprint: str = Field(max_length=255)
    group_id: int = Field(foreign_key="alert_groups.id", index=True)
    firing: bool
    title: str = Field(max_length=200)
    labels: dict[str, Any] = Field(sa_type=sa.JSON)
    starts_at: datetime | None = _when(nullable=True)
    first_seen: datetime = _when()
    last_seen: datetime = _when()
    times_seen: int = 1


class MessageCaptureRow(SQLModel, table=True):
    """Why a message is on the timeline: pinned, or someone's timeline reaction. Gone when none remain."""

    __tablename__ = "message_captures"

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    source: str = Field(max_length=64, primary_key=True)
    reason: str = Field(max_length=64, primary_key=True)  # "pin" or "reaction:U123"


class ProcessedEventRow(SQLModel, table=True):
    """Events API deliveries already handled (Slack retries; replicas share this)."""

    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _when()


class HomeViewerRow(SQLModel, table=True):
    """People who opened Tocsin's App Home, so it can be refreshed when incidents change."""

    __tablename__ = "home_viewers"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    opened_at: datetime = _when()


class FollowUpRow(SQLModel, table=True):
    """An action item from an incident: owner, due date, done; and its reminder timer (leased like the rest)."""

    __tablename__ = "follow_ups"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    text: str = Field(max_length=1000)
    owner: str | None = Field(default=None, max_length=32, index=True)
    due_on: date | None = Field(default=None, sa_type=sa.Date)
    created_by: str = Field(max_length=32)
    created_at: datetime = _when()
    done_at: datetime | None = _when(nullable=True)
    done_by: str | None = Field(default=None, max_length=32)
    # The owner's reminder: on the due date, then weekly while overdue; null once done or without a due date.
    remind_at: datetime | None = _when(nullable=True, index=True)
    reminders_sent: int = 0
    claim: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = _when(nullable=True)


class PostmortemRow(SQLModel, table=True):
    """Where an incident's postmortem draft was published, so regenerating replaces or supersedes it."""

    __tablename__ = "postmortems"

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    kind: str = Field(max_length=16)  # "canvas" (edited in place) or "file" (a new version supersedes)
    slack_id: str = Field(max_length=32)  # the canvas or file ID
    version: int = 1
    published_at: datetime = _when()


class OutboxRow(SQLModel, table=True):
    """A channel post Slack refused for now (5xx, rate limits, unreachable): posted again later, leased."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id")
    channel: str = Field(max_length=80)
    text: str = Field(sa_type=sa.Text)
    blocks: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)
    author: str | None = Field(default=None, max_length=32)  # told if it finally cannot be posted
    marker: str | None = Field(default=None, max_length=255)  # a block_id that finds it in history
    created_at: datetime = _when()
    due_at: datetime | None = _when(nullable=True, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=100)
    claim: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = _when(nullable=True)
