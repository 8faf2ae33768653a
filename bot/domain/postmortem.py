"""The postmortem draft: a pure function of a stored incident, rendered with a Jinja2 template.

Blameless by construction: every timeline action is attributed to the role its author held at that
moment (Incident Commander, Communications Lead, Responder…), and mentions inside recorded text are
replaced the same way, so the draft names roles, never people. Only follow-up owners are named: an
action item needs someone to do it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.domain.custom_fields import plain, shown_fields
from bot.domain.errors import ConfigError
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, RoleSpan, TimelineEntry, TimelineKind, format_age
from bot.domain.policy import Policy
from bot.domain.related import Candidate

RESPONDER = "Responder"
TOCSIN = "Tocsin"
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_BARE_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9][\w.-]*")
_MARKDOWN_SPECIAL = re.compile(r"[\\\[\]<>|]")
_SEVERITY_CHANGE = re.compile(r"^(\S+) → (\S+?)(?:: (.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PostmortemFacts:
    """Everything the draft is made from, as stored."""

    incident: Incident
    timeline: list[TimelineEntry]
    roles: list[RoleSpan]
    follow_ups: list[FollowUp] = field(default_factory=list)
    related: list[Candidate] = field(default_factory=list)  # the incidents linked to it as related
    channel_url: str | None = None
    generated_at: datetime | None = None


def plain_mention(user_id: str) -> str:
    """A follow-up owner in a Markdown file or on a terminal."""
    return f"@{user_id}"


def canvas_mention(user_id: str) -> str:
    """A follow-up owner in a Slack canvas (canvas Markdown's mention syntax)."""
    return f"![](@{user_id})"


class RoleAttribution:
    """Who did something, said as the role they held then."""

    def __init__(self, spans: Iterable[RoleSpan], policy: Policy) -> None:
        """Index the role history; roles rank in the policy's order (the IC first)."""
        self._spans = sorted(spans, key=lambda s: s.start)
        self._names = {r.key: r.name for r in policy.roles}
        self._rank = {r.key: i for i, r in enumerate(policy.roles)}

    def role_of(self, user_id: str | None, when: datetime) -> str:
        """The most senior role `user_id` held at `when`; Responder if none; Tocsin for automatic entries."""
        if user_id is None:
            return TOCSIN
        held = [s.role for s in self._spans if s.user_id == user_id and s.covers(when)]
        if not held:
            return RESPONDER
        return self._name(min(held, key=lambda role: self._rank.get(role, len(self._rank))))

    def _name(self, role: str) -> str:
        return self._names.get(role, role.replace("_", " ").title())

    def scrub(self, text: str, when: datetime) -> str:
        """Recorded text with people replaced by roles: `<@U1>` → “the Incident Commander”, `@bob` → “a responder”."""

        def by_role(match: re.Match[str]) -> str:
            user_id = match.group(1)
            handed_over = [s.role for s in self._spans if s.user_id == user_id and s.end == when]
            if handed_over:  # "… (handed over from <@U1>)": the holder until this moment
                return f"the previous {self._name(handed_over[0])}"
            role = self.role_of(user_id, when)
            return "a responder" if role == RESPONDER else f"the {role}"

        return _BARE_HANDLE.sub("a responder", _MENTION.sub(by_role, text))


@dataclass(frozen=True, slots=True)
class Figure:
    """A detection or response figure: its name, how long, and how it is measured."""

    name: str
    value: timedelta | None
    definition: str

    @property
    def text(self) -> str:
        """The duration as people read it, or a prompt when it is unknown."""
        return format_age(self.value) if self.value is not None else "unknown"


def figures(incident: Incident) -> list[Figure]:
    """Time to detect, acknowledge, mitigate and resolve (definitions as in docs/user-guide.md, Stats)."""
    impact_start = incident.started_at  # the declare form's "when it started", or the alert's start

    def between(start: datetime | None, end: datetime | None) -> timedelta | None:
        return end - start if start is not None and end is not None and end >= start else None

    return [
        Figure("Time to detect", between(impact_start, incident.declared_at), "impact start → declared"),
        Figure("Time to acknowledge", between(incident.declared_at, incident.acknowledged_at), "declared → first ack"),
        Figure("Time to mitigate", between(incident.declared_at, incident.mitigated_at), "declared → mitigated"),
        Figure("Time to resolve", between(incident.declared_at, incident.resolved_at), "declared → resolved"),
    ]


@dataclass(frozen=True, slots=True)
class SeverityChange:
    """One change of severity: when, from, to, why, and by which role."""

    at: datetime
    before: str
    after: str
    reason: str
    by: str


def severity_history(timeline: list[TimelineEntry], attribution: RoleAttribution) -> list[SeverityChange]:
    """Every severity change on the timeline, oldest first."""
    changes = []
    for entry in timeline:
        if entry.kind is not TimelineKind.SEVERITY_CHANGED:
            continue
        match = _SEVERITY_CHANGE.match(entry.text)
        if match is None:
            continue
        before, after, reason = match.group(1), match.group(2), match.group(3) or ""
        by = attribution.role_of(entry.actor, entry.occurred_at)
        changes.append(
            SeverityChange(entry.occurred_at, before, after, attribution.scrub(reason, entry.occurred_at), by)
        )
    return changes


def draft_context(facts: PostmortemFacts, policy: Policy, *, mention: Callable[[str], str]) -> dict[str, Any]:
    """What the template is given: plain values, people already replaced by roles."""
    incident = facts.incident
    zone = ZoneInfo(policy.timezone)
    attribution = RoleAttribution(facts.roles, policy)
    multi_day = _spans_days(facts.timeline, zone)

    def when(at: datetime) -> str:
        utc_fmt = "%Y-%m-%d %H:%M" if multi_day else "%H:%M"
        local = at.astimezone(zone)
        utc = at.strftime(utc_fmt)
        if policy.timezone == "UTC":
            return f"{utc} UTC"
        return f"{utc} UTC ({local.strftime(utc_fmt)} {policy.timezone})"

    timeline = [
        {
            "when": when(e.occurred_at),
            "at": e.occurred_at,
            "kind": e.kind.label,
            "role": attribution.role_of(e.actor, e.occurred_at),
            "text": inert(_one_line(attribution.scrub(e.text, e.occurred_at))),
            "permalink": e.permalink,
            "in_thread": e.in_thread,
        }
        for e in facts.timeline
    ]
    updates = [
        {
            "when": when(e.occurred_at),
            "role": attribution.role_of(e.actor, e.occurred_at),
            "text": inert(attribution.scrub(e.text, e.occurred_at)),
        }
        for e in facts.timeline
        if e.kind is TimelineKind.UPDATE
    ]
    changes = severity_history(facts.timeline, attribution)
    when_now = facts.generated_at or incident.resolved_at or incident.declared_at  # whose role a user field names
    first_severity = changes[0].before if changes else incident.severity
    today = (facts.generated_at or incident.resolved_at or incident.declared_at).date()
    return {
        "incident": incident,
        "reference": incident.reference,
        "title": inert(incident.title),
        "severity": incident.severity,
        "first_severity": first_severity,
        "severity_changes": [
            {"when": when(c.at), "before": c.before, "after": c.after, "reason": inert(c.reason), "by": c.by}
            for c in changes
        ],
        "status": incident.status.label,
        "service": incident.service,
        "incident_type": incident.incident_type,  # a `types:` name, or None
        "fields": [  # the type's fields, in the policy's order (people named as roles, like the timeline)
            {
                "name": spec.name,
                "label": inert(spec.title),
                "value": inert(_one_line(attribution.scrub(plain(spec, value), when_now))),
            }
            for spec, value in shown_fields(incident, policy)
        ],
        "detected_via": incident.detected_via.label if incident.detected_via else None,
        "declared": when(incident.declared_at),
        "resolved": when(incident.resolved_at) if incident.resolved_at else None,
        "duration": format_age(incident.duration(facts.generated_at or incident.declared_at)),
        "summary": inert(incident.resolution_summary or incident.description),
        "description": inert(incident.description),
        "impact": inert(incident.customer_impact),
        "cause": inert(incident.cause),
        "timeline": timeline,
        "updates": updates,
        "figures": figures(incident),
        "follow_ups": [
            {
                "text": inert(f.text),
                "owner": mention(f.owner) if f.owner else "unassigned",
                "due": f.due_on.isoformat() if f.due_on else "no due date",
                "state": "done" if not f.is_open else ("overdue" if f.is_overdue(today) else "open"),
                "issue": inert(f.issue_key) if f.issue_key else None,  # its key in a tracker, once made
                "issue_url": (f.issue_url or "").replace("(", "%28").replace(")", "%29").replace(" ", "%20"),
            }
            for f in facts.follow_ups
        ],
        "pinned": [t for t in timeline if t["permalink"]],
        "related": _related(facts, when),
        "channel_url": facts.channel_url,
        "channel_name": incident.channel_name,
        "timezone": policy.timezone,
        "generated": when(facts.generated_at) if facts.generated_at else None,
    }


def render_draft(
    facts: PostmortemFacts,
    policy: Policy,
    *,
    template: jinja2.Template | None = None,
    mention: Callable[[str], str] = plain_mention,
) -> str:
    """The postmortem draft in Markdown."""
    chosen = template or default_template()
    return chosen.render(**draft_context(facts, policy, mention=mention)).strip() + "\n"


# ----- templates ---------------------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    # Markdown, not HTML: no autoescaping; StrictUndefined so a typo in a custom template is an error.
    return jinja2.Environment(  # noqa: S701 - the output is Markdown, never HTML
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )


@cache
def default_template() -> jinja2.Template:
    """The template shipped with Tocsin (bot/domain/templates/postmortem.md.j2)."""
    source = resources.files("bot.domain").joinpath("templates/postmortem.md.j2").read_text(encoding="utf-8")
    return _environment().from_string(source)


def load_template(path: str | None) -> jinja2.Template:
    """The policy's `postmortem_template` (a path), or the default; ConfigError naming the file and line."""
    if path is None:
        return default_template()
    file = Path(path)
    try:
        return _environment().from_string(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"postmortem_template: cannot read {file}: {exc.strerror}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"postmortem_template: {file}:{exc.lineno}: {exc.message}") from None


def inert(text: str) -> str:
    """User text made literal in Markdown: no links, images or canvas mentions (`![](@U1)`), no HTML,
    no table breaks. Backslash escapes, which Markdown renders as the characters typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


def _spans_days(timeline: list[TimelineEntry], zone: ZoneInfo) -> bool:
    days: set[date] = {e.occurred_at.astimezone(zone).date() for e in timeline}
    days |= {e.occurred_at.date() for e in timeline}
    return len(days) > 1


def _related(facts: PostmortemFacts, when: Callable[[datetime], str]) -> list[dict[str, Any]]:
    """The linked incidents as the draft lists them (a public incident's draft names no private one)."""
    shown = [c for c in facts.related if facts.incident.private or not c.incident.private]
    return [
        {
            "reference": c.incident.reference,
            "title": inert(c.incident.title),
            "severity": c.incident.severity,
            "declared": when(c.incident.declared_at),
            "duration": format_age(c.incident.duration(facts.generated_at or c.incident.declared_at)),
            "open_follow_ups": c.open_follow_ups,
        }
        for c in shown
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Publication:
    """Where a draft went: a canvas or a file, its Slack ID and version, and what it replaced."""

    kind: str
    slack_id: str
    version: int
    link: str | None = None
    superseded: str | None = None  # the previous version's description, when a new file supersedes it
