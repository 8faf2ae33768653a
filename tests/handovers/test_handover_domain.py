"""Handovers' pure parts: when a follow-the-sun schedule is next looked at across daylight-saving
changes, when a late boundary counts as handed over, which services and pages are a schedule's, what a
digest says (escaped, within Slack's limits), and a tier's strategy kept in the page's plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.escalation import Plan, plan_for_policy
from bot.domain.handovers import (
    Digest,
    FiringAlert,
    HandoverNote,
    OpenIncident,
    ShiftPage,
    group_handle,
    handed_over_at,
    is_group_id,
    next_look,
    plan_names_schedule,
    schedule_services,
)
from bot.domain.oncall import on_call
from bot.domain.policy import Policy, Schedule
from bot.slack.blocks.handovers import UNREACHABLE, digest_message, sync_failed_message
from tests.slack_double.blockkit import validate_blocks

LONDON_AND_LA = {
    "timezone": "Europe/London",
    "layers": [
        {"name": "london", "rotation": "daily", "handoff": "08:00", "users": ["U0ALICE"], "hours": "08:00-16:00"},
        {"name": "los-angeles", "rotation": "daily", "handoff": "16:00", "users": ["U0BOB"], "hours": "16:00-08:00"},
    ],
}


def follow_the_sun(timezone: str = "Europe/London") -> Schedule:
    return Schedule.model_validate({**LONDON_AND_LA, "timezone": timezone})


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_follow_the_sun_schedule_hands_over_at_its_wall_clock_across_the_uk_clock_change() -> None:
    schedule = follow_the_sun()
    # British Summer Time ends on Sunday 2026-10-25: 08:00 in London is 07:00 UTC before, 08:00 UTC after.
    looks, now = [], utc(2026, 10, 24, 0, 0)
    for _ in range(4):
        now = next_look(schedule, now)
        looks.append((now, on_call(schedule, now)))
    assert looks == [
        (utc(2026, 10, 24, 7, 0), "U0ALICE"),
        (utc(2026, 10, 24, 15, 0), "U0BOB"),
        (utc(2026, 10, 25, 8, 0), "U0ALICE"),
        (utc(2026, 10, 25, 16, 0), "U0BOB"),
    ]
    assert all(at.tzinfo is UTC for at, _ in looks)


def test_the_same_schedule_kept_in_los_angeles_time_moves_with_the_us_clock_change() -> None:
    schedule = follow_the_sun("America/Los_Angeles")
    # Pacific Daylight Time ends on Sunday 2026-11-01: 08:00 in Los Angeles is 15:00 UTC before, 16:00 after.
    first = next_look(schedule, utc(2026, 10, 31, 12, 0))
    second = next_look(schedule, first)
    third = next_look(schedule, second)
    assert (first, second, third) == (utc(2026, 10, 31, 15, 0), utc(2026, 10, 31, 23, 0), utc(2026, 11, 1, 16, 0))


def test_a_schedule_nobody_hands_over_is_looked_at_again_after_five_weeks() -> None:
    schedule = Schedule.model_validate({"rotation": "weekly", "handoff": "mon 09:00", "users": ["U0ALICE"]})
    now = utc(2026, 11, 23, 10, 0)
    assert next_look(schedule, now) == now + timedelta(days=35)


def test_a_boundary_seen_late_counts_from_now_once_another_handoff_has_passed() -> None:
    schedule = follow_the_sun()
    due = utc(2026, 11, 23, 8, 0)  # alice takes over (London is on UTC in November)
    assert handed_over_at(schedule, due, due + timedelta(minutes=3), "U0ALICE") == due
    assert handed_over_at(schedule, due, due + timedelta(hours=9), "U0BOB") == due + timedelta(hours=9)
    assert handed_over_at(schedule, due, due + timedelta(hours=2), "U0BOB") == due + timedelta(hours=2)


def test_a_schedules_services_are_those_whose_escalation_policy_names_it() -> None:
    policy = Policy.model_validate(
        {
            "schedules": {"sun": LONDON_AND_LA, "other": {"rotation": "daily", "handoff": "09:00", "users": ["U1"]}},
            "escalation_policies": {
                "payments": {"tiers": [{"notify": ["schedule:sun"]}]},
                "search": {"tiers": [{"notify": ["schedule:other"]}]},
            },
            "services": {
                "checkout": {"escalation_policy": "payments"},
                "cart": {"escalation_policy": "payments"},
                "search": {"escalation_policy": "search"},
            },
        }
    )
    assert schedule_services(policy, "sun") == ["checkout", "cart"]
    plan = plan_for_policy("payments", policy).to_json()
    assert plan_names_schedule(plan, "sun") and not plan_names_schedule(plan, "other")


def test_a_tiers_strategy_is_kept_in_the_pages_plan_and_old_plans_notify_everyone() -> None:
    policy = Policy.model_validate(
        {
            "escalation_policies": {
                "payments": {"tiers": [{"notify": ["user:U1", "user:U2"], "strategy": "round_robin"}]}
            }
        }
    )
    stored = plan_for_policy("payments", policy).to_json()
    assert Plan.from_json(stored).tiers[0].strategy == "round_robin"
    del stored["tiers"][0]["strategy"]  # a page stored before tiers had a strategy
    assert Plan.from_json(stored).tiers[0].strategy == "all"


def test_user_groups_are_named_by_id_or_handle() -> None:
    assert is_group_id("S0CHECKOUT") and not is_group_id("checkout-oncall")
    assert group_handle("@Checkout-Oncall ") == "checkout-oncall"


def a_digest(**changes: object) -> Digest:
    at = utc(2026, 11, 23, 9, 0)
    values: dict[str, object] = {
        "schedule": "payments-primary",
        "at": at,
        "since": at - timedelta(days=7),
        "outgoing": "U0BOB",
        "incoming": "U0CAROL",
        "incidents": [
            OpenIncident("INC-4", "Checkout <b>down</b> & out", "SEV1", "investigating", "C0INC4"),
            OpenIncident("INC-5", "Secret thing", "SEV2", "identified", "C0INC5", private=True),
        ],
        "pages": [
            ShiftPage(
                1,
                "INC-4: Checkout",
                "SEV1",
                "acknowledged",
                at - timedelta(hours=3),
                "U0BOB",
                at - timedelta(hours=2, minutes=56),
            ),
            ShiftPage(2, "alert:generic", "SEV3", "exhausted", at - timedelta(hours=1)),
        ],
        "alerts": [FiringAlert("Disk <full>", "generic", at - timedelta(hours=1))],
        "notes": [HandoverNote("U0BOB", "db-2 flaps; <!channel> see runbook", at - timedelta(hours=1))],
    }
    return Digest(**(values | changes))  # type: ignore[arg-type]


def test_the_digest_says_what_the_next_shift_inherits_escaped_and_within_slacks_limits() -> None:
    text, blocks = digest_message(a_digest(), reader="U0CAROL", unreachable=True)
    shown = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "You are on call for *payments-primary* from now, taking over from <@U0BOB>" in text
    assert UNREACHABLE in shown
    assert "Checkout &lt;b&gt;down&lt;/b&gt; &amp; out" in shown and "Secret thing" not in shown
    assert "1 private incident" in shown
    assert "1 acknowledged, 1 not" in shown and "acknowledged by <@U0BOB> in 4m" in shown
    assert "*not acknowledged* (exhausted)" in shown
    assert "Disk &lt;full&gt;" in shown and "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert validate_blocks(blocks) == []


def test_the_outgoing_person_and_the_channel_read_it_from_their_side() -> None:
    outgoing, _ = digest_message(a_digest(), reader="U0BOB")
    channel, _ = digest_message(a_digest(incoming=None), reader=None)
    assert "Your shift on *payments-primary* has ended; <@U0CAROL> has taken over" in outgoing
    assert "passed from <@U0BOB> to nobody" in channel


def test_a_quiet_handover_says_so() -> None:
    _, blocks = digest_message(a_digest(incidents=[], pages=[], alerts=[], notes=[]), reader="U0CAROL")
    assert any("A quiet handover" in b.get("text", {}).get("text", "") for b in blocks)


def test_a_refused_user_group_is_reported_with_slacks_reason() -> None:
    text, blocks = sync_failed_message("payments-primary", "checkout-oncall", "permission_denied")
    assert "`permission_denied`" in text and "usergroups:write" in text
    assert validate_blocks(blocks) == []
