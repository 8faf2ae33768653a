"""The status page's records on SQLite and PostgreSQL: a publication and its updates, what the page reads
(open ones, and those updated within the history), the version that moves with the event log, and the
Statuspage mirror's copies, recorded once per incident and page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain.status_page import PublicStatus
from tests.status.world import NOW, StatusWorld, world_for


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[StatusWorld]:
    made = await world_for(database_url)
    yield made
    await made.engine.dispose()


async def test_a_publication_keeps_its_public_id_and_its_updates_in_order(world: StatusWorld) -> None:
    incident = await world.declare()
    async with world.uow() as uow:
        first, one = await uow.status.publish(
            incident.id, public_id="abc123abc123", title="Checkout errors", status=PublicStatus.INVESTIGATING,
            body="Looking", now=NOW, by="U0ALICE",
        )  # fmt: skip
        again, two = await uow.status.publish(
            incident.id, public_id="ignored00000", title="Ignored", status=PublicStatus.MONITORING,
            body="Watching", now=NOW + timedelta(minutes=5), by=None,
        )  # fmt: skip
        await uow.commit()
    assert first.public_id == again.public_id == "abc123abc123" and again.title == "Checkout errors"
    assert again.status is PublicStatus.MONITORING and two > one
    async with world.uow(read_only=True) as uow:
        (shown,) = await uow.status.published(since=NOW - timedelta(days=91))
    assert [(u.status, u.body) for u in shown.updates] == [
        (PublicStatus.INVESTIGATING, "Looking"),
        (PublicStatus.MONITORING, "Watching"),
    ]
    assert (shown.title, shown.severity, shown.service, shown.private) == ("Checkout errors", "SEV2", "checkout", False)


async def test_the_page_reads_open_incidents_and_those_resolved_since(world: StatusWorld) -> None:
    old, recent, still = await world.declare("a"), await world.declare("b"), await world.declare("c")
    async with world.uow() as uow:
        for incident, status, when in (
            (old, PublicStatus.RESOLVED, NOW - timedelta(days=200)),
            (recent, PublicStatus.RESOLVED, NOW - timedelta(days=3)),
            (still, PublicStatus.IDENTIFIED, NOW - timedelta(days=300)),
        ):
            await uow.status.publish(
                incident.id, public_id=f"id{incident.id:010d}", title=incident.title, status=status, body="x",
                now=when, by=None,
            )  # fmt: skip
        await uow.commit()
    async with world.uow(read_only=True) as uow:
        shown = await uow.status.published(since=NOW - timedelta(days=91))
    assert sorted(i.title for i in shown) == ["b", "c"]


async def test_the_version_moves_with_the_event_log(world: StatusWorld) -> None:
    before = await world.board.version()
    incident = await world.declare()
    await world.publish(incident, "We are investigating.")
    assert await world.board.version() > before


async def test_a_mirror_copy_is_recorded_once_and_only_moves_forward(world: StatusWorld) -> None:
    incident = await world.declare()
    async with world.uow() as uow:
        assert await uow.status.mirrored(incident.id, "page1") is None
        await uow.status.mirror(incident.id, "page1", statuspage_id="sp1", update_id=5, now=NOW)
        await uow.status.mirror(incident.id, "page1", statuspage_id="sp2", update_id=3, now=NOW)
        await uow.commit()
    async with world.uow(read_only=True) as uow:
        assert await uow.status.mirrored(incident.id, "page1") == ("sp1", 5)
        assert await uow.status.mirrored(incident.id, "page2") is None
