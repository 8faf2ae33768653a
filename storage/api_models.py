"""The API's tables: its tokens (only each secret's hash is kept) and the `Idempotency-Key`s of its
declarations."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import UTCDateTime

_LIVE = sa.text("revoked_at IS NULL")


class ApiTokenTable(SQLModel, table=True):
    """An API token. A name is unique among live tokens; a revoked token's name may be given again."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.Index("uq_api_tokens_live_name", "name", unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)  # SHA-256 hex of the secret
    scopes: str = Field(sa_type=sa.Text)  # comma-separated
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class IdempotencyKeyTable(SQLModel, table=True):
    """An `Idempotency-Key` a principal declared with: the same key again returns the same incident."""

    __tablename__ = "api_idempotency_keys"

    principal: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)  # SHA-256 hex of the request body: another body is a conflict
    incident_id: int | None = None  # None until the declaration finishes
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
