"""The tables of people's contact methods and rules, verification codes, contact attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime


class ContactAddressRow(SQLModel, table=True):
    """One person's address for one method (personal data), usable once `verified_at` is set; while it is
    not, the digest of the code sent to it, until when it holds and how many wrong codes were tried."""

    __tablename__ = "contact_addresses"
    __table_args__ = (sa.UniqueConstraint("user_id", "method", name="uq_contact_addresses_user_method"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=64)
    method: str = Field(max_length=16)
    address: str = Field(max_length=320)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    code_digest: str | None = Field(default=None, max_length=64)
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    code_tries: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ContactRulesRow(SQLModel, table=True):
    """The rules a person set for themselves (a list of {method, after, min_severity}), replacing the
    policy's and the default ones."""

    __tablename__ = "contact_rules"

    user_id: str = Field(max_length=64, primary_key=True)
    rules: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ContactAttemptRow(SQLModel, table=True):
    """One planned try to reach a paged person (`job_key`: its scheduled job), with the method and address
    snapshotted when it was planned, the digest of its single-use acknowledgement token, the provider's id
    for it once sent and its outcome (planned, delivered, failed, answered, skipped)."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        sa.Index("ix_contact_attempts_turn", "page_id", "round", "tier", "user_id", "n"),
        sa.Index("ix_contact_attempts_provider_id", "provider_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_key: str = Field(max_length=200, unique=True)
    page_id: int
    round: int
    tier: int
    user_id: str = Field(max_length=64)
    n: int
    method: str = Field(max_length=16)
    address: str = Field(max_length=320)
    token_digest: str | None = Field(default=None, max_length=64, unique=True)  # set when sent
    provider_id: str | None = Field(default=None, max_length=128)
    outcome: str = Field(default="planned", max_length=16)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ContactSnapshotRow(SQLModel, table=True):
    """A paged person's addresses and rules as they were when the page first reached them: the page keeps
    them, whatever the person changes while it runs."""

    __tablename__ = "contact_snapshots"

    page_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    user_id: str = Field(max_length=64, primary_key=True)
    addresses: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    rules: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
