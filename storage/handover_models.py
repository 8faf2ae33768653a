"""The tables of handover notes, handoffs seen, round-robin turns, user-group syncs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class HandoverNoteRow(SQLModel, table=True):
    """A note someone on call left for the next person (`/incident oncall handover <note>`)."""

    __tablename__ = "handover_notes"
    __table_args__ = (sa.Index("ix_handover_notes_schedule_at", "schedule", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule: str = Field(max_length=100)
    author: str = Field(max_length=32)
    text: str = Field(sa_type=sa.Text, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ShiftHolderRow(SQLModel, table=True):
    """Who Tocsin last saw on call for a schedule, since when: a handoff is a change of it, made once
    across replicas by a conditional update."""

    __tablename__ = "shift_holders"

    schedule: str = Field(max_length=100, primary_key=True)
    holder: str | None = Field(default=None, max_length=255)  # as the schedule names them (ID or e-mail)
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)


class RoundRobinTurnRow(SQLModel, table=True):
    """How many turns a round-robin tier has given (one counter per escalation policy and tier)."""

    __tablename__ = "round_robin_turns"

    tier_key: str = Field(max_length=255, primary_key=True)
    turns: int = 0


class RoundRobinPickRow(SQLModel, table=True):
    """Whom a page's round-robin tier notified: the same person again when the page repeats the tier."""

    __tablename__ = "round_robin_picks"

    page_id: int = Field(foreign_key="pages.id", primary_key=True)
    tier: int = Field(primary_key=True)
    user_id: str = Field(max_length=32)


class UserGroupSyncRow(SQLModel, table=True):
    """The last time a schedule's Slack user group was set to whoever is on call, and how it went."""

    __tablename__ = "usergroup_syncs"

    schedule: str = Field(max_length=100, primary_key=True)
    usergroup: str = Field(max_length=100)
    users: str = Field(max_length=500)
    outcome: str = Field(max_length=200)  # "ok", or Slack's error
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
