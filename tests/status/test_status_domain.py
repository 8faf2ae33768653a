"""The status page's arithmetic, pure: which components an open public incident degrades and how (per the
policy's severity mapping), 90 days of history per component, the page's overall indicator, and that
only published incidents (never a private one) are shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.errors import UserError
from bot.domain.incidents import Status
from bot.domain.policy import Policy, Service
from bot.domain.status_page import (
    Maintenance,
    PublicIncident,
    PublicStatus,
    PublicUpdate,
    PublicWording,
    build_snapshot,
    default_title,
)
from bot.domain.status_policy import ComponentState, StatusPagePolicy

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def policy(**status_page: object) -> Policy:
    """checkout and api on the page; billing-db is internal."""
    services = {
        "checkout": Service(status_page=True),
        "api": Service(status_page=True),
        "billing-db": Service(),
    }
    return Policy(services=services, status_page=StatusPagePolicy.model_validate(status_page))


def incident(
    public_id: str, *, severity: str = "SEV2", service: str | None = "checkout", **times: datetime
) -> PublicIncident:
    """Published at `opened` (default: an hour ago); resolved at `resolved` if given."""
    opened = times.get("opened", NOW - timedelta(hours=1))
    updates = [PublicUpdate(1, PublicStatus.INVESTIGATING, "Looking into it", opened)]
    if "resolved" in times:
        updates.append(PublicUpdate(2, PublicStatus.RESOLVED, "Fixed", times["resolved"]))
    return PublicIncident(public_id, f"Trouble {public_id}", severity, service, tuple(updates))


def states(snapshot_components: object) -> dict[str, ComponentState]:
    return {c.name: c.state for c in snapshot_components}  # type: ignore[attr-defined]


def test_with_nothing_published_every_component_is_operational_and_all_is_well() -> None:
    page = build_snapshot([], policy(), now=NOW)
    assert states(page.components) == {"checkout": ComponentState.OPERATIONAL, "api": ComponentState.OPERATIONAL}
    assert (page.indicator.level, page.indicator.description) == ("none", "All Systems Operational")
    assert page.open_incidents == () and page.past_incidents == ()


def test_only_services_marked_for_the_status_page_are_components() -> None:
    page = build_snapshot([incident("a", service="billing-db")], policy(), now=NOW)
    assert [c.name for c in page.components] == ["checkout", "api"]
    assert page.incident_components["a"] == ()  # an internal service's name never shows


@pytest.mark.parametrize(
    ("severity", "state", "level"),
    [
        ("SEV1", ComponentState.MAJOR_OUTAGE, "critical"),
        ("SEV2", ComponentState.PARTIAL_OUTAGE, "major"),
        ("SEV3", ComponentState.DEGRADED_PERFORMANCE, "minor"),
        ("SEV4", ComponentState.DEGRADED_PERFORMANCE, "minor"),  # not in the mapping: degraded
    ],
)
def test_an_open_public_incident_shows_its_component_per_the_default_mapping(
    severity: str, state: ComponentState, level: str
) -> None:
    page = build_snapshot([incident("a", severity=severity)], policy(), now=NOW)
    assert states(page.components) == {"checkout": state, "api": ComponentState.OPERATIONAL}
    assert page.indicator.level == level


def test_the_policy_mapping_decides_and_the_worst_open_incident_wins() -> None:
    mapped = policy(component_states={"SEV3": "major_outage", "sev2": "degraded_performance"})
    shown = [incident("a", severity="SEV2"), incident("b", severity="SEV3"), incident("c", service="api")]
    page = build_snapshot(shown, mapped, now=NOW)
    assert states(page.components) == {
        "checkout": ComponentState.MAJOR_OUTAGE,
        "api": ComponentState.DEGRADED_PERFORMANCE,
    }
    assert (page.indicator.level, page.indicator.description) == ("critical", "Major Service Outage")


def test_a_resolved_incident_leaves_its_component_operational_and_moves_to_past_incidents() -> None:
    done = incident("a", severity="SEV1", opened=NOW - timedelta(hours=3), resolved=NOW - timedelta(hours=1))
    page = build_snapshot([done], policy(), now=NOW)
    assert states(page.components)["checkout"] is ComponentState.OPERATIONAL
    assert page.open_incidents == () and [i.public_id for i in page.past_incidents] == ["a"]
    assert page.indicator.level == "none"


def test_history_keeps_ninety_days_with_the_worst_state_of_each_day() -> None:
    old = incident("old", severity="SEV3", opened=NOW - timedelta(days=10, hours=2), resolved=NOW - timedelta(days=8))
    bad = incident("bad", severity="SEV1", opened=NOW - timedelta(days=9), resolved=NOW - timedelta(days=9, hours=-1))
    page = build_snapshot([old, bad], policy(), now=NOW)
    history = {d.day: d for d in page.components[0].history}
    assert len(history) == 90 and min(history) == date(2026, 8, 26) and max(history) == date(2026, 11, 23)
    assert history[date(2026, 11, 13)].state is ComponentState.DEGRADED_PERFORMANCE
    assert history[date(2026, 11, 14)].state is ComponentState.MAJOR_OUTAGE  # both that day: the worst
    assert history[date(2026, 11, 14)].incidents == ("Trouble old", "Trouble bad")
    assert history[date(2026, 11, 15)].state is ComponentState.DEGRADED_PERFORMANCE
    assert history[date(2026, 11, 16)].state is ComponentState.OPERATIONAL
    assert all(d.state is ComponentState.OPERATIONAL for d in page.components[1].history)


def test_an_incident_resolved_before_the_history_is_left_out() -> None:
    ancient = incident("x", opened=NOW - timedelta(days=120), resolved=NOW - timedelta(days=100))
    page = build_snapshot([ancient], policy(), now=NOW)
    assert page.past_incidents == ()
    assert all(d.state is ComponentState.OPERATIONAL for d in page.components[0].history)


def test_days_are_the_policy_time_zone_s() -> None:
    late = incident(
        "a", opened=datetime(2026, 11, 20, 23, 30, tzinfo=UTC), resolved=datetime(2026, 11, 20, 23, 50, tzinfo=UTC)
    )
    tokyo = Policy(services={"checkout": Service(status_page=True)}, timezone="Asia/Tokyo")
    history = {d.day: d.state for d in build_snapshot([late], tokyo, now=NOW).components[0].history}
    assert history[date(2026, 11, 21)] is ComponentState.PARTIAL_OUTAGE  # 08:30 on the 21st in Tokyo
    assert history[date(2026, 11, 20)] is ComponentState.OPERATIONAL


def test_a_private_incident_or_one_without_updates_is_never_shown() -> None:
    secret = PublicIncident("p", "Secret", "SEV1", "checkout", incident("p").updates, private=True)
    empty = PublicIncident("e", "Empty", "SEV1", "checkout", ())
    page = build_snapshot([secret, empty], policy(), now=NOW)
    assert page.incidents == () and page.indicator.level == "none"
    assert all(d.state is ComponentState.OPERATIONAL for d in page.components[0].history)


def test_the_default_public_title_names_only_a_component() -> None:
    assert default_title("checkout", policy()) == "Investigating an issue with checkout"
    assert default_title("billing-db", policy()) == "Investigating an issue"
    assert default_title(None, policy()) == "Investigating an issue"


def test_public_wording_is_trimmed_and_refused_when_empty_or_too_long() -> None:
    assert PublicWording("  We are on it \n", "  ").checked() == PublicWording("We are on it", None)
    with pytest.raises(UserError, match="customers should read"):
        PublicWording("   ").checked()
    with pytest.raises(UserError, match="at most"):
        PublicWording("x" * 5001).checked()
    with pytest.raises(UserError, match="title is at most"):
        PublicWording("ok", "t" * 121).checked()


def test_postmortem_done_reads_as_resolved_publicly() -> None:
    assert PublicStatus.of(Status.CLOSED) is PublicStatus.RESOLVED
    assert PublicStatus.of(Status.IDENTIFIED) is PublicStatus.IDENTIFIED


def test_scheduled_maintenance_is_passed_through_for_the_page_to_show() -> None:
    window = Maintenance("Database upgrade", NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2))
    assert build_snapshot([], policy(), now=NOW, maintenances=[window]).maintenances == (window,)


def test_the_policy_refuses_an_unknown_component_state() -> None:
    with pytest.raises(ValueError, match="component_states"):
        policy(component_states={"SEV1": "on_fire"})


def test_the_section_names_what_refers_to_nothing_for_the_policy_check() -> None:
    section = StatusPagePolicy.model_validate(
        {
            "component_states": {"SEV1": "major_outage", "SEV9": "partial_outage"},
            "publish": ["incident_commander", "admins", "U0ALICE", "@bob"],
            "statuspage": {"page_id": "abc", "components": {"checkout": "c1", "ghost": "c2"}},
        }
    )
    found = section.problems(
        severity_known=lambda name: name in ("SEV1", "SEV2"), roles={"incident_commander"}, services={"checkout"}
    )
    assert found[0] == "status_page.component_states: 'SEV9' is not a severity"
    assert found[1].startswith("status_page.publish[3]: ")
    assert found[2] == "status_page.statuspage.components: unknown service 'ghost'"
    assert len(found) == 3
