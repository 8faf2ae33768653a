"""The channel context's pure rules: which bridge applies, Jitsi rooms, bookmarks' difference, and when a
channel tidies itself away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.domain.archives import archive_plan, counts_from, has_postmortem
from bot.domain.bookmarks import Bookmark, ChannelThings, KeptBookmark, plan, wanted
from bot.domain.bridges import bridge_for, check_bridge_url, jitsi_room
from bot.domain.errors import UserError
from bot.domain.incidents import Status
from bot.domain.lifecycle import check_reopen
from bot.domain.policy import Policy
from tests.values import BUILT_AT, an_incident

BRIDGES = {
    "bridge": {"kind": "jitsi"},
    "severities": [
        {"name": "SEV1", "bridge": {"kind": "static", "url": "https://meet.example.com/sev1"}},
        {"name": "SEV2"},
        {"name": "SEV3"},
    ],
    "services": {"checkout": {"bridge": {"kind": "zoom"}}},
}


def test_the_most_specific_bridge_wins_service_over_severity_over_the_policy() -> None:
    policy = Policy.model_validate(BRIDGES)
    assert bridge_for(policy, incident_type=None, service="checkout", severity="SEV1").kind == "zoom"  # type: ignore[union-attr]
    assert bridge_for(policy, incident_type=None, service=None, severity="SEV1").url == "https://meet.example.com/sev1"  # type: ignore[union-attr]
    assert bridge_for(policy, incident_type=None, service="unknown", severity="SEV2").kind == "jitsi"  # type: ignore[union-attr]
    assert bridge_for(Policy(), incident_type=None, service=None, severity="SEV2") is None


def test_jitsi_rooms_are_unguessable_and_on_the_configured_server() -> None:
    policy = Policy.model_validate({"bridge": {"kind": "jitsi", "url": "https://jitsi.example.com/"}})
    assert policy.bridge is not None
    rooms = {jitsi_room(policy.bridge.jitsi_server, "INC-4") for _ in range(50)}
    assert len(rooms) == 50
    room = rooms.pop()
    assert room.startswith("https://jitsi.example.com/Tocsin-INC-4-")
    assert len(room.rsplit("-", 1)[1]) == 24  # 96 random bits
    assert Policy.model_validate({"bridge": {"kind": "jitsi"}}).bridge.jitsi_server == "https://meet.jit.si"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bridge", "says"),
    [
        ({"kind": "static"}, "needs its url"),
        ({"kind": "zoom", "url": "https://zoom.us/j/1"}, "makes its own meetings"),
        ({"kind": "jitsi", "client_id_env": "X"}, "only a zoom bridge"),
        ({"kind": "static", "url": "javascript:alert(1)"}, r"not an http\(s\) URL"),
        ({"kind": "skype", "url": "https://x"}, "kind"),
    ],
)
def test_a_bridge_that_cannot_work_is_refused_with_its_reason(bridge: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Policy.model_validate({"bridge": bridge})


def test_archive_after_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="archive_after"):
        Policy.model_validate({"archive_after": "0s"})


def test_a_typed_bridge_url_is_checked() -> None:
    assert check_bridge_url("<https://meet.example.com/a|meet.example.com/a>") == "https://meet.example.com/a"
    assert check_bridge_url(" https://meet.example.com/b ") == "https://meet.example.com/b"
    for bad in ("", "meet.example.com", "https://a b", "ftp://x", "https://" + "a" * 600):
        with pytest.raises(UserError):
            check_bridge_url(bad)


def test_bookmarks_are_added_edited_and_removed_by_what_they_stand_for() -> None:
    things = ChannelThings(
        bridge_url="https://meet/1",
        header_link="https://slack/header",
        runbooks=[("db", "Database", "https://slack/rb")],
        issues=[("GH-1", "https://github/1")],
    )
    want = wanted(things)
    assert [b.kind for b in want] == ["bridge", "header", "runbook", "issue"]
    kept = [
        KeptBookmark("bridge", "bridge", "Bk1", "Join the call", "https://meet/0"),  # the call was replaced
        KeptBookmark("header", "header", "Bk2", "Incident header", "https://slack/header"),  # as it should be
        KeptBookmark("issue", "GH-9", "Bk3", "Follow-up GH-9", "https://github/9"),  # no longer wanted
    ]
    changes = plan(want, kept)
    assert [b.key for b in changes.add] == ["db", "GH-1"]
    assert [(k.bookmark_id, b.link) for k, b in changes.edit] == [("Bk1", "https://meet/1")]
    assert [k.bookmark_id for k in changes.remove] == ["Bk3"]
    made = [KeptBookmark(b.kind, b.key, str(i), b.title, b.link) for i, b in enumerate(want)]
    assert not plan(want, made)
    assert len(Bookmark("issue", "k", "x" * 200, "https://x").title) == 200  # titles are trimmed by `wanted`
    assert all(len(b.title) <= 80 for b in wanted(ChannelThings(runbooks=[("n", "y" * 200, "https://r")])))


def test_the_alert_and_the_url_fields_are_bookmarked_after_the_header() -> None:
    things = ChannelThings(
        header_link="https://slack/header",
        alert_link="https://grafana.example.com/d/api",
        fields=[("Support ticket", "https://tickets/1"), ("Status", "https://status/x")],
        runbooks=[("db", "Database", "https://slack/rb")],
    )
    want = wanted(things)
    assert [(b.kind, b.key) for b in want] == [
        ("header", "header"), ("alert", "alert"), ("field", "Support ticket"), ("field", "Status"), ("runbook", "db")
    ]  # fmt: skip
    assert want[1].title == "Alert source" and want[1].link == "https://grafana.example.com/d/api"
    moved = wanted(ChannelThings(fields=[("Support ticket", "https://tickets/2")]))
    changes = plan(moved, [KeptBookmark("field", "Support ticket", "Bk1", "Support ticket", "https://tickets/1")])
    assert [(k.bookmark_id, b.link) for k, b in changes.edit] == [("Bk1", "https://tickets/2")]
    assert plan([], [KeptBookmark("field", "Support ticket", "Bk1", "x", "y")]).remove  # a cleared field goes


def test_an_incident_is_reopened_once_resolved_or_closed_never_while_open() -> None:
    check_reopen(an_incident(status=Status.RESOLVED))
    check_reopen(an_incident(status=Status.CLOSED))  # its postmortem done (and its channel maybe archived)
    with pytest.raises(UserError, match="not resolved"):
        check_reopen(an_incident(status=Status.MONITORING))


def test_channels_count_down_from_the_postmortem_or_without_one_from_resolution() -> None:
    severities = [{"name": "SEV1"}, {"name": "SEV2"}, {"name": "SEV3"}, {"name": "SEV4", "postmortem": False}]
    policy = Policy.model_validate({"archive_after": "7d", "severities": severities})
    assert counts_from("SEV2", Status.CLOSED, policy)
    assert not counts_from("SEV2", Status.RESOLVED, policy)
    assert counts_from("sev4", Status.RESOLVED, policy) and not has_postmortem("SEV4", policy)
    assert not counts_from("SEV4", Status.CLOSED, policy)  # counted from resolution already: one countdown
    assert not counts_from("SEV4", Status.INVESTIGATING, policy)
    assert not counts_from("SEV4", Status.RESOLVED, Policy())  # every severity has a postmortem by default
    when = archive_plan(policy, since=BUILT_AT)
    assert when is not None
    assert when.archive_at == BUILT_AT + timedelta(days=7) and when.warn_at == BUILT_AT + timedelta(days=6)
    short = archive_plan(Policy.model_validate({"archive_after": "2h"}), since=BUILT_AT)
    assert short is not None and short.warn_at == BUILT_AT  # warned at once when there is less than a day
    assert archive_plan(Policy(), since=BUILT_AT) is None
