"""Every message Tocsin can send follows Slack's escaping rules, whatever the user typed.

The builders are found by introspection (every public function of every module in bot/slack/blocks/), so a
new one is rendered here or the test says what sample it needs. Each is rendered with hostile user text in
every text it takes, and every mrkdwn string and `text` fallback is read as Slack reads it
(tests/slack_double/escaping.py): no bare `&`, no `<…>` that isn't one of Slack's controls, no user text
turned into a mention, a broadcast or a link; plain_text shows no entity.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

import bot.slack.blocks as blocks_package
from bot.domain import handovers
from bot.domain.contact_book import RULES_YOURS, Book, BookEntry, TrialResult
from bot.domain.contact_rules import parse_rule
from bot.domain.errors import UsageError, UserError
from bot.domain.escalation import Page, Plan, Tier
from bot.domain.follow_ups import FollowUp
from bot.domain.heartbeats import HeartbeatState
from bot.domain.incidents import DetectedVia, Incident, Status, TimelineEntry, TimelineKind
from bot.domain.maintenance import Window
from bot.domain.page_digests import Digest, DigestEntry
from bot.domain.policy import Policy
from bot.domain.postmortem import Publication
from bot.domain.related import Candidate, Match
from bot.domain.runbooks import parse_runbook
from bot.domain.shift_values import LogAction, LogEntry, NewRequest, RequestState, ShiftRequest, StoredOverride, Via
from bot.domain.source_message import SourceMessage
from bot.domain.stats import Durations, IncidentStats, SeverityStats
from bot.domain.summary import IncidentSummary, RunbookProgress
from bot.entrypoints.command_parser import parse_command
from bot.entrypoints.command_types import SUBCOMMANDS
from bot.entrypoints.error_replies import reply_for, usage_reply
from bot.slack.blocks.incident import help_message
from bot.slack.mrkdwn import escape, trim
from bot.usecases.going_public import refuse_making_private
from tests.slack_double.escaping import escaping_errors, mrkdwn_errors, plain_text_errors

HOSTILE = "<!channel> & <@U123> <script> <https://evil.example|log in> a>b"
PLANTED = ("<!channel>", "<@U123>", "<https://evil.example|log in>", "<script>")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

# Public functions of bot/slack/blocks/ that build no message text, and why.
NOT_MESSAGES = {
    "forms.fit_metadata": "private_metadata, never shown",
    "forms.form_metadata": "reads a submitted form",
    "forms.form_incident_id": "reads a submitted form",
    "incident.announcement_marker": "a block_id",
    "incident.moved_marker": "a block_id",
    "incident.timeline_pages": "a number",
    "incident.update_text": "the timeline's plain text; escaped wherever it is shown",
    "primitives.section": "takes mrkdwn; every builder's sections are checked",
    "primitives.context": "takes mrkdwn; every builder's context blocks are checked",
    "primitives.button": "plain_text; every builder's buttons are checked",
    "primitives.form_input": "plain_text; every form's inputs are checked",
    "primitives.text_input": "plain_text; every form's inputs are checked",
}
# Parameters that take mrkdwn another builder made (never user text), with such mrkdwn.
MRKDWN_IN = {
    "line": ":busts_in_silhouette: <@U0BOB> is now *Incident Commander* &amp; <#C0INC7>",
    "outcome": ":white_check_mark: Acknowledged by <@U0BOB>.",
    "fallback": "(channel pending)",
    "note": "<@U0BOB> is not on call for *checkout &amp; payments* then.",
}
IDS = {"user_id": "U0BOB", "actor": "U0ALICE", "previous": "U0CAROL", "acknowledged_by": "U0BOB", "target": "U0BOB"}
IDS |= {"channel_id": "C0INC7", "new_channel": "C0PUBLIC", "origin_channel": "C0GENERAL", "subcommand": "declare"}
IDS |= {"reader": "U0BOB", "ended_by": "U0ALICE"}


def discovered_builders() -> dict[str, Callable[..., Any]]:
    """`module.function` for every public function defined in a module of bot/slack/blocks/."""
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.iter_modules(blocks_package.__path__):
        module: ModuleType = importlib.import_module(f"{blocks_package.__name__}.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{info.name}.{name}"] = function
    return found


BUILDERS = discovered_builders()
RENDERED = sorted(name for name in BUILDERS if name not in NOT_MESSAGES)


def policy(text: str) -> Policy:
    """A policy whose free texts (descriptions, role names, services) are `text`."""
    return Policy.model_validate(
        {
            "severities": [
                {"name": "SEV1", "description": text, "update_every": "15m"},
                {"name": "SEV2", "description": text, "update_every": "30m"},
            ],
            "default_severity": "SEV2",
            "services": {"checkout": {"keywords": ["checkout"]}},
        }
    )


def an_incident(text: str) -> Incident:
    """An incident with `text` in everything people write, every role held, resolved, in a channel."""
    return Incident(
        id=1,
        team_id="T1",
        number=7,
        title=text,
        severity="SEV1",
        status=Status.RESOLVED,
        declared_by="U0ALICE",
        declared_at=NOW - timedelta(days=2),
        description=text,
        detected_via=DetectedVia.CUSTOMER,
        channel_id="C0INC7",
        roles={"incident_commander": "U0ALICE", "comms_lead": "U0BOB"},
        acknowledged_by="U0BOB",
        acknowledged_at=NOW - timedelta(days=2),
        resolved_at=NOW - timedelta(hours=1),
        resolution_summary=text,
        customer_impact=text,
        cause=text,
        last_update_at=NOW - timedelta(hours=2),
        next_update_due=NOW - timedelta(minutes=5),
    )


def entries(text: str) -> list[TimelineEntry]:
    """Timeline entries with `text`: one with a real permalink, one whose permalink would break out."""
    return [
        TimelineEntry(TimelineKind.NOTE, NOW, "U0BOB", text, permalink="https://example.slack.com/archives/C1/p1"),
        TimelineEntry(TimelineKind.UPDATE, NOW, None, text, permalink=f"https://evil.example/x|{text}"),
    ]


def a_follow_up(text: str, owner: str | None) -> FollowUp:
    return FollowUp(1, 1, 7, text, owner, date(2026, 11, 20), "U0ALICE", NOW - timedelta(days=3))


def a_page(text: str) -> Page:
    plan = Plan(text, 1, (Tier(("user:U0BOB",), timedelta(minutes=5)),), {}, ack_timeout=timedelta(minutes=30))
    return Page(1, "T1", 1, text, "SEV1", "manual", plan, "triggered", 1, 0, NOW, "U0ALICE", NOW)


def a_digest(text: str, *, ids: bool) -> Digest:
    """A storm's digest: a page still escalating, one acknowledged, one given up."""
    user, channel = ("U0BOB", "C0INC7") if ids else (text, text)
    entries = (
        DigestEntry(1, text, text, "triggered", None, channel),
        DigestEntry(2, text, text, "acknowledged", user, None),
        DigestEntry(3, text, text, "exhausted", None, channel),
    )
    return Digest(1, user, "D0BOB", "1.2", entries)


def a_handover(text: str, *, ids: bool) -> handovers.Digest:
    """A handoff's digest with `text` in every part: open incidents (one private), pages, alerts, notes."""
    incoming, outgoing, channel = ("U0BOB", "U0ALICE", "C0INC7") if ids else (text, text, text)
    return handovers.Digest(
        schedule=text,
        at=NOW,
        since=NOW - timedelta(days=7),
        outgoing=outgoing,
        incoming=incoming,
        incidents=[handovers.OpenIncident(text, text, text, text, channel, private=n % 4 == 0) for n in range(14)],
        pages=[
            handovers.ShiftPage(1, text, text, "acknowledged", NOW - timedelta(hours=3), incoming, NOW),
            *(handovers.ShiftPage(n, text, text, text, NOW - timedelta(hours=2)) for n in range(2, 15)),
        ],
        alerts=[handovers.FiringAlert(text, text, NOW - timedelta(hours=1)) for _ in range(13)],
        notes=[handovers.HandoverNote(outgoing, text, NOW - timedelta(minutes=5)) for _ in range(13)],
    )


def a_shift_request(text: str, state: RequestState, *, ids: bool) -> ShiftRequest:
    """A swap of `text`'s shifts between two people (or two `text`s), in `state`."""
    requester, asked = ("U0ALICE", "U0BOB") if ids else (text, text)
    day = timedelta(days=1)
    asked_for = NewRequest(text, Via.SWAP, requester, asked, NOW, NOW + day, NOW + 2 * day, NOW + 3 * day)
    return ShiftRequest(1, asked_for, state, NOW - timedelta(hours=1), message=("D0BOB", "1.2"))


def log(text: str, *, ids: bool) -> list[LogEntry]:
    """The on-call audit list with every action, its schedule and people `text` unless `ids`."""
    actor, user, other = ("U0ALICE", "U0BOB", "U0CAROL") if ids else (text, text, text)
    return [
        LogEntry(n, text, NOW, actor, action, user, other, NOW, NOW + timedelta(hours=4), n, n)
        for n, action in enumerate(LogAction, start=1)
    ]


def windows(text: str, *, ids: bool) -> list[Window]:
    """Maintenance windows of `text` for `text`: one active, one to come, one recurring; more than a list shows."""
    by = "U0ALICE" if ids else text
    active = Window(1, text, NOW - timedelta(hours=1), NOW + timedelta(hours=1), text, by, declares_page=False)
    later = Window(2, text, NOW + timedelta(days=1), NOW + timedelta(days=2), text, by)
    recurring = Window(3, text, NOW + timedelta(days=3), NOW + timedelta(days=4), "", None, recurring_key=text)
    return [active, later, recurring] * 8


def fits(value: Any, hint: Any) -> bool:
    """Whether `value` could be passed where `hint` is expected (classes, unions and sequences of them)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if origin in (Sequence, list) and args:
        return isinstance(value, (list, tuple)) and all(fits(item, args[0]) for item in value)
    if origin is not None:
        return isinstance(origin, type) and isinstance(value, origin)
    if not isinstance(hint, type) or getattr(hint, "_is_protocol", False):
        return True  # a protocol, Any or a type variable: trust the sample
    return isinstance(value, hint)


def samples(text: str, *, ids: bool) -> dict[str, Any]:
    """An argument for every parameter of every builder, by name: `text` wherever people write, Slack IDs
    where IDs go (or `text` there too, when `ids` is False)."""
    incident = an_incident(text)
    runbook = parse_runbook(
        "db-pool", f"---\ntitle: {text!r}\n---\n## {text}\n" + "".join(f"- [ ] {text} {n}\n" for n in range(12))
    )
    stats = IncidentStats(
        since=NOW - timedelta(days=30),
        until=NOW,
        total=2,
        by_severity=[SeverityStats(text, 2, Durations(1, 600, 600), Durations(2, 240, 300), Durations(2, 5, 5))],
        weekly={date(2026, 11, 16): {text: 2}},
        weekly_mttr={},
        with_service=1,
        repeats=1,
        detected_via={"monitoring": 1},
        open_follow_ups=1,
        overdue_follow_ups=1,
    )
    summary = IncidentSummary(
        incident,
        entries(text)[0],
        tuple(entries(text)),
        (a_follow_up(text, "U0BOB"), a_follow_up(text, None)),
        (a_page(text),),
        (RunbookProgress(text, 1, 3),),
        NOW,
    )
    values: dict[str, Any] = {
        "incident": incident,
        "incidents": [incident, an_incident(text)],
        "policy": policy(text),
        "subcommands": SUBCOMMANDS,
        "shown": entries(text),
        "item": a_follow_up(text, "U0BOB"),
        "items": [a_follow_up(text, "U0BOB"), a_follow_up(text, None)],
        "message": SourceMessage("C0GENERAL", "1.2", "U0BOB", text, permalink=f"https://x.example/{text}"),
        "publication": Publication("file", "F1", 2, link=f"https://files.example/F1|{text}", superseded=text),
        "stats": stats,
        "summary": summary,
        "runbook": runbook,
        "runbooks": [runbook],
        "ticked": {runbook.steps[0].id},
        "posted": {"db-pool"},
        "rows": [(text, "U0BOB", NOW, "bob@example.com"), (text, None, None, None)],
        "users": ["U0BOB", text],
        "reopens": (1, NOW),
        "digest": a_digest(text, ids=ids),
        "notices": a_notice_digest(text),
        "storm": an_announcement_digest(text),
        "counts": Counter({text: 2, f"{text}2": 1}),
        "order": [text],
        "notice": an_alert_notice(text, 0),
        "when": NOW,
        "fmt": "{date_short_pretty} at {time}",
        "chart_file_id": "F1",
        "inputs": [],
        "at": NOW,
        "url": f"https://meet.example/{text}",
        "book": Book(
            (BookEntry("sms", text, "verified"), BookEntry("email", text, "pending")),
            (parse_rule("sms@2m:SEV1", ["SEV1", "SEV2"]), parse_rule("email", ["SEV1", "SEV2"])),
            RULES_YOURS,
            ("sms", "email", "ntfy"),
        ),
        "results": [TrialResult("sms", text), TrialResult("email", text, error=text)],
        "candidate": Candidate(incident, open_follow_ups=2, postmortem=True),
        "lookalike": an_incident(text),
        "found": [Match(Candidate(incident, open_follow_ups=1), 0.9, (text, text))],
        "linked": [Candidate(incident), Candidate(an_incident(text), postmortem=True)],
        "request": a_shift_request(text, RequestState.REFUSED, ids=ids),
        "pending": [a_shift_request(text, RequestState.PENDING, ids=ids)],
        "override": StoredOverride(
            1, text, IDS["user_id"] if ids else text, NOW, NOW + timedelta(hours=4), Via.TAKE, "U0ALICE", NOW, "U0CAROL"
        ),
        "entries": log(text, ids=ids),
        "schedule": text,
        "links": [(text, f"https://tocsin.example/calendar/{text}", False), ("", "https://tocsin.example/c/1", True)],
        "rotated": True,
        "shifts": [(text, NOW + timedelta(days=n), NOW + timedelta(days=n, hours=8), n % 2 == 0) for n in range(10)],
        "window": windows(text, ids=ids)[0],
        "windows": windows(text, ids=ids),
        "missed": [
            HeartbeatState(text, NOW - timedelta(days=1), last_seen_at=NOW - timedelta(hours=2), missed_at=NOW),
            HeartbeatState(text, NOW - timedelta(days=1), missed_at=NOW - timedelta(hours=1)),
        ],
    }
    values |= {name: NOW for name in ("now", "due_at", "next_at")} | {"today": date(2026, 11, 23)}
    values |= {name: 1 for name in ("incident_id", "page_id", "page", "tier")} | {"total": 3, "steps": 3}
    values |= {"created": True, "multi_day": True, "private": True, "optional": True, "multiline": True}
    values |= {"unreachable": True, "offer_issue": True}
    values |= IDS if ids else dict.fromkeys(IDS, text)
    return values | MRKDWN_IN


def same_names(text: str, *, ids: bool) -> dict[str, list[Any]]:
    """Other samples for names that builders use for different things, picked by the parameter's type."""
    return {"digest": [a_handover(text, ids=ids)], "windows": [[text, f"{text} 2"]], "request": [text]}


def render(name: str, text: str, *, ids: bool) -> Any:
    """What builder `name` makes from samples with `text`; fails naming any parameter it has no sample for."""
    function = BUILDERS[name]
    values, others = samples(text, ids=ids), same_names(text, ids=ids)
    hints = typing.get_type_hints(function)
    args: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        hint = hints.get(param.name, Any)
        candidates = [values[param.name], *others.get(param.name, [])] if param.name in values else []
        if fitting := [value for value in candidates if fits(value, hint)]:
            args[param.name] = fitting[0]
        elif hint is str:
            args[param.name] = text  # any other text a builder takes is shown as typed: it must escape it
        elif param.default is inspect.Parameter.empty:
            pytest.fail(f"{name}: give its parameter {param.name!r} a sample in samples()")
    return function(**args)


VARIANTS = {
    "hostile text, real IDs": (HOSTILE, True),
    "hostile text everywhere": (HOSTILE, False),
    "hostile text, long": ((HOSTILE + " ") * 300, False),
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("builder", RENDERED)
def test_every_message_follows_slacks_escaping_rules(builder: str, variant: str) -> None:
    text, ids = VARIANTS[variant]
    assert escaping_errors(render(builder, text, ids=ids), forbidden=PLANTED, where=builder) == []


def test_every_public_builder_is_rendered_or_said_not_to_be_a_message() -> None:
    assert set(NOT_MESSAGES) <= set(BUILDERS), "NOT_MESSAGES names a function that is gone"
    assert {"incident.help_message", "postmortem.postmortem_posted", "paging.page_dm"} <= set(RENDERED)


def test_help_shows_every_placeholder_escaped() -> None:
    text, blocks = help_message(SUBCOMMANDS)
    assert escaping_errors((text, blocks)) == []
    for placeholder in ("title", "role", "1-4", "service", "text", "investigating|identified|monitoring|resolved"):
        assert f"&lt;{placeholder}&gt;" in text
    assert "`/incident status &lt;investigating|identified|monitoring|resolved&gt;` — move the lifecycle" in text


@pytest.mark.parametrize("subcommand", SUBCOMMANDS, ids=lambda s: s.name)
def test_a_usage_reply_shows_its_placeholders(subcommand: Any) -> None:
    reply = usage_reply("Try again.", f"/incident {subcommand.usage}")
    assert mrkdwn_errors(reply) == []
    assert f"`/incident {escape(subcommand.usage)}`" in reply


def slack_sent(text: str) -> str:
    """What Slack sends for typed text with should_escape on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


REFUSED_INPUTS = [
    slack_sent(HOSTILE),
    *(name for name in ("role", "sev", "status", "note", "page", "followup", "summary x", "timeline x", "list x")),
    *(f"{s.name} {slack_sent(HOSTILE)}" for s in SUBCOMMANDS),
    f"role {slack_sent(HOSTILE)} <@U0BOB|bob>",
    f"declare sevX {slack_sent(HOSTILE)}",
    f"followup {slack_sent(HOSTILE)} due 2026-02-30",
]


@pytest.mark.parametrize("typed", REFUSED_INPUTS)
def test_every_refusal_of_the_parser_follows_slacks_escaping_rules(typed: str) -> None:
    try:
        parse_command(typed, policy(HOSTILE))
    except UserError as error:
        assert escaping_errors(reply_for(error), forbidden=PLANTED) == []


def test_other_fixed_replies_follow_slacks_escaping_rules() -> None:
    with pytest.raises(UserError) as refused:
        refuse_making_private(an_incident(HOSTILE))
    assert escaping_errors(reply_for(refused.value)) == []
    assert "&lt;title&gt;" in reply_for(refused.value)
    assert escaping_errors(reply_for(UsageError("Nope.", usage="/incident help"))) == []
    assert escaping_errors(reply_for(RuntimeError("<internal & secret>"))) == []


def test_trimming_never_cuts_an_entity_or_a_control_in_half() -> None:
    text = "x" * 10 + escape("&&&&") + " <@U0BOB> <https://example.com/a|label> " + escape("<<<<")
    for limit in range(1, len(text) + 1):
        assert mrkdwn_errors(trim(text, limit, "…")) == [], limit


def test_the_rules_catch_what_slack_would_misread() -> None:
    assert mrkdwn_errors("`/incident note <text>`")
    assert mrkdwn_errors("R&D")
    assert mrkdwn_errors("a -> b")
    assert mrkdwn_errors("<javascript:alert(1)|x>")
    assert mrkdwn_errors("hi <@U123>", forbidden=["<@U123>"])
    assert mrkdwn_errors("<https://x.example|a & b>")
    assert not mrkdwn_errors("> quoted &amp; <@U1|bob> <#C1> <!here> <!subteam^S1> <https://x.example|x> &lt;x&gt;")
    assert not mrkdwn_errors("<!date^1700000000^{date_short_pretty} at {time}|2023-11-14 22:13 UTC>")
    assert plain_text_errors("&lt;title&gt;") and not plain_text_errors("<title> & co")


def an_alert_notice(text: str, n: int) -> Any:
    """An alert group's notice with `text` as title, severity, service and policy; a hostile URL when n is
    even, a real one when odd."""
    from bot.domain.notice_digests import AlertNotice

    url = "https://grafana.example/d/1" if n % 2 else f"https://evil.example/x|{text}"
    return AlertNotice(f"{text} {n}", f"{text}{n % 3}", f"{text}{n}" if n % 4 else None, text, url)


def an_announcement_digest(text: str) -> Any:
    """A storm of declares: more incidents than a digest names, every field `text`."""
    from bot.domain.announcement_digests import DIGEST_NAMES, AnnouncementDigest

    storm = AnnouncementDigest(opened_at=NOW, last_at=NOW)
    for _ in range(DIGEST_NAMES + 2):
        storm.add(an_incident(text), NOW)
    return storm


def a_notice_digest(text: str) -> Any:
    """A storm's alert notices: twelve of them, every field `text`."""
    from bot.domain.notice_digests import NoticeDigest

    notices = NoticeDigest(opened_at=NOW, last_at=NOW)
    for n in range(12):
        notices.add(an_alert_notice(text, n), NOW)
    return notices
