"""Incident metrics in SQL, on SQLite and PostgreSQL, from incidents whose figures are known."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.follow_ups import NewFollowUp
from bot.domain.incidents import NewIncident
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated database of each kind."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    yield session_factory(engine)
    await engine.dispose()


async def add_incident(
    sessions: async_sessionmaker[AsyncSession],
    n: int,
    *,
    severity: str,
    declared: datetime,
    ack_after: timedelta | None = None,
    resolve_after: timedelta | None = None,
    started_before: timedelta | None = None,
    service: str | None = None,
    via: str | None = None,
    team: str = "T1",
) -> int:
    async with UnitOfWork(sessions) as uow:
        number = await uow.incidents.next_number(team)
        incident = await uow.incidents.add(
            NewIncident(
                team_id=team,
                title=f"Incident {n}",
                severity=severity,
                declared_by="U1",
                declare_key=f"k{team}{n}",
                service=service,
            ),
            number=number,
            now=declared,
        )
        await uow.incidents.update(
            incident.id,
            detected_via=via,
            started_at=declared - started_before if started_before else None,
            acknowledged_at=declared + ack_after if ack_after else None,
            resolved_at=declared + resolve_after if resolve_after else None,
        )
        await uow.commit()
    return incident.id


async def test_figures_per_severity_weekly_counts_repeats_detection_and_follow_ups(
    sessions: async_sessionmaker[AsyncSession],
) -> None:

    def minutes(m: int) -> timedelta:
        return timedelta(minutes=m)

    # SEV1: acknowledged after 2, 4 and 9 minutes (median 4, mean 5); resolved after 60 and 120 (median 90).
    first = await add_incident(
        sessions,
        1,
        severity="SEV1",
        declared=NOW - timedelta(days=2),
        ack_after=minutes(2),
        resolve_after=minutes(60),
        started_before=minutes(10),
        service="checkout",
        via="monitoring",
    )
    await add_incident(
        sessions,
        2,
        severity="SEV1",
        declared=NOW - timedelta(days=1),
        ack_after=minutes(9),
        resolve_after=minutes(120),
        started_before=minutes(30),
        service="checkout",
        via="customer",
    )
    await add_incident(
        sessions,
        3,
        severity="SEV1",
        declared=NOW - timedelta(days=9),
        ack_after=minutes(4),
        service="search",
        via="monitoring",
    )
    # SEV3: one resolved after 30 minutes; one in another workspace and one outside the 30-day window.
    await add_incident(sessions, 4, severity="SEV3", declared=NOW - timedelta(days=3), resolve_after=minutes(30))
    await add_incident(sessions, 5, severity="SEV3", declared=NOW - timedelta(days=1), team="T2", ack_after=minutes(1))
    await add_incident(sessions, 6, severity="SEV3", declared=NOW - timedelta(days=45), service="checkout")
    async with UnitOfWork(sessions) as uow:
        await uow.follow_ups.add(
            first, NewFollowUp("late", due_on=date(2026, 11, 20)), by="U1", now=NOW, remind_at=None
        )
        await uow.follow_ups.add(
            first, NewFollowUp("later", due_on=date(2026, 12, 20)), by="U1", now=NOW, remind_at=None
        )
        done = await uow.follow_ups.add(first, NewFollowUp("done"), by="U1", now=NOW, remind_at=None)
        await uow.follow_ups.mark_done(done, by="U1", now=NOW)
        await uow.commit()

    async with UnitOfWork(sessions, read_only=True) as uow:
        stats = await uow.stats.incident_stats("T1", since=NOW - timedelta(days=30), now=NOW, today=NOW.date())

    assert stats.total == 4
    sev1 = next(s for s in stats.by_severity if s.severity == "SEV1")
    sev3 = next(s for s in stats.by_severity if s.severity == "SEV3")
    assert sev1.incidents == 3 and sev3.incidents == 1
    assert sev1.acknowledge.count == 3
    assert sev1.acknowledge.median == pytest.approx(240)
    assert sev1.acknowledge.mean == pytest.approx(300)
    assert sev1.resolve.count == 2
    assert sev1.resolve.median == pytest.approx(5400)
    assert sev1.resolve.mean == pytest.approx(5400)
    assert sev1.detect.median == pytest.approx(1200)  # 10 and 30 minutes: the mean of the middle two
    assert sev3.resolve.median == pytest.approx(1800)
    assert sev3.acknowledge.count == 0 and sev3.acknowledge.median is None
    # Weeks start on Monday (UTC): 2026-11-16 holds incidents 1, 2 and 4; 2026-11-09 holds 3.
    assert stats.weekly == {date(2026, 11, 9): {"SEV1": 1}, date(2026, 11, 16): {"SEV1": 2, "SEV3": 1}}
    assert stats.weekly_mttr[date(2026, 11, 16)] == pytest.approx({"SEV1": 5400, "SEV3": 1800})
    # checkout had incidents 1 and 2 in the window (incident 6 is outside it): one repeat of three with a service.
    assert (stats.with_service, stats.repeats) == (3, 1)
    assert stats.detected_via == {"monitoring": 2, "customer": 1, "unknown": 1}
    assert stats.detection_share("monitoring") == pytest.approx(0.5)
    assert (stats.open_follow_ups, stats.overdue_follow_ups) == (2, 1)

    async with UnitOfWork(sessions, read_only=True) as uow:
        everything = await uow.stats.incident_stats("T1", since=None, now=NOW, today=NOW.date())
    assert everything.total == 5
    assert everything.repeats == 2  # with all time, incident 6 makes 1 and 2 repeats


async def test_an_odd_number_of_measurements_has_the_middle_one_as_median(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for n, ack in enumerate((1, 100, 7), start=1):
        await add_incident(
            sessions, n, severity="SEV2", declared=NOW - timedelta(hours=n), ack_after=timedelta(seconds=ack)
        )
    async with UnitOfWork(sessions, read_only=True) as uow:
        stats = await uow.stats.incident_stats("T1", since=None, now=NOW, today=NOW.date())
    (sev2,) = stats.by_severity
    assert sev2.acknowledge.median == pytest.approx(7)
    assert sev2.acknowledge.mean == pytest.approx(36)


async def test_no_incidents_gives_empty_figures(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with UnitOfWork(sessions, read_only=True) as uow:
        stats = await uow.stats.incident_stats("T1", since=NOW - timedelta(days=30), now=NOW, today=NOW.date())
    assert stats.total == 0 and stats.by_severity == [] and stats.repeat_rate is None
    assert stats.weekly == {} and stats.detection_share("monitoring") is None
