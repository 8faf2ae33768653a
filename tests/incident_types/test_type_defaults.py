"""A type's defaults beyond severity, privacy and roles, end to end on both databases: its runbooks posted,
its postmortem template drafting, its escalation policy paged on declare (instead of the service's, which
`/incident page` still pages), the Resolve button asking for the fields required at resolve, and fields
set only by whoever may change severity, each on the timeline as a field set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import Tocsin
from bot.domain.incidents import Status, TimelineKind
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_incident, stored_timeline, timers_of
from tests.incident_types.policies import SECURITY
from tests.slack_double import SlackDouble
from tests.slack_double.server import Channel

RUNBOOKS = str(Path(__file__).parents[2] / "runbooks")  # the runbooks Tocsin ships
TYPED = "declare --type security sev2 Keys leaked customer=Acme"


def with_security(**security: Any) -> dict[str, Any]:
    """The tests' security type with more defaults."""
    return {"types": {"security": {**SECURITY, **security}}, "runbooks_dir": RUNBOOKS}


async def say(double: SlackDouble, tocsin: Tocsin, channel: Channel, text: str, user: str = "U0ALICE") -> None:
    await double.slash_command(user, channel.id, text)
    await settle(tocsin)


def runbooks_in(channel: Channel) -> list[str]:
    return [m["text"].split(" (")[0] for m in channel.messages if m["text"].startswith("Runbook: ")]


async def page_sources(tocsin: Tocsin, number: int) -> list[str]:
    incident = await stored_incident(tocsin, number)
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        return [p.source for p in await uow.pages.for_incident(incident.id)]


def pages_to(double: SlackDouble, user: str) -> list[str]:
    return [m["text"] for m in double.dm_messages(user) if "being paged" in m["text"]]


async def tick(tocsin: Tocsin) -> None:
    await timers_of(tocsin).tick()
    await settle(tocsin)


async def test_a_typed_incident_gets_its_types_runbooks_posted(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str
) -> None:
    policy = Policy.model_validate(with_security(runbooks=["rollback-bad-deploy"]))
    tocsin = await start_tocsin(database_url, policy=policy)

    typed = await declare(double, tocsin, TYPED)
    untyped = await declare(double, tocsin, "declare sev2 Keys leaked again")

    assert runbooks_in(typed) == ["Runbook: Roll back a bad deploy"]  # no keyword of it in the title
    assert runbooks_in(untyped) == []
    notes = [e.text for e in await stored_timeline(tocsin, 1) if e.kind is TimelineKind.RUNBOOK]
    assert notes == ["Runbook posted: Roll back a bad deploy"]


async def test_a_typed_incidents_postmortem_draft_uses_its_types_template(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, tmp_path: Path
) -> None:
    template = tmp_path / "security.md.j2"
    template.write_text(
        "# {{ reference }} security review ({{ incident_type }})\n"
        "{% for field in fields %}- {{ field.label }}: {{ field.value }}\n{% endfor %}"
    )
    policy = Policy.model_validate(with_security(postmortem_template=str(template)))
    tocsin = await start_tocsin(database_url, policy=policy)
    typed = await declare(double, tocsin, TYPED)
    untyped = await declare(double, tocsin, "declare sev3 Slow pages")

    await say(double, tocsin, typed, "field root-cause A key in a public repo")
    await say(double, tocsin, typed, "resolve Keys rotated")
    await say(double, tocsin, untyped, "resolve Restarted the cache")

    drafts = {c["channel"]: c["markdown"] for c in double.canvases.values()}
    assert drafts[typed.id].startswith("# INC-1 security review (security)\n")
    assert "- Customer: Acme\n" in drafts[typed.id] and "- Root cause: A key in a public repo\n" in drafts[typed.id]
    assert drafts[untyped.id].startswith("# INC-2: Slow pages — postmortem (draft)")  # the policy's template


async def test_a_type_that_pages_on_declare_pages_its_policy_instead_of_the_services(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    policy = Policy.model_validate(
        {
            **with_security(escalation_policy="security", page_on_declare=["SEV1"]),
            "escalation_policies": {
                "security": {"tiers": [{"notify": ["user:U0BOB"], "after": "5m"}]},
                "payments": {"tiers": [{"notify": ["user:U0CAROL"], "after": "5m"}]},
            },
            "services": {
                "checkout": {
                    "keywords": ["checkout"],
                    "escalation_policy": "payments",
                    "page_on_declare": ["SEV1", "SEV2"],
                }
            },
        }
    )
    tocsin = await start_tocsin(database_url, clock=clock, policy=policy)

    channel = await declare(double, tocsin, "declare --type security sev1 Checkout keys leaked customer=Acme")
    await tick(tocsin)
    assert await page_sources(tocsin, 1) == ["type:security"]
    assert len(pages_to(double, "U0BOB")) == 1 and pages_to(double, "U0CAROL") == []
    assert "Page started: type:security (security)" in [e.text for e in await stored_timeline(tocsin, 1)]

    await say(double, tocsin, channel, "page checkout")  # paging the service by hand is as it was
    await tick(tocsin)
    assert sorted(await page_sources(tocsin, 1)) == ["service:checkout", "type:security"]
    assert len(pages_to(double, "U0CAROL")) == 1

    # At a severity the type does not page on, the service's page on declare applies.
    await declare(double, tocsin, "declare --type security sev2 Checkout slow customer=Acme")
    await tick(tocsin)
    assert await page_sources(tocsin, 2) == ["service:checkout"]
    assert len(pages_to(double, "U0CAROL")) == 2 and len(pages_to(double, "U0BOB")) == 1


async def test_the_resolve_button_asks_for_the_fields_required_at_resolve(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str
) -> None:
    tocsin = await start_tocsin(database_url, policy=Policy.model_validate(with_security()))
    channel = await declare(double, tocsin, TYPED)

    await double.click("U0ALICE", channel.id, channel.messages[0]["ts"], "incident_resolve")
    await settle(tocsin)
    view_id = next(v for v, view in double.views.items() if view["callback_id"] == "resolve_incident")
    assert "field:root-cause" in {b.get("block_id") for b in double.views[view_id]["blocks"]}
    values = {"summary": "Keys rotated", "field:root-cause": "A key in a public repo"}
    await double.submit_view("U0ALICE", view_id, values)
    await settle(tocsin)

    resolved = await stored_incident(tocsin, 1)
    assert resolved.status is Status.RESOLVED and resolved.custom_fields["root-cause"] == "A key in a public repo"


async def test_only_who_may_change_severity_sets_fields_and_each_is_a_field_set_on_the_timeline(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str
) -> None:
    policy = Policy.model_validate({**with_security(), "permissions": {"severity": ["incident_commander"]}})
    tocsin = await start_tocsin(database_url, policy=policy)
    channel = await declare(double, tocsin, TYPED)

    await say(double, tocsin, channel, "field exposed yes", user="U0BOB")
    assert "Only the Incident Commander may change fields here." in double.replies_to("U0BOB")[-1]
    assert "exposed" not in (await stored_incident(tocsin, 1)).custom_fields
    await say(double, tocsin, channel, "field exposed yes")  # alice declared it: she is the commander

    entries = [(e.kind, e.actor, e.text) for e in await stored_timeline(tocsin, 1) if e.text.startswith("Data")]
    assert entries == [(TimelineKind.FIELD_SET, "U0ALICE", "Data exposed: yes")]
