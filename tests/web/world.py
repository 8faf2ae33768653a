"""A workspace's worth of incidents, made the way people make them (slash commands, a pinned message):
a public incident with everything a page shows, a private one only alice's channel may see, and a
resolved one. Words only the private incident holds let tests look for leaks."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import stored_incident
from tests.web.conftest import Site

PUBLIC_TITLE = "Checkout errors"
PRIVATE_TITLE = "Leaked signing key QX7Z"
PRIVATE_WORDS = ("QX7Z", "Rotating keys VB3N", "Audit the CI secrets KP2M")
UPDATE = "Payments API timing out; rolling back v42"
NOTE = "Rolled back to v41"
PINNED = "Error rate is back under 0.1% after the rollback"
FOLLOW_UP = "Add a connection-pool alert"


@dataclass(frozen=True)
class World:
    """The incidents' channels by number."""

    channels: dict[int, str]


async def channel_of(site: Site, number: int) -> str:
    """The name of an incident's channel."""
    incident = await stored_incident(site.tocsin, number)
    assert incident.channel_id is not None
    return site.double.channels[incident.channel_id].name


async def build_world(site: Site) -> World:
    """INC-1 public (alice's, bob IC, SEV1 after SEV2, an update, a note, a pinned message, a follow-up, a
    page), INC-2 private (alice's channel only: bob and carol are not in it), INC-3 public and resolved."""
    await site.say("U0ALICE", "general", f"declare sev2 {PUBLIC_TITLE}")
    one = await channel_of(site, 1)
    for text in (
        f"update {UPDATE}",
        f"note {NOTE}",
        "ic @bob",
        "sev 1 customer impact is widening",
        f"followup {FOLLOW_UP} @bob due 2030-01-31",
        "page @carol",
    ):
        await site.say("U0ALICE", one, text)
    await site.pin("U0BOB", one, PINNED)
    await site.say("U0ALICE", "general", f"declare --private sev2 {PRIVATE_TITLE}")
    two = await channel_of(site, 2)
    await site.say("U0ALICE", two, "update Rotating keys VB3N")
    await site.say("U0ALICE", two, "followup Audit the CI secrets KP2M @alice")
    await site.say("U0CAROL", "general", "declare sev3 Search latency")
    three = await channel_of(site, 3)
    await site.say("U0CAROL", three, "update Cache warmed; latency normal")
    await site.say("U0CAROL", three, "resolve Warmed the cache")
    return World({1: one, 2: two, 3: three})
