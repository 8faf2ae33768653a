"""Users named by e-mail, end to end: an escalation tier that names someone by address pages them; one
nobody in Slack has is reported loudly (a warning, the timeline, the incident channel), never skipped
in silence; and an address in `permissions` grants what its owner's ID would. The real app, the strict
Slack double (users.lookupByEmail as Slack answers it), both transports."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import Tocsin
from bot.domain.incidents import TimelineKind
from bot.domain.policy import Policy
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline, timers_of
from tests.slack_double import SlackDouble

TRANSPORTS = ["http", "socket"]


def policy_paging(*targets: str, **extra: Any) -> Policy:
    """A checkout service whose one tier notifies `targets`, paged when a SEV1 is declared."""
    return Policy.model_validate(
        {
            "escalation_policies": {"payments": {"tiers": [{"notify": list(targets), "after": "5m"}]}},
            "services": {
                "checkout": {"keywords": ["checkout"], "escalation_policy": "payments", "page_on_declare": ["SEV1"]}
            },
            **extra,
        }
    )


def pages_to(double: SlackDouble, user: str) -> list[dict[str, Any]]:
    return [m for m in double.dm_messages(user) if "being paged" in m["text"]]


def posted_to(double: SlackDouble, channel: str) -> list[object]:
    """chat.postMessage calls to `channel`, answered or refused."""
    return [c for c in double.calls if c.method == "chat.postMessage" and c.args.get("channel") == channel]


async def tick(tocsin: Tocsin) -> None:
    assert tocsin.timers is not None
    await timers_of(tocsin).tick()
    await settle(tocsin)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_tier_naming_someone_by_email_pages_them(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock, transport: str
) -> None:
    double = people  # erin's address is erin@example.com
    policy = policy_paging("user:erin@example.com", "email:dave@example.com")
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy, transport=transport)
    channel = await declare(double, tocsin, "declare sev1 Checkout is failing", via=transport)
    await tick(tocsin)
    assert len(pages_to(double, "U0ERIN")) == 1 and len(pages_to(double, "U0DAVE")) == 1
    assert not posted_to(double, "erin@example.com")  # never a channel of that name
    assert any("Paging <@U0ERIN>, <@U0DAVE>" in m["text"] for m in channel.messages)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_address_nobody_has_is_reported_loudly_and_the_others_are_still_paged(
    people: SlackDouble,
    start_tocsin: StartTocsin,
    database_url: str,
    clock: FakeClock,
    transport: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    double = people
    policy = policy_paging("user:nobody@example.com", "user:U0ERIN")
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy, transport=transport)
    caplog.set_level(logging.WARNING)
    channel = await declare(double, tocsin, "declare sev1 Checkout is failing", via=transport)
    await tick(tocsin)
    assert len(pages_to(double, "U0ERIN")) == 1  # the rest of the tier is paged all the same
    said = "Could not page nobody@example.com: no Slack user has that e-mail"
    assert any(said in m["text"] for m in channel.messages)
    timeline = await stored_timeline(tocsin, 1)
    assert [e.text for e in timeline if e.kind is TimelineKind.PAGE and e.text.startswith("Could not")] == [said]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not page nobody@example.com: no Slack user has that e-mail" in w for w in warnings)
    assert not posted_to(double, "nobody@example.com")


async def test_addresses_are_looked_up_once_and_remembered(
    people: SlackDouble, start_tocsin: StartTocsin, sqlite_url: str, clock: FakeClock
) -> None:
    double = people
    policy = Policy.model_validate(
        {
            **policy_paging("user:erin@example.com").model_dump(mode="json", exclude={"escalation_policies"}),
            "escalation_policies": {
                "payments": {"repeat": 2, "tiers": [{"notify": ["user:erin@example.com"], "after": "5m"}]}
            },
        }
    )
    tocsin = await start_tocsin(sqlite_url, clock=clock, policy=policy)
    await declare(double, tocsin, "declare sev1 Checkout is failing")
    await tick(tocsin)
    for _ in range(2):  # the repeats page erin again
        clock.advance(minutes=5)
        await tick(tocsin)
    assert len(pages_to(double, "U0ERIN")) == 3
    assert len(double.calls_to("users.lookupByEmail")) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_address_in_permissions_grants_what_its_owners_id_would(
    people: SlackDouble, start_tocsin: StartTocsin, database_url: str, transport: str
) -> None:
    double = people
    policy = Policy.model_validate(
        {"admins": ["erin@example.com"], "permissions": {"severity": ["incident_commander", "dave@example.com"]}}
    )
    tocsin = await start_tocsin(database_url, policy=policy, transport=transport)
    channel = await declare(double, tocsin, "declare sev3 Search is slow", via=transport)
    await double.slash_command("U0BOB", channel.id, "sev 2", via=transport)  # bob is named nowhere
    await settle(tocsin)
    assert (await stored_incident(tocsin, 1)).severity == "SEV3"
    assert any("Only the Incident Commander or <@U0DAVE> may change severity" in r for r in double.replies_to("U0BOB"))
    await double.slash_command("U0DAVE", channel.id, "sev 2", via=transport)  # dave, by his address
    await settle(tocsin)
    assert (await stored_incident(tocsin, 1)).severity == "SEV2"
    await double.slash_command("U0ERIN", channel.id, "resolve fixed", via=transport)  # an admin, by her address
    await settle(tocsin)
    assert (await stored_incident(tocsin, 1)).status.value == "resolved"
