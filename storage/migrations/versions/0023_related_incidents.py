"""full-text search over incidents and links between related incidents

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.domain.related import alert_group_of, keys_of

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: an FTS5 index over the incidents table's own text (external content: nothing stored twice), kept
# in step by triggers; a title or summary edit re-indexes that row only.
_SQLITE_UP = (
    "CREATE VIRTUAL TABLE incidents_fts USING fts5(title, description, resolution_summary, "
    "content='incidents', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN "
    "INSERT INTO incidents_fts (rowid, title, description, resolution_summary) "
    "VALUES (new.id, new.title, new.description, new.resolution_summary); END",
    "CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN "
    "INSERT INTO incidents_fts (incidents_fts, rowid, title, description, resolution_summary) "
    "VALUES ('delete', old.id, old.title, old.description, old.resolution_summary); END",
    "CREATE TRIGGER incidents_fts_update AFTER UPDATE OF title, description, resolution_summary ON incidents "
    "BEGIN INSERT INTO incidents_fts (incidents_fts, rowid, title, description, resolution_summary) "
    "VALUES ('delete', old.id, old.title, old.description, old.resolution_summary); "
    "INSERT INTO incidents_fts (rowid, title, description, resolution_summary) "
    "VALUES (new.id, new.title, new.description, new.resolution_summary); END",
    "INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild')",  # the incidents already stored
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS incidents_fts_update",
    "DROP TRIGGER IF EXISTS incidents_fts_delete",
    "DROP TRIGGER IF EXISTS incidents_fts_insert",
    "DROP TABLE IF EXISTS incidents_fts",
)
# PostgreSQL: a weighted tsvector per incident (the title counts most), GIN-indexed, kept by a trigger;
# a deleted incident's goes with it.
_POSTGRES_UP = (
    "CREATE TABLE incidents_fts (incident_id integer PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE, "
    "team_id varchar(32) NOT NULL, document tsvector NOT NULL)",
    "CREATE INDEX incidents_fts_document ON incidents_fts USING gin (document)",
    "CREATE FUNCTION incidents_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO incidents_fts (incident_id, team_id, document) VALUES (NEW.id, NEW.team_id, "
    "setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(NEW.description, '') || ' ' || "
    "coalesce(NEW.resolution_summary, '')), 'B')) "
    "ON CONFLICT (incident_id) DO UPDATE SET document = EXCLUDED.document; RETURN NEW; END $$",
    "CREATE TRIGGER incidents_fts_sync AFTER INSERT OR UPDATE OF title, description, resolution_summary "
    "ON incidents FOR EACH ROW EXECUTE FUNCTION incidents_fts_sync()",
    "INSERT INTO incidents_fts (incident_id, team_id, document) SELECT i.id, i.team_id, "
    "setweight(to_tsvector('english', coalesce(i.title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(i.description, '') || ' ' || "
    "coalesce(i.resolution_summary, '')), 'B') FROM incidents i",
)
_POSTGRES_DOWN = (
    "DROP TRIGGER IF EXISTS incidents_fts_sync ON incidents",
    "DROP FUNCTION IF EXISTS incidents_fts_sync()",
    "DROP TABLE IF EXISTS incidents_fts",
)


def upgrade() -> None:
    """Apply this revision (additive: a replica still on the previous revision ignores the new tables, and
    its writes are indexed by the triggers)."""
    op.create_table(
        "incident_links",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("other_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("linked_by", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "incident_keys",
        sa.Column("team_id", sa.String(length=32), primary_key=True),
        sa.Column("key", sa.String(length=255), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), primary_key=True),
    )
    op.create_index("ix_incident_keys_incident", "incident_keys", ["incident_id"])
    # The incidents already stored are keyed by their service (the set-up keys new ones, alerts' labels too).
    op.execute(
        "INSERT INTO incident_keys (team_id, key, incident_id) SELECT team_id, 'service:' || service, id "
        "FROM incidents WHERE service IS NOT NULL AND service <> ''"
    )
    _key_alert_groups()
    for statement in _SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _POSTGRES_UP:
        op.execute(statement)


def _key_alert_groups() -> None:
    """The incidents already declared from an alert are keyed by its group (whatever its generation)."""
    bind = op.get_bind()
    declared = bind.execute(sa.text("SELECT id, team_id, declare_key FROM incidents WHERE declare_key LIKE 'alert:%'"))
    rows = [
        {"team_id": team_id, "key": key, "incident_id": incident_id}
        for incident_id, team_id, declare_key in declared
        for key in keys_of(None, alert_group_of(declare_key))
    ]
    if rows:
        insert = "INSERT INTO incident_keys (team_id, key, incident_id) VALUES (:team_id, :key, :incident_id)"
        bind.execute(sa.text(insert), rows)


def downgrade() -> None:
    """Revert this revision."""
    for statement in _SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRES_DOWN:
        op.execute(statement)
    op.drop_index("ix_incident_keys_incident", "incident_keys")
    op.drop_table("incident_keys")
    op.drop_table("incident_links")
