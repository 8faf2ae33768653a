"""Full-text search over incidents and the links between related incidents (`uow.related`). Never commits.

The full-text index is each database's own (migration 0023): SQLite's FTS5 table `incidents_fts` (ranked by
bm25, the title weighted most), PostgreSQL's tsvector table `incidents_fts` (ranked by ts_rank). Both are
kept in step with `incidents` by triggers, so nothing here writes them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import storage.related_models  # noqa: F401 - registers the tables
from bot.domain.incidents import Status
from bot.domain.related import Candidate
from storage.core_sql import dialect_insert, dialect_of, run, table_of
from storage.incident_rows import incident_from_row
from storage.models import AlertGroupRow, AlertRow, FollowUpRow, IncidentRow, PostmortemRow
from storage.related_models import IncidentKeyRow, IncidentLinkRow

PER_KEY = 25  # the newest incidents sharing one key
BY_TEXT = 50  # the best full-text matches
MAX_BELOW = 2**31 - 1

# The best text matches among the newest WINDOW incidents that match (ranking every match of a common word
# in a long history would cost more than the answer is worth). SQLite's FTS5 walks matches newest first
# cheaply; the workspace is checked on the rows found (an FTS5 table has no team column).
WINDOW = 1_000
_TEXT = {
    "sqlite": sa.text(
        "SELECT rowid, -bm25(incidents_fts, 10.0, 2.0, 2.0) AS rank FROM incidents_fts "
        "WHERE incidents_fts MATCH :query AND rowid < :below AND rowid >= coalesce(("
        "SELECT min(rowid) FROM (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH :query "
        "AND rowid < :below ORDER BY rowid DESC LIMIT :window)), 0) "
        "ORDER BY bm25(incidents_fts, 10.0, 2.0, 2.0) LIMIT :limit"
    ),
    "postgresql": sa.text(
        "SELECT r.incident_id, ts_rank(r.document, r.query) AS rank FROM ("
        "SELECT f.incident_id, f.document, q.query FROM incidents_fts f, to_tsquery('english', :query) AS q(query) "
        "WHERE f.document @@ q.query AND f.team_id = :team_id AND f.incident_id < :below "
        "ORDER BY f.incident_id DESC LIMIT :window) AS r "
        "ORDER BY rank DESC, r.incident_id DESC LIMIT :limit"
    ),
}
_OPEN = [s.value for s in Status if s.is_open]
_keys = table_of(IncidentKeyRow)
_incidents = table_of(IncidentRow)
_follow_ups = table_of(FollowUpRow)
_postmortems = table_of(PostmortemRow)
# Incidents by id, each with its open follow-ups counted and whether a postmortem was published.
_DESCRIBED = sa.select(
    _incidents,
    sa.select(sa.func.count())
    .where(_follow_ups.c.incident_id == _incidents.c.id, _follow_ups.c.done_at.is_(None))
    .scalar_subquery()
    .label("open_follow_ups"),
    sa.exists().where(_postmortems.c.incident_id == _incidents.c.id).label("postmortem"),
).where(_incidents.c.id.in_(sa.bindparam("ids", expanding=True)))


def _full_text_query(dialect: str, terms: Sequence[str]) -> str:
    """The terms OR'ed in the database's query syntax (terms are plain words: [a-z0-9]+)."""
    if dialect == "sqlite":
        return " OR ".join(f'"{t}"' for t in terms)
    return " | ".join(terms)


class RelatedRecords:
    """Full-text search over incidents and the links between related incidents, within one session."""

    def __init__(self, session: AsyncSession) -> None:
        """Work inside the unit of work's session."""
        self._session = session

    async def keep_keys(self, incident_id: int, team_id: str, keys: Iterable[str]) -> None:
        """Remember what an incident is keyed by (keys it already has are kept as they are)."""
        rows = [{"team_id": team_id, "key": k, "incident_id": incident_id} for k in sorted(set(keys))]
        if rows:
            await self._session.exec(
                dialect_insert(self._session, IncidentKeyRow).values(rows).on_conflict_do_nothing()
            )

    async def keys_of(self, incident_id: int) -> frozenset[str]:
        """What an incident is keyed by."""
        found = await self._session.exec(select(IncidentKeyRow.key).where(IncidentKeyRow.incident_id == incident_id))
        return frozenset(found.all())

    async def declare_key_of(self, incident_id: int) -> str | None:
        """The key an incident was declared under (`alert:…` when an alert declared it)."""
        statement = select(IncidentRow.declare_key).where(IncidentRow.id == incident_id)
        return (await self._session.exec(statement)).first()

    async def alert_labels(self, source: str, group_key: str) -> list[dict[str, str]]:
        """The labels of each alert of an alert group (none when the group is gone)."""
        statement = (
            select(AlertRow.labels)
            .join(AlertGroupRow, col(AlertGroupRow.id) == col(AlertRow.group_id))
            .where(AlertGroupRow.source == source, AlertGroupRow.group_key == group_key)
        )
        return [{str(k): str(v) for k, v in (labels or {}).items()} for labels in (await self._session.exec(statement))]

    async def candidates(
        self, team_id: str, *, keys: Collection[str], terms: Sequence[str], below: int = MAX_BELOW
    ) -> list[Candidate]:
        """Incidents of the workspace numbered below `below` (by id) that share one of `keys` (the newest
        PER_KEY per key) or match `terms` by full-text search (the best BY_TEXT of the newest WINDOW matches)."""
        ranks: dict[int, float] = {}
        if terms:
            dialect = dialect_of(self._session)
            query = _full_text_query(dialect, terms)
            params = {"query": query, "team_id": team_id, "below": below, "window": WINDOW, "limit": BY_TEXT}
            for incident_id, rank in await run(self._session, _TEXT[dialect], params):
                ranks[int(incident_id)] = float(rank or 0.0)
        ids = set(ranks)
        if keys:  # the newest PER_KEY of each key, in one statement
            newest = [
                sa.select(_keys.c.incident_id)
                .where(_keys.c.team_id == team_id, _keys.c.key == key, _keys.c.incident_id < below)
                .order_by(_keys.c.incident_id.desc())
                .limit(PER_KEY)
                .subquery()
                .select()
                for key in sorted(keys)
            ]
            union = sa.union_all(*newest).subquery()
            ids.update(i for (i,) in await run(self._session, sa.select(union.c.incident_id)))
        return await self._described(ids, ranks)

    async def open_since(self, team_id: str, since: datetime) -> list[Candidate]:
        """The workspace's open incidents declared since `since`, with their keys."""
        statement = select(IncidentRow.id).where(
            IncidentRow.team_id == team_id, col(IncidentRow.status).in_(_OPEN), col(IncidentRow.declared_at) >= since
        )
        ids = {i for i in (await self._session.exec(statement)).all() if i is not None}
        return await self._described(ids, {})

    async def link(self, incident_id: int, other_id: int, *, by: str, at: datetime) -> bool:
        """Record two incidents as related, both ways; False when they already were."""
        rows = [
            {"incident_id": a, "other_id": b, "linked_by": by, "linked_at": at}
            for a, b in ((incident_id, other_id), (other_id, incident_id))
        ]
        insert = dialect_insert(self._session, IncidentLinkRow).values(rows).on_conflict_do_nothing()
        result = await self._session.exec(insert)
        return bool(result.rowcount)

    async def linked(self, incident_id: int) -> list[Candidate]:
        """The incidents linked to `incident_id`, oldest link first."""
        statement = (
            select(IncidentLinkRow.other_id)
            .where(IncidentLinkRow.incident_id == incident_id)
            .order_by(col(IncidentLinkRow.linked_at), col(IncidentLinkRow.other_id))
        )
        order = list((await self._session.exec(statement)).all())
        described = {c.incident.id: c for c in await self._described(set(order), {})}
        return [described[i] for i in order if i in described]

    async def _described(self, ids: set[int], ranks: dict[int, float]) -> list[Candidate]:
        """The incidents `ids` as candidates: each with its keys, open follow-ups and postmortem (two
        statements, whatever the number)."""
        if not ids:
            return []
        chosen = sorted(ids)
        keys: dict[int, set[str]] = {}
        key_rows = sa.select(_keys.c.incident_id, _keys.c.key).where(_keys.c.incident_id.in_(chosen))
        for incident_id, key in await run(self._session, key_rows):
            keys.setdefault(incident_id, set()).add(key)
        rows = await run(self._session, _DESCRIBED, {"ids": chosen})
        return [
            Candidate(
                incident=incident_from_row(row, {}),
                keys=frozenset(keys.get(row.id, ())),
                text_rank=ranks.get(row.id, 0.0),
                open_follow_ups=int(row.open_follow_ups or 0),
                postmortem=bool(row.postmortem),
            )
            for row in rows
        ]
