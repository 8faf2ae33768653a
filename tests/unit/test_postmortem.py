"""The postmortem draft as a pure function of a stored incident: sections, figures, blameless roles."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import ConfigError
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import DetectedVia, Incident, RoleSpan, Status, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.postmortem import PostmortemFacts, RoleAttribution, canvas_mention, figures, load_template, render_draft

DECLARED = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # runs past midnight: the timeline must show dates
PEOPLE = {"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol", "U0DAVE": "dave", "U0ERIN": "erin"}
POLICY = Policy.model_validate({"timezone": "Europe/London"})


def realistic_facts(events: int = 300, *, seed: int = 7) -> PostmortemFacts:
    """A SEV2 → SEV1 → SEV2 incident with handovers, updates, pages, captured messages and follow-ups."""

    def at(minutes: float) -> datetime:
        return DECLARED + timedelta(minutes=minutes)

    incident = Incident(
        id=1,
        team_id="T1",
        number=42,
        title="Checkout errors",
        severity="SEV2",
        status=Status.RESOLVED,
        declared_by="U0ALICE",
        declared_at=DECLARED,
        description="Card payments failing in the EU",
        detected_via=DetectedVia.MONITORING,
        started_at=DECLARED - timedelta(minutes=12),
        channel_id="C0INC42",
        channel_name="inc-42-checkout-errors",
        roles={"incident_commander": "U0BOB", "comms_lead": "U0CAROL"},
        acknowledged_at=at(4),
        acknowledged_by="U0DAVE",
        identified_at=at(50),
        mitigated_at=at(95),
        resolved_at=at(180),
        resolution_summary="Rolled back the pool-size config",
        customer_impact="EU card payments failed for 95 minutes",
        cause="A config push halved the database pool",
    )
    roles = [
        RoleSpan("incident_commander", "U0ALICE", DECLARED, at(20)),
        RoleSpan("incident_commander", "U0BOB", at(20)),
        RoleSpan("comms_lead", "U0CAROL", at(5)),
        RoleSpan("tech_lead", "U0ERIN", at(30)),
    ]
    fixed = [
        TimelineEntry(TimelineKind.DECLARED, DECLARED, "U0ALICE", "Declared at SEV2: Checkout errors"),
        TimelineEntry(TimelineKind.ACKNOWLEDGED, at(4), "U0DAVE", "Page acknowledged (service:checkout)"),
        TimelineEntry(TimelineKind.ROLE_ASSIGNED, at(5), "U0ALICE", "Communications Lead: <@U0CAROL>"),
        TimelineEntry(TimelineKind.SEVERITY_CHANGED, at(10), "U0ALICE", "SEV2 → SEV1: all EU cards failing"),
        TimelineEntry(
            TimelineKind.ROLE_ASSIGNED, at(20), "U0ALICE", "Incident Commander: <@U0BOB> (handed over from <@U0ALICE>)"
        ),
        TimelineEntry(TimelineKind.STATUS_CHANGED, at(50), "U0BOB", "Investigating → Identified"),
        TimelineEntry(TimelineKind.SEVERITY_CHANGED, at(96), "U0BOB", "SEV1 → SEV2: mitigated, watching"),
        TimelineEntry(TimelineKind.RESOLVED, at(180), "U0BOB", "Rolled back the pool-size config"),
    ]
    rng = random.Random(seed)
    filler = []
    kinds = [TimelineKind.NOTE, TimelineKind.UPDATE, TimelineKind.MESSAGE, TimelineKind.PAGE, TimelineKind.RUNBOOK]
    for n in range(events - len(fixed)):
        kind = kinds[n % len(kinds)]
        when = at(rng.uniform(0, 179))
        actor = rng.choice([*PEOPLE, None]) if kind is not TimelineKind.PAGE else None
        text = {
            TimelineKind.NOTE: f"Checked replica {n}; @{rng.choice(list(PEOPLE.values()))} says lag is fine",
            TimelineKind.UPDATE: f"We know: pool at {n}% *What we are doing:* draining",
            TimelineKind.MESSAGE: f"<@{rng.choice(list(PEOPLE))}> look at graph {n}",
            TimelineKind.PAGE: f"Notified <@{rng.choice(list(PEOPLE))}> (tier 1 of 3, payments)",
            TimelineKind.RUNBOOK: f"Step {n} of database-connection-pool ticked",
        }[kind]
        permalink = f"https://example.slack.com/archives/C0INC42/p{n}" if kind is TimelineKind.MESSAGE else None
        filler.append(TimelineEntry(kind, when, actor, text, permalink=permalink))
    timeline = sorted(fixed + filler, key=lambda e: e.occurred_at)
    follow_ups = [
        FollowUp(1, 1, 42, "Alert on pool saturation", "U0ERIN", date(2026, 11, 30), "U0BOB", at(170)),
        FollowUp(2, 1, 42, "Validate pool size in CI", None, None, "U0BOB", at(171)),
        FollowUp(3, 1, 42, "Write the config rollback runbook", "U0CAROL", date(2026, 11, 21), "U0BOB", at(172)),
        FollowUp(4, 1, 42, "Page the DB team sooner", "U0DAVE", date(2026, 11, 22), "U0BOB", at(173), done_at=at(175)),
    ]
    return PostmortemFacts(
        incident=incident,
        timeline=timeline,
        roles=roles,
        follow_ups=follow_ups,
        channel_url="https://slack.com/app_redirect?channel=C0INC42&team=T1",
        generated_at=DECLARED + timedelta(days=2),
    )


def section(draft: str, heading: str) -> str:
    start = draft.index(f"## {heading}\n")
    end = draft.find("\n## ", start + 1)
    return draft[start : end if end != -1 else None]


def test_every_section_is_present_in_order() -> None:
    draft = render_draft(realistic_facts(), POLICY)
    headings = re.findall(r"^## (.+)$", draft, re.MULTILINE)
    assert headings == [
        "Summary",
        "Customer impact",
        "Severity history",
        "Detection and response",
        "Timeline",
        "Status updates as sent",
        "Root cause and contributing factors",
        "What went well",
        "What could be improved",
        "Action items",
        "Links",
    ]
    assert draft.startswith("# INC-42: Checkout errors — postmortem (draft)\n")
    assert "| Duration | 3h |" in draft
    assert "| Severity | SEV2 (declared SEV2) |" in draft
    assert "Rolled back the pool-size config" in section(draft, "Summary")
    assert "EU card payments failed for 95 minutes" in section(draft, "Customer impact")
    assert "A config push halved the database pool" in section(draft, "Root cause and contributing factors")


def test_figures_are_computed_from_the_lifecycle_stamps() -> None:
    facts = realistic_facts()
    values = {f.name: f.text for f in figures(facts.incident)}
    assert values == {
        "Time to detect": "12m",
        "Time to acknowledge": "4m",
        "Time to mitigate": "1h 35m",
        "Time to resolve": "3h",
    }
    table = section(render_draft(facts, POLICY), "Detection and response")
    assert "| Time to acknowledge | 4m | declared → first ack |" in table
    assert "| Time to resolve | 3h | declared → resolved |" in table


def test_unknown_figures_say_so_instead_of_inventing_a_number() -> None:
    facts = realistic_facts(events=20)
    open_incident = PostmortemFacts(
        incident=Incident(
            id=2,
            team_id="T1",
            number=43,
            title="x",
            severity="SEV3",
            status=Status.INVESTIGATING,
            declared_by="U0ALICE",
            declared_at=DECLARED,
        ),
        timeline=facts.timeline[:3],
        roles=[],
    )
    table = section(render_draft(open_incident, POLICY), "Detection and response")
    assert table.count("| unknown |") == 4


def test_every_action_is_attributed_to_a_role_and_no_person_is_named() -> None:
    facts = realistic_facts()
    draft = render_draft(facts, POLICY)
    timeline = (
        section(draft, "Timeline") + section(draft, "Status updates as sent") + section(draft, "Severity history")
    )
    for user_id, name in PEOPLE.items():
        assert user_id not in timeline
        assert not re.search(rf"@{name}\b|\b{name}\b", timeline), name
    lines = [line for line in section(draft, "Timeline").splitlines() if line.startswith("- **")]
    assert len(lines) == 300
    allowed = {"Incident Commander", "Communications Lead", "Tech Lead", "Scribe", "Responder", "Tocsin"}
    assert {line.split(" · ")[1] for line in lines} <= allowed
    # The handover: alice was IC until minute 20, bob after; their actions say so.
    assert "22:40 Europe/London)** · Incident Commander · Severity: SEV2 → SEV1" in draft
    assert (
        "· Incident Commander · Role: Incident Commander: the Incident Commander "
        "(handed over from the previous Incident Commander)" in draft
    )
    assert "· Incident Commander · Severity: SEV1 → SEV2: mitigated, watching" in draft
    # Pages are automatic; the person acknowledging a page held no role: a responder.
    assert "· Responder · Acknowledged: Page acknowledged (service:checkout)" in draft


def test_a_multi_day_timeline_shows_dates_in_utc_and_the_workspace_zone() -> None:
    draft = render_draft(realistic_facts(), POLICY)
    assert "Times in UTC and Europe/London." in draft
    assert re.search(r"- \*\*2026-11-21 0\d:\d\d UTC \(2026-11-21 0\d:\d\d Europe/London\)\*\*", draft)


def test_status_updates_appear_as_sent_and_severity_history_in_order() -> None:
    facts = realistic_facts()
    draft = render_draft(facts, POLICY)
    updates = section(draft, "Status updates as sent")
    assert updates.count("### ") == sum(1 for e in facts.timeline if e.kind is TimelineKind.UPDATE)
    history = section(draft, "Severity history").splitlines()
    assert history[1:4] == [
        "- Declared at SEV2",
        "- 2026-11-20 22:40 UTC (2026-11-20 22:40 Europe/London) — Incident Commander: "
        "SEV2 → SEV1 (all EU cards failing)",
        "- 2026-11-21 00:06 UTC (2026-11-21 00:06 Europe/London) — Incident Commander: "
        "SEV1 → SEV2 (mitigated, watching)",
    ]


def test_action_items_show_owner_due_date_and_current_state() -> None:
    items = section(render_draft(realistic_facts(), POLICY, mention=canvas_mention), "Action items")
    assert "| Alert on pool saturation | ![](@U0ERIN) | 2026-11-30 | open |" in items
    assert "| Validate pool size in CI | unassigned | no due date | open |" in items
    assert "| Write the config rollback runbook | ![](@U0CAROL) | 2026-11-21 | overdue |" in items
    assert "| Page the DB team sooner | ![](@U0DAVE) | 2026-11-22 | done |" in items


def test_links_name_the_channel_and_every_pinned_message() -> None:
    facts = realistic_facts()
    links = section(render_draft(facts, POLICY), "Links")
    assert (
        "- Incident channel: [#inc-42-checkout-errors](https://slack.com/app_redirect?channel=C0INC42&team=T1)" in links
    )
    pinned = [e for e in facts.timeline if e.permalink]
    assert links.count("- Pinned: ") == len(pinned) > 0
    assert all(e.permalink is not None and e.permalink in links for e in pinned)


def test_the_same_facts_give_the_same_draft() -> None:
    assert render_draft(realistic_facts(), POLICY) == render_draft(realistic_facts(), POLICY)


def test_role_attribution_picks_the_most_senior_role_held_then() -> None:
    spans = [RoleSpan("scribe", "U1", DECLARED), RoleSpan("incident_commander", "U1", DECLARED + timedelta(hours=1))]
    who = RoleAttribution(spans, Policy())
    assert who.role_of("U1", DECLARED + timedelta(minutes=5)) == "Scribe"
    assert who.role_of("U1", DECLARED + timedelta(hours=2)) == "Incident Commander"
    assert who.role_of("U1", DECLARED - timedelta(minutes=1)) == "Responder"
    assert who.role_of(None, DECLARED) == "Tocsin"
    assert who.scrub("ask <@U1|al> and @bob, mail a@b.io", DECLARED + timedelta(hours=2)) == (
        "ask the Incident Commander and a responder, mail a@b.io"
    )


def test_a_custom_template_is_used_and_a_broken_one_names_its_file_and_line(tmp_path: Path) -> None:
    custom = tmp_path / "pm.md.j2"
    custom.write_text("# {{ reference }}\n{% for f in figures %}{{ f.name }}={{ f.text }}\n{% endfor %}")
    draft = render_draft(realistic_facts(events=10), POLICY, template=load_template(str(custom)))
    assert (
        draft == "# INC-42\nTime to detect=12m\nTime to acknowledge=4m\nTime to mitigate=1h 35m\nTime to resolve=3h\n"
    )
    broken = tmp_path / "broken.md.j2"
    broken.write_text("# ok\n\n{% for x in %}\n")
    with pytest.raises(ConfigError, match=r"broken\.md\.j2:3:"):
        load_template(str(broken))
    with pytest.raises(ConfigError, match="cannot read"):
        load_template(str(tmp_path / "missing.j2"))


def test_user_text_stays_literal_markdown_no_mentions_links_html_or_broken_tables() -> None:
    facts = realistic_facts(events=20)
    sneaky = "![](@U0BOB) see [here](https://evil.example) <b>bold</b> a|b"
    facts = PostmortemFacts(
        incident=replace(facts.incident, title="Pay <!channel> | down", cause=sneaky),
        timeline=[*facts.timeline, TimelineEntry(TimelineKind.NOTE, DECLARED, None, sneaky)],
        roles=facts.roles,
        follow_ups=[FollowUp(9, 1, 42, sneaky, "U0ERIN", None, "U0BOB", DECLARED)],
    )
    draft = render_draft(facts, POLICY, mention=canvas_mention)
    assert draft.startswith("# INC-42: Pay \\<!channel\\> \\| down — postmortem (draft)\n")
    escaped = "see \\[here\\](https://evil.example) \\<b\\>bold\\</b\\> a\\|b"
    assert f"| !\\[\\](@U0BOB) {escaped} | ![](@U0ERIN) | no due date | open |" in section(draft, "Action items")
    assert f"!\\[\\](@U0BOB) {escaped}" in section(draft, "Root cause and contributing factors")
    assert f"Note: !\\[\\](a responder) {escaped}" in section(draft, "Timeline")
    assert "![](@U0BOB)" not in draft
