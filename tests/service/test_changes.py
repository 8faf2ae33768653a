"""What every change does alike (bot/usecases/changes.py): the one row-locked read, refused for a gone
incident or a control from another incident's channel, and the read of what the change leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import NotFoundError, UserError
from bot.usecases.changes import committed, locked
from storage.uow import UnitOfWork
from tests.service.fakes import incident_in_channel, sqlite_database, stored_incident

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[Callable[..., UnitOfWork]]:
    async with sqlite_database(tmp_path) as database:
        yield database


async def test_a_change_reads_its_incident_only_from_its_own_channel(uow: Callable[..., UnitOfWork]) -> None:
    incident = await incident_in_channel(uow, now=NOW)
    async with uow() as work:
        assert (await locked(work, incident.id)).id == incident.id  # no channel named: a form, say
        assert (await locked(work, incident.id, "C0INC1")).channel_id == "C0INC1"
        with pytest.raises(UserError, match="another incident's channel"):
            await locked(work, incident.id, "C0OTHER")
        with pytest.raises(NotFoundError):
            await locked(work, incident.id + 1)


async def test_committed_shows_the_change_before_it_commits_and_nothing_lasts_without_commit(
    uow: Callable[..., UnitOfWork],
) -> None:
    incident = await incident_in_channel(uow, now=NOW)
    async with uow() as work:
        await work.incidents.update(incident.id, title="Card payments failing")
        assert (await committed(work, incident.id)).title == "Card payments failing"
        with pytest.raises(NotFoundError):
            await committed(work, incident.id + 1)
    assert (await stored_incident(uow, incident.id)).title == "Checkout errors"  # left without commit(): rolled back
