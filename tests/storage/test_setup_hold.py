"""The hold a running set-up keeps on itself: while renewed, no sweep takes it over; once its process
dies, the sweep takes it within SETUP_GRACE; a finished set-up is never revived by a late renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.usecases.setup_run import SETUP_GRACE
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.storage.test_storage import engine, new_incident  # noqa: F401  (the engine fixture)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=20)


async def declared(engine: AsyncEngine) -> int:  # noqa: F811
    async with UnitOfWork(session_factory(engine)) as uow:
        incident = await uow.incidents.add(new_incident(), number=1, now=T0, setup_by=T0 + SETUP_GRACE)
        await uow.commit()
    return incident.id


async def sweep(engine: AsyncEngine, at: datetime, token: str = "sweep") -> list[int]:  # noqa: F811
    async with UnitOfWork(session_factory(engine)) as uow:
        taken = await uow.setups.claim(now=at, lease=LEASE, token=token, limit=10)
        await uow.commit()
    return [i.id for i in taken]


async def renew(engine: AsyncEngine, incident_id: int, at: datetime, token: str | None = None) -> None:  # noqa: F811
    async with UnitOfWork(session_factory(engine)) as uow:
        await uow.setups.keep_alive(incident_id, until=at + SETUP_GRACE, token=token)
        await uow.commit()


async def test_a_renewed_set_up_is_never_taken_and_a_dead_one_is_taken_within_the_grace(engine: AsyncEngine) -> None:  # noqa: F811
    incident_id = await declared(engine)
    for seconds in range(5, 120, 5):  # a slow declare, renewing every 5 s for two minutes
        await renew(engine, incident_id, T0 + timedelta(seconds=seconds))
        assert await sweep(engine, T0 + timedelta(seconds=seconds + 4)) == []
    died = T0 + timedelta(seconds=115)  # its last renewal; then the process died
    assert await sweep(engine, died + SETUP_GRACE - timedelta(seconds=1)) == []
    assert await sweep(engine, died + SETUP_GRACE) == [incident_id]


async def test_the_sweep_renews_its_own_lease_and_another_replica_keeps_off(engine: AsyncEngine) -> None:  # noqa: F811
    incident_id = await declared(engine)
    at = T0 + SETUP_GRACE
    assert await sweep(engine, at, token="first") == [incident_id]
    for seconds in range(5, 60, 5):
        now = at + timedelta(seconds=seconds)
        await renew(engine, incident_id, now, token="first")
        assert await sweep(engine, now + timedelta(seconds=4), token="second") == []
    # The declare's own (token-less) renewal no longer applies once the sweep has taken the set-up.
    async with UnitOfWork(session_factory(engine)) as uow:
        await uow.setups.finished(incident_id, token="first")
        await uow.commit()
    await renew(engine, incident_id, at + timedelta(minutes=5), token="first")  # a late beat
    assert await sweep(engine, at + timedelta(days=1), token="second") == []  # finished stays finished
