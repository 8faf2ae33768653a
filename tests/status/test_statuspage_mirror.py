"""The Statuspage mirror: public updates reach an Atlassian Statuspage page (the strict double in
tests/statuspage_double.py) through the event log, the first creating the incident and the rest updating
it, with the mapped component's state; a 429 is waited out as its Retry-After says, a 500 for a while is
retried with the event log's backoff and delivered once; a refused key is not retried; a redelivery is
not sent twice."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.domain.errors import ConfigError
from bot.domain.incidents import Status
from bot.entrypoints.event_dispatch import EventDispatch
from bot.runtime.metrics import Metrics
from bot.runtime.statuspage_client import HttpStatuspage
from bot.usecases.status_mirror import StatuspageMirror, statuspage_mirror
from storage.uow import UnitOfWork
from tests.status.world import StatusWorld, status_policy, world_for
from tests.statuspage_double import StatuspageDouble

KEY = "sp-key-1"


@dataclass
class Mirrored:
    """A world whose public updates are mirrored to `page` by `mirror`, handed over by `dispatch`."""

    world: StatusWorld
    page: StatuspageDouble
    mirror: StatuspageMirror
    dispatch: EventDispatch

    async def deliver(self, *, tries: int = 1) -> None:
        """Hand the mirror everything due (an incident's updates one after another), `tries` times,
        moving the clock past the event log's backoff after each."""
        for _ in range(tries):
            while await self.dispatch.deliver(self.mirror):
                pass
            self.world.clock.advance(minutes=11)

    async def waiting(self) -> bool:
        async with self.world.uow(read_only=True) as uow:
            assert isinstance(uow, UnitOfWork)
            return (await uow.events.backlog(self.mirror.name)).waiting > 0


@pytest.fixture
async def mirrored(sqlite_url: str) -> AsyncIterator[Mirrored]:
    page = await StatuspageDouble(api_key=KEY, components={"cmp0checkout"}).start()
    target = {"page_id": page.page_id, "api_url": page.url, "components": {"checkout": "cmp0checkout"}}
    world = await world_for(sqlite_url, status_policy(statuspage=target))
    api = HttpStatuspage(timeout=10.0)
    mirror = statuspage_mirror(
        world.policy, api=api, uow=world.uow, clock=world.clock, environ={"STATUSPAGE_API_KEY": KEY}
    )
    assert mirror is not None
    mirror.spacing = 0.0  # the double does not mind; the real page is paced a second apart
    dispatch = EventDispatch(world.uow, [mirror], world.clock, Metrics())
    await dispatch.register()
    yield Mirrored(world, page, mirror, dispatch)
    await api.close()
    await page.stop()
    await world.engine.dispose()


async def test_public_updates_create_then_update_the_incident_on_statuspage(mirrored: Mirrored) -> None:
    world, page = mirrored.world, mirrored.page
    incident = await world.declare("Primary DB failover", severity="SEV1")
    await world.publish(incident, "Checkout fails for some customers.", title="Checkout errors")
    await mirrored.deliver()
    (copy,) = page.incidents.values()
    assert (copy.name, copy.status, copy.impact) == ("Checkout errors", "investigating", "critical")
    assert copy.components == {"cmp0checkout": "major_outage"}
    await world.lifecycle.change_status(incident.id, status=Status.IDENTIFIED, actor="U0ALICE")
    await world.publish(incident, "We found the cause.")
    await world.resolve(incident, public="All fixed.")
    await mirrored.deliver()
    assert list(page.incidents) == [copy.id]  # updated, never created twice
    assert [(u["status"], u["body"]) for u in copy.updates] == [
        ("investigating", "Checkout fails for some customers."),
        ("identified", "We found the cause."),
        ("resolved", "All fixed."),
    ]
    assert copy.components == {"cmp0checkout": "operational"}
    assert [r.method for r in page.requests] == ["POST", "PATCH", "PATCH"]
    assert all(r.authorization == f"OAuth {KEY}" for r in page.requests)
    assert "Primary DB failover" not in str([r.body for r in page.requests])
    assert not await mirrored.waiting()


async def test_a_rate_limit_is_waited_out_as_retry_after_says(mirrored: Mirrored) -> None:
    world, page = mirrored.world, mirrored.page
    page.rate_limit_every, page.retry_after = 2, 1
    incident = await world.declare()
    await world.publish(incident, "Investigating.")
    await world.publish(incident, "Still investigating.")
    started = time.monotonic()
    await mirrored.deliver()
    assert time.monotonic() - started >= 1.0  # it waited the second Statuspage asked for
    assert [r.status for r in page.requests] == [201, 429, 200]
    (copy,) = page.incidents.values()
    assert [u["body"] for u in copy.updates] == ["Investigating.", "Still investigating."]
    assert not await mirrored.waiting()


async def test_a_500_for_a_while_is_retried_and_delivered_once(mirrored: Mirrored) -> None:
    world, page = mirrored.world, mirrored.page
    page.fail(500, 3)
    incident = await world.declare()
    await world.publish(incident, "Investigating.")
    await world.publish(incident, "Still investigating.")
    await mirrored.deliver()
    assert page.incidents == {} and await mirrored.waiting()  # failed: the event log keeps it
    await mirrored.deliver(tries=4)
    (copy,) = page.incidents.values()
    assert [u["body"] for u in copy.updates] == ["Investigating.", "Still investigating."]  # in order, once each
    assert len(page.answered(500)) == 3
    assert not await mirrored.waiting()


async def test_a_refused_key_is_not_retried(mirrored: Mirrored) -> None:
    mirrored.mirror.api_key = "wrong"
    incident = await mirrored.world.declare()
    await mirrored.world.publish(incident, "Investigating.")
    await mirrored.deliver(tries=3)
    assert len(mirrored.page.answered(401)) == 1 and mirrored.page.incidents == {}
    assert not await mirrored.waiting()


async def test_an_update_handed_over_again_is_not_sent_twice(mirrored: Mirrored) -> None:
    incident = await mirrored.world.declare()
    await mirrored.world.publish(incident, "Investigating.")
    async with mirrored.world.uow() as uow:
        assert isinstance(uow, UnitOfWork)
        (event,) = [e for e in await uow.events.of_incident(incident.id) if e.kind.value == "incident.published_update"]
    await mirrored.mirror.handle(event)
    await mirrored.mirror.handle(event)  # as after a crash before the delivery was recorded
    assert len(mirrored.page.requests) == 1


async def test_an_update_still_failing_a_day_on_is_given_up(mirrored: Mirrored) -> None:
    mirrored.page.fail(503, 1000)
    incident = await mirrored.world.declare()
    await mirrored.world.publish(incident, "Investigating.")
    await mirrored.deliver()
    mirrored.world.clock.advance(hours=25)
    await mirrored.deliver()
    assert not await mirrored.waiting()


async def test_the_api_key_must_be_set(sqlite_url: str) -> None:
    policy = status_policy(statuspage={"page_id": "abc", "api_key_env": "SP_KEY"})
    world = await world_for(sqlite_url, policy)
    with pytest.raises(ConfigError, match="SP_KEY is not set"):
        statuspage_mirror(policy, api=HttpStatuspage(), uow=world.uow, clock=world.clock, environ={})
    assert (
        statuspage_mirror(status_policy(), api=HttpStatuspage(), uow=world.uow, clock=world.clock, environ={}) is None
    )
    await world.engine.dispose()
