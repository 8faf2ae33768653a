"""Publishing to the status page through the real use cases: who may, what is recorded (the public update in
its own words, a timeline line, the `incident.published_update` event, in one transaction), what the channel
is told, the public resolution that resolving a published incident posts, and the private incident that
can never be published. (test_status_records.py runs the records on PostgreSQL too.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.errors import UserError
from bot.domain.events import IncidentPublishedUpdate
from bot.domain.incidents import Status, TimelineKind
from bot.domain.status_page import RESOLVED_WORDING, PublicStatus
from storage.uow import UnitOfWork
from tests.service.fakes import shown, timeline_texts
from tests.status.world import ADMIN, BOB, StatusWorld, status_policy, world_for


@pytest.fixture
async def world(sqlite_url: str) -> AsyncIterator[StatusWorld]:
    made = await world_for(sqlite_url)
    yield made
    await made.engine.dispose()


async def published_events(world: StatusWorld, incident_id: int) -> list[IncidentPublishedUpdate]:
    async with world.uow() as uow:
        assert isinstance(uow, UnitOfWork)
        events = await uow.events.of_incident(incident_id)
    return [e.data for e in events if isinstance(e.data, IncidentPublishedUpdate)]


async def test_the_first_public_update_puts_the_incident_on_the_page_with_its_own_words(world: StatusWorld) -> None:
    incident = await world.declare("Primary DB failover in eu-west-1")
    await world.publish(incident, "Some customers cannot pay. We are investigating.")
    async with world.uow() as uow:
        publication = await uow.status.publication(incident.id)
    assert publication is not None
    assert publication.title == "Investigating an issue with checkout"  # the internal title stays inside
    assert publication.status is PublicStatus.INVESTIGATING
    (event,) = await published_events(world, incident.id)
    assert (event.first, event.body, event.components) == (
        True,
        "Some customers cannot pay. We are investigating.",
        ["checkout"],
    )
    assert event.public_id == publication.public_id and len(publication.public_id) == 12
    notes = await timeline_texts(world.uow, incident.id, TimelineKind.NOTE)
    assert notes == ["Status page: [Investigating] Some customers cannot pay. We are investigating."]
    (post,) = world.slack.made("post")
    assert post.where == "C0INC1" and "posted to the status page" in post.text
    assert "Some customers cannot pay" in shown(post)


async def test_a_public_update_alone_is_not_an_internal_update(world: StatusWorld) -> None:
    incident = await world.declare()
    await world.publish(incident, "We are investigating.")
    assert await timeline_texts(world.uow, incident.id, TimelineKind.UPDATE) == []
    stored = await world.response.get(incident.id)
    assert stored.last_update_at is None  # the internal cadence is not reset by a public update


async def test_the_form_posts_the_internal_update_and_the_public_one_each_in_its_own_words(world: StatusWorld) -> None:
    incident = await world.declare()
    await world.publish(
        incident, "Payments are slow for some customers.", title="Slow payments", known="pg_bouncer pool exhausted"
    )
    updates = await timeline_texts(world.uow, incident.id, TimelineKind.UPDATE)
    assert len(updates) == 1 and "pg_bouncer" in updates[0]
    (event,) = await published_events(world, incident.id)
    assert (event.title, event.body) == ("Slow payments", "Payments are slow for some customers.")
    posts = world.slack.made("post")
    assert any("pg_bouncer" in shown(p) for p in posts)  # the internal update, to the channel and stakeholders
    assert all("pg_bouncer" not in e.body for e in await published_events(world, incident.id))


async def test_later_updates_keep_the_title_unless_given_one_and_follow_the_status(world: StatusWorld) -> None:
    incident = await world.declare()
    await world.publish(incident, "Investigating.", title="Checkout errors")
    await world.lifecycle.change_status(incident.id, status=Status.IDENTIFIED, actor="U0ALICE")
    await world.publish(incident, "We found the cause.")
    await world.publish(incident, "Fix deployed.", title="Checkout errors for EU customers")
    first, second, third = await published_events(world, incident.id)
    assert (second.first, second.title, second.status) == (False, "Checkout errors", "identified")
    assert third.title == "Checkout errors for EU customers"
    assert first.public_id == second.public_id == third.public_id


async def test_only_the_commander_the_comms_lead_or_an_admin_may_publish(world: StatusWorld) -> None:
    incident = await world.declare()
    with pytest.raises(UserError, match="Only the Incident Commander or the Communications Lead or a Tocsin admin"):
        await world.publish(incident, "We are investigating.", actor=BOB)
    async with world.uow() as uow:
        assert await uow.status.publication(incident.id) is None
    await world.response.assign_role(incident.id, role="comms_lead", user_id=BOB, actor="U0ALICE")
    await world.publish(incident, "We are investigating.", actor=BOB)
    await world.publish(incident, "Still investigating.", actor=ADMIN)
    assert len(await published_events(world, incident.id)) == 2


async def test_the_policy_decides_who_may_publish(sqlite_url: str) -> None:
    world = await world_for(sqlite_url, status_policy(publish=["anyone"]))
    incident = await world.declare()
    await world.publish(incident, "We are investigating.", actor=BOB)
    assert len(await published_events(world, incident.id)) == 1
    await world.engine.dispose()


async def test_a_private_incident_is_never_published_and_nothing_is_recorded(world: StatusWorld) -> None:
    incident = await world.declare("Leaked keys", private=True)
    with pytest.raises(UserError, match="private, so it can't be published"):
        await world.publish(incident, "Nothing to see.", known="rotating keys")
    async with world.uow() as uow:
        assert await uow.status.publication(incident.id) is None
    assert await timeline_texts(world.uow, incident.id, TimelineKind.UPDATE) == []  # nothing half done
    assert world.slack.made("post") == []


async def test_an_empty_public_wording_is_refused_and_the_internal_update_with_it(world: StatusWorld) -> None:
    incident = await world.declare()
    with pytest.raises(UserError, match="customers should read"):
        await world.publish(incident, "   ", known="internal words")
    assert await timeline_texts(world.uow, incident.id, TimelineKind.UPDATE) == []


async def test_resolving_a_published_incident_posts_the_public_resolution(world: StatusWorld) -> None:
    incident = await world.declare()
    await world.publish(incident, "We are investigating.")
    await world.resolve(incident, "Rolled back deploy 4411")
    events = await published_events(world, incident.id)
    assert (events[-1].status, events[-1].body) == ("resolved", RESOLVED_WORDING)
    assert "4411" not in events[-1].body
    assert any("status page says" in p.text for p in world.slack.made("post"))


async def test_the_resolve_form_s_public_wording_is_the_resolution_customers_read(world: StatusWorld) -> None:
    incident = await world.declare()
    await world.publish(incident, "We are investigating.")
    await world.resolve(incident, public="Payments work again. Sorry for the trouble.")
    assert (await published_events(world, incident.id))[-1].body == "Payments work again. Sorry for the trouble."


async def test_resolving_an_unpublished_incident_says_nothing_publicly(world: StatusWorld) -> None:
    incident = await world.declare()
    await world.resolve(incident, public="This should go nowhere.")
    assert await published_events(world, incident.id) == []
    async with world.uow() as uow:
        assert await uow.status.publication(incident.id) is None
