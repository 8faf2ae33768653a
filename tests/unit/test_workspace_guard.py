"""Whose request it is, read from Slack Connect payloads in the shapes Slack sends (those bolt-python's
tests record for shared channels between a workspace and another organisation). Tocsin is installed in
T0OURS; the other organisation is the workspace T0THEIRS in the Enterprise Grid org E0THEIRS."""

from __future__ import annotations

from typing import Any

import pytest

from bot.entrypoints.workspace_guard import OUTSIDER_REASON, Workspace, refusal, stranger

OURS = Workspace("T0OURS")
BOT = {"enterprise_id": None, "team_id": "T0OURS", "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}


def envelope(event: dict[str, Any], **outer: Any) -> dict[str, Any]:
    """An event_callback from a shared channel, our installation in its authorizations."""
    return {
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": "Ev0001",
        "authorizations": [BOT],
        "is_ext_shared_channel": True,
        "event": event,
        **outer,
    }


THEIRS_CONTEXT = {"context_team_id": "T0THEIRS", "context_enterprise_id": "E0THEIRS"}
# (what happened, the payload, whose it is: None for ours to act on, else the other workspace named)
SHARED_CHANNEL_EVENTS = [
    (
        "our person posts in a channel the other organisation hosts",
        envelope({"type": "message", "user": "U0OURS", "team": "T0OURS", "channel": "C0SHARED"},
                 team_id="T0OURS", **THEIRS_CONTEXT),
        None,
    ),
    (
        "our person mentions the bot",
        envelope({"type": "app_mention", "user": "U0OURS", "team": "T0OURS", "channel": "C0SHARED"}, team_id="T0OURS"),
        None,
    ),
    (
        "our person mentions the bot, the envelope naming the other organisation",
        envelope(
            {"type": "app_mention", "user": "U0OURS", "team": "T0THEIRS", "user_team": "T0OURS",
             "source_team": "T0OURS", "user_profile": {"team": "T0OURS"}, "channel": "C0SHARED"},
            team_id="T0THEIRS", enterprise_id="E0THEIRS",
        ),
        None,
    ),
    (
        "one of ours joins (channel_join message)",
        envelope({"type": "message", "subtype": "channel_join", "user": "U0OURS", "team": "T0OURS",
                  "inviter": "U0OURS2", "channel": "C0SHARED"}, team_id="T0OURS", **THEIRS_CONTEXT),
        None,
    ),
    (
        "one of ours joins (member_joined_channel), the envelope naming the other organisation",
        envelope({"type": "member_joined_channel", "user": "U0OURS", "channel": "C0SHARED", "team": "T0OURS",
                  "inviter": "U0OURS2"}, team_id="T0THEIRS", enterprise_id="E0THEIRS",
                 context_team_id="T0OURS", context_enterprise_id=None),
        None,
    ),
    (
        "one of ours leaves (member_left_channel)",
        envelope({"type": "member_left_channel", "user": "U0OURS", "channel": "C0SHARED", "team": "T0OURS"},
                 team_id="T0THEIRS", enterprise_id="E0THEIRS", context_team_id="T0OURS"),
        None,
    ),
    (
        "one of ours shares a file",
        envelope({"type": "message", "subtype": "file_share", "files": [], "user": "U0OURS", "team": "T0OURS",
                  "channel": "C0SHARED"}, team_id="T0OURS", **THEIRS_CONTEXT),
        None,
    ),
    (
        "a reaction (reactions name no team): judged by where it happened, ours",
        envelope({"type": "reaction_added", "user": "U0SOMEONE", "reaction": "eyes",
                  "item": {"type": "message", "channel": "C0SHARED", "ts": "1678453386.979699"}},
                 team_id="T0OURS", context_team_id="T0OURS", context_enterprise_id=None),
        None,
    ),
    (
        "their person posts",
        envelope({"type": "message", "user": "U0THEIRS", "team": "T0THEIRS", "channel": "C0SHARED"},
                 team_id="T0THEIRS", enterprise_id="E0THEIRS", context_team_id="T0OURS"),
        "T0THEIRS",
    ),
    (
        "their person mentions the bot from their org",
        envelope({"type": "app_mention", "user": "W0THEIRS", "team": "T0OURS", "user_team": "E0THEIRS",
                  "source_team": "E0THEIRS", "channel": "C0SHARED"}, team_id="T0OURS"),
        "E0THEIRS",
    ),
    (
        "their bot posts message metadata",
        envelope({"type": "message", "user": "W0THEIRBOT", "bot_id": "B0THEIRS", "team": "T0THEIRS",
                  "channel": "C0SHARED", "bot_profile": {"id": "B0THEIRS", "team_id": "T0THEIRS"}},
                 team_id="T0THEIRS", enterprise_id="E0THEIRS", **THEIRS_CONTEXT),
        "T0THEIRS",
    ),
    (
        "their person edits their message",
        envelope({"type": "message", "subtype": "message_changed", "channel": "C0SHARED",
                  "message": {"type": "message", "user": "U0THEIRS", "team": "T0THEIRS", "ts": "1.000001"},
                  "previous_message": {"type": "message", "user": "U0THEIRS", "team": "T0THEIRS", "ts": "1.000001"}},
                 team_id="T0THEIRS", context_team_id="T0OURS"),
        "T0THEIRS",
    ),
    (
        "a file shared where the event names nobody's team: judged by the envelope, theirs",
        envelope({"type": "file_shared", "file_id": "F0001", "user_id": "U0SOMEONE", "file": {"id": "F0001"},
                  "channel_id": "C0SHARED"}, team_id="T0THEIRS", enterprise_id="E0THEIRS"),
        "T0THEIRS",
    ),
    (
        "an event for another installation of the app",
        {**envelope({"type": "message", "user": "U0OURS", "team": "T0OURS", "channel": "C0SHARED"},
                    team_id="T0OURS"), "authorizations": [{**BOT, "team_id": "T0THEIRS"}]},
        "T0THEIRS",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "payload", "theirs"), SHARED_CHANNEL_EVENTS, ids=[c[0] for c in SHARED_CHANNEL_EVENTS]
)
def test_a_shared_channel_event_is_judged_by_who_acted(what: str, payload: dict[str, Any], theirs: str | None) -> None:
    assert stranger(payload, OURS) == theirs


def interaction(kind: str, *, user_team: str, team: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "team": {"id": team, "domain": "x"},
        "user": {"id": "U0X", "username": "x", "team_id": user_team},
        "api_app_id": "A0APP",
        "trigger_id": "1.2.3",
        **extra,
    }


def test_a_form_or_click_by_their_person_is_theirs_and_by_ours_is_ours() -> None:
    form_view = {"id": "V0", "team_id": "T0OURS", "app_installed_team_id": "T0OURS", "type": "modal"}
    theirs = interaction("view_submission", user_team="T0THEIRS", team="T0THEIRS", view=form_view)
    assert stranger(theirs, OURS) == "T0THEIRS"
    assert stranger(interaction("view_submission", user_team="T0OURS", team="T0OURS", view=form_view), OURS) is None
    assert stranger(interaction("block_actions", user_team="T0THEIRS", team="T0OURS"), OURS) == "T0THEIRS"
    assert stranger(interaction("block_actions", user_team="T0OURS", team="T0OURS"), OURS) is None
    elsewhere = {**form_view, "app_installed_team_id": "T0THEIRS"}  # a form of their installation
    assert stranger(interaction("view_submission", user_team="T0OURS", team="T0OURS", view=elsewhere), OURS) == (
        "T0THEIRS"
    )


def test_a_command_names_its_sender_s_workspace_and_org() -> None:
    command = {"command": "/incident", "text": "list", "team_id": "T0OURS", "user_id": "U0X", "channel_id": "C0"}
    assert stranger(command, OURS) is None
    assert stranger({**command, "team_id": "T0THEIRS"}, OURS) == "T0THEIRS"
    assert stranger({**command, "enterprise_id": "E0THEIRS"}, OURS) == "E0THEIRS"
    assert stranger({**command, "enterprise_id": "E0OURS"}, Workspace("T0OURS", "E0OURS")) is None


def test_the_refusal_tells_a_command_s_or_form_s_sender_why() -> None:
    command = {"command": "/incident", "text": "list", "team_id": "T0THEIRS"}
    assert refusal(command) == {"response_type": "ephemeral", "text": OUTSIDER_REASON}
    blocks = [{"type": "section", "block_id": "intro"}, {"type": "input", "block_id": "known"}]
    form = {"type": "view_submission", "view": {"id": "V0", "blocks": blocks}}
    assert refusal(form) == {"response_action": "errors", "errors": {"known": OUTSIDER_REASON}}
    assert refusal({"type": "block_actions"}) == ""  # Slack shows nothing of a click's acknowledgement
