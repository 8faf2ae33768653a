"""Ranking related incidents against the database's own full-text search, on SQLite (FTS5) and PostgreSQL
(tsvector): of 1,000 stored incidents, the expected three, best first; the text index follows edits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import cast

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.incidents import Incident
from bot.slack.blocks import related as views
from bot.usecases.ports import Slack
from bot.usecases.related import RelatedIncidents
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.related.history import EXPECTED, GROUP, NOW, SUBJECT_TITLE, TEAM, history, store


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


def related_on(engine: AsyncEngine) -> RelatedIncidents:
    sessions = session_factory(engine)
    return RelatedIncidents(
        uow=lambda **kw: UnitOfWork(sessions, **kw),
        slack=cast(Slack, None),  # finding never reaches Slack (no viewer: no private incident is asked about)
        views=views,
        clock=lambda: NOW,
    )


async def stored(engine: AsyncEngine, incident_id: int) -> Incident:
    async with UnitOfWork(session_factory(engine)) as uow:
        incident = await uow.incidents.get(incident_id)
    assert incident is not None
    return incident


async def with_subject(engine: AsyncEngine, total: int) -> Incident:
    """`total` incidents of history, then the subject (from the same alert group as the first expected one,
    a later generation), then one declared after it with the same title."""
    rows = history(total)
    last = rows[-1]["declared_at"]
    subject = dict(rows[-1], number=total + 1, title=SUBJECT_TITLE, service="checkout")
    subject |= {
        "declare_key": "alert:alertmanager:1:" + GROUP.split(":", 1)[1],
        "declared_at": last + timedelta(hours=1),
    }
    later = dict(subject, number=total + 2, declare_key="later", declared_at=last + timedelta(hours=2))
    ids = await store(engine, [*rows, subject, later])
    return await stored(engine, ids[-2])


async def test_of_a_thousand_incidents_the_expected_three_are_found_best_first(engine: AsyncEngine) -> None:
    subject = await with_subject(engine, 1_000)
    found = await related_on(engine).find(subject, viewer=None)
    assert [m.incident.title for m in found.matches] == EXPECTED
    assert all(m.incident.team_id == TEAM and not m.incident.private for m in found.matches)
    best = found.matches[0]
    assert "same alert group" in best.reasons and "same service" in best.reasons
    assert found.matches[2].reasons == ("similar title",)


async def test_the_text_index_follows_an_edited_title_and_a_resolution_summary(engine: AsyncEngine) -> None:
    subject = await with_subject(engine, 50)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE incidents SET title = 'Quiet night' WHERE title = :title"), {"title": EXPECTED[2]}
        )
        await connection.execute(
            sa.text("UPDATE incidents SET resolution_summary = :text WHERE number = 3 AND team_id = :team"),
            {"text": "Checkout payment latency from a slow gateway", "team": TEAM},
        )
    found = await related_on(engine).find(subject, viewer=None)
    titles = [m.incident.title for m in found.matches]
    assert EXPECTED[2] not in titles
    assert 3 in [m.incident.number for m in found.matches]  # found by its summary now


async def test_an_incident_deleted_leaves_the_text_index(engine: AsyncEngine) -> None:
    subject = await with_subject(engine, 50)
    async with engine.begin() as connection:
        await connection.execute(sa.text("DELETE FROM incidents WHERE title = :title"), {"title": EXPECTED[2]})
    found = await related_on(engine).find(subject, viewer=None)
    assert EXPECTED[2] not in [m.incident.title for m in found.matches]
