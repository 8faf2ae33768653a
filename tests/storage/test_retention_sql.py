"""docs/tools/retention.sql, the clean-up docs/operations.md gives operators: on SQLite and PostgreSQL it
deletes old resolved incidents with everything that refers to them, finished pages and their alert groups,
and old housekeeping rows; it keeps what is recent, an incident with an open follow-up, and anything an
alert still firing needs; incident numbers are never given again."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.event_models import EventDeliveryRow, EventRow
from storage.migrate import upgrade_to_head
from storage.models import (
    AlertGroupRow,
    AlertRow,
    FollowUpRow,
    HomeViewerRow,
    IncidentRow,
    MessageCaptureRow,
    OutboxRow,
    PageDigestRow,
    PageNotificationRow,
    PageRow,
    PostmortemRow,
    ProcessedEventRow,
    RoleAssignmentRow,
    RunbookPostRow,
    RunbookTickRow,
    TimelineEventRow,
    WorkspaceCounter,
)

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "tools" / "retention.sql"
OLD = datetime(2023, 6, 1, 12, 0, tzinfo=UTC)  # before the script's incident cut-off (2024-01-01)
NEW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # after both cut-offs


def table(row: type[Any]) -> sa.Table:
    return row.__table__  # type: ignore[no-any-return]


async def add(conn: Any, row: type[Any], **values: Any) -> int | None:
    """Insert one row; its id, when the table has one."""
    insert = sa.insert(table(row)).values(**values)
    if "id" not in table(row).c:
        await conn.execute(insert)
        return None
    return int((await conn.execute(insert.returning(table(row).c.id))).scalar_one())


async def logged_event(conn: Any, incident_id: int) -> None:
    """An event of the incident on the log, with a delivery to a subscriber that has not handled it yet."""
    values = {"kind": "incident.note_added", "version": 1, "stream": f"incident:{incident_id}", "private": False}
    insert = sa.insert(table(EventRow)).values(
        id=f"evt_{incident_id}", incident_id=incident_id, occurred_at=OLD, data={"text": "t"}, **values
    )
    seq = (await conn.execute(insert.returning(table(EventRow).c.seq))).scalar_one()
    await add(conn, EventDeliveryRow, subscriber="audit", event_seq=seq, stream=values["stream"], due_at=OLD)


def statements() -> list[str]:
    """The script's statements, without comments or its own BEGIN/COMMIT (the test's transaction)."""
    text = "\n".join(re.sub(r"--.*$", "", line) for line in SCRIPT.read_text().splitlines())
    found = [s.strip() for s in text.split(";") if s.strip()]
    return [s for s in found if s.upper() not in ("BEGIN", "COMMIT")]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


async def incident(conn: Any, number: int, *, resolved: datetime | None, status: str = "resolved") -> int:
    """An incident with a row in every table that refers to incidents."""
    declared = (resolved or NEW).replace(hour=10)
    result = await conn.execute(
        sa.insert(table(IncidentRow))
        .values(
            team_id="T1",
            number=number,
            title=f"incident {number}",
            severity="SEV2",
            status=status,
            declared_by="U1",
            declare_key=f"k{number}",
            declared_at=declared,
            resolved_at=resolved,
            channel_id=f"C{number}",
        )
        .returning(table(IncidentRow).c.id)
    )
    incident_id = int(result.scalar_one())
    at = {"incident_id": incident_id}
    await add(
        conn, RoleAssignmentRow, **at, role="incident_commander", user_id="U1", assigned_by="U1", assigned_at=declared
    )
    await add(
        conn,
        TimelineEventRow,
        **at,
        kind="message",
        occurred_at=declared,
        actor="U1",
        text="hi",
        source=f"C{number}:1.0",
    )
    await add(conn, MessageCaptureRow, **at, source=f"C{number}:1.0", reason="pin")
    await add(conn, RunbookPostRow, **at, runbook="rb", part=0, channel=f"C{number}", ts="1.0")
    await add(conn, RunbookTickRow, **at, runbook="rb", step="1", ticked_by="U1", ticked_at=declared)
    await add(conn, FollowUpRow, **at, text="done", created_by="U1", created_at=declared, done_at=declared)
    await add(conn, PostmortemRow, **at, kind="file", slack_id="F1", published_at=declared)
    await add(conn, OutboxRow, **at, channel=f"C{number}", text="x", created_at=declared)
    await alerted_page(conn, incident_id, created=declared, firing=False, key=f"i{number}")
    return incident_id


async def alerted_page(conn: Any, incident_id: int | None, *, created: datetime, firing: bool, key: str) -> int:
    """A finished page with one DM, from an alert group with one alert."""
    page = await conn.execute(
        sa.insert(table(PageRow))
        .values(
            team_id="T1",
            incident_id=incident_id,
            title="page",
            severity="SEV2",
            source="service:checkout",
            plan={},
            status="acknowledged",
            tier=1,
            round=0,
            created_by="U1",
            created_at=created,
        )
        .returning(table(PageRow).c.id)
    )
    page_id = int(page.scalar_one())
    digest = await conn.execute(
        sa.insert(table(PageDigestRow))
        .values(user_id="U2", opened_at=created, last_added_at=created, pages=1)
        .returning(table(PageDigestRow).c.id)
    )
    await add(
        conn,
        PageNotificationRow,
        page_id=page_id,
        round=0,
        tier=0,
        user_id="U2",
        sent_at=created,
        digest_id=int(digest.scalar_one()),
    )
    group = await conn.execute(
        sa.insert(table(AlertGroupRow))
        .values(source="generic", group_key=key, page_id=page_id, incident_id=incident_id, created_at=created)
        .returning(table(AlertGroupRow).c.id)
    )
    await conn.execute(
        sa.insert(table(AlertRow)).values(
            source="generic",
            fingerprint=key,
            group_id=int(group.scalar_one()),
            firing=firing,
            title="alert",
            labels={},
            first_seen=created,
            last_seen=created,
        )
    )
    return page_id


async def numbers(conn: Any) -> list[int]:
    return sorted((await conn.execute(sa.select(table(IncidentRow).c.number))).scalars())


async def count(conn: Any, row: type[Any]) -> int:
    return int((await conn.execute(sa.select(sa.func.count()).select_from(table(row)))).scalar_one())


async def test_the_retention_script_deletes_old_data_and_keeps_what_is_still_needed(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await add(conn, WorkspaceCounter, team_id="T1", last_number=6)
        gone = await incident(conn, 1, resolved=OLD)  # old and done with: goes, with everything it refers to
        stays = await incident(conn, 2, resolved=NEW)  # recently resolved: stays
        for incident_id in (gone, stays):  # each has an event on the log, still waiting for a subscriber
            await logged_event(conn, incident_id)
        await incident(conn, 3, resolved=None, status="investigating")  # open: stays
        kept_open = await incident(conn, 4, resolved=OLD)  # old, but a follow-up is still open: stays
        await add(
            conn,
            FollowUpRow,
            incident_id=kept_open,
            text="open",
            created_by="U1",
            created_at=OLD,
            due_on=date(2023, 7, 1),
        )
        firing = await incident(conn, 5, resolved=OLD)  # old, but an alert for it still fires: stays
        await alerted_page(conn, firing, created=OLD, firing=True, key="still-firing")
        await alerted_page(conn, None, created=OLD, firing=False, key="old-page")  # goes
        await alerted_page(conn, None, created=OLD, firing=True, key="old-firing-page")  # stays
        await alerted_page(conn, None, created=NEW, firing=False, key="new-page")  # stays
        for event_id, at in (("Ev-old", OLD), ("Ev-new", NEW)):
            await add(conn, ProcessedEventRow, event_id=event_id, received_at=at)
        for user, at in (("U-old", OLD), ("U-new", NEW)):
            await add(conn, HomeViewerRow, team_id="T1", user_id=user, opened_at=at)
        before = {row: await count(conn, row) for row in (TimelineEventRow, PageRow, AlertRow, AlertGroupRow)}

    async with engine.begin() as conn:  # foreign keys are enforced (SQLite too): a wrong order would fail
        for statement in statements():
            await conn.exec_driver_sql(statement)

    async with engine.connect() as conn:
        assert await numbers(conn) == [2, 3, 4, 5]
        for row in (RoleAssignmentRow, MessageCaptureRow, RunbookPostRow, RunbookTickRow, PostmortemRow, OutboxRow):
            assert await count(conn, row) == 4, row.__tablename__  # incident 1's row went, the others stayed
        assert await count(conn, TimelineEventRow) == before[TimelineEventRow] - 1
        # Incident 1's page and the old finished page went; every other page (and its alert group) stayed.
        assert await count(conn, PageRow) == before[PageRow] - 2
        assert await count(conn, PageNotificationRow) == before[PageRow] - 2
        assert await count(conn, PageDigestRow) == before[PageRow] - 2  # their digests, no longer referred to
        assert await count(conn, AlertGroupRow) == before[AlertGroupRow] - 2
        assert await count(conn, AlertRow) == before[AlertRow] - 2
        keys = set((await conn.execute(sa.select(table(AlertGroupRow).c.group_key))).scalars())
        assert {"still-firing", "old-firing-page", "new-page"} <= keys and not {"i1", "old-page"} & keys
        events = set((await conn.execute(sa.select(table(ProcessedEventRow).c.event_id))).scalars())
        assert events == {"Ev-new"}
        logged = list((await conn.execute(sa.select(table(EventRow).c.incident_id))).scalars())
        assert logged == [stays]  # incident 1's event went, with its delivery
        waiting = list((await conn.execute(sa.select(table(EventDeliveryRow).c.subscriber))).scalars())
        assert waiting == ["audit"]
        viewers = set((await conn.execute(sa.select(table(HomeViewerRow).c.user_id))).scalars())
        assert viewers == {"U-new"}
        counter = await conn.execute(sa.select(table(WorkspaceCounter).c.last_number))
        assert counter.scalar_one() == 6  # numbers are never given again
