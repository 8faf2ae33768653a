"""Related incidents in Block Kit: the post in a new incident's channel and the reply to `/incident related`
(each related incident with a Link button), the lines of a summary, and the offer to join an open incident
that looks like the one being declared. Satisfies bot.usecases.related_ports.RelatedViews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.incidents import Incident, format_age
from bot.domain.related import Candidate, Match
from bot.slack.blocks.primitives import Blocks, button, context, section, slack_date
from bot.slack.mrkdwn import escape, trim

RELATED_BLOCK = "related_incidents"  # with the incident's id: the channel post's mark
LINK = "related_link"  # value: "<incident id>:<related incident id>"
JOIN = "related_join"  # value: the open incident's id
DECLARE_ANYWAY = "related_declare_anyway"  # value: the declare, as JSON
TITLE_SHOWN = 120


def _channel_url(incident: Incident) -> str | None:
    if not incident.channel_id:
        return None
    return f"https://slack.com/app_redirect?channel={incident.channel_id}&team={incident.team_id}"


def _name(incident: Incident) -> str:
    """`*INC-4* Checkout errors`, the title escaped (a private incident: its reference only)."""
    if incident.private:
        return f"*{incident.reference}* (private)"
    return f"*{incident.reference}* {escape(trim(incident.title, TITLE_SHOWN, '…'))}"


def describe(candidate: Candidate, *, now: datetime) -> str:
    """One related incident on one line: its severity, date, duration, postmortem and open follow-ups."""
    incident = candidate.incident
    lasted = incident.duration(now)
    parts = [
        _name(incident),
        incident.severity,
        slack_date(incident.declared_at, "{date_short}"),
        f"lasted {format_age(lasted)}" if incident.resolved_at else f"open for {format_age(lasted)}",
    ]
    url = _channel_url(incident)
    if candidate.postmortem and url:
        parts.append(f"<{url}|postmortem>")
    elif not incident.status.is_open:
        parts.append("no postmortem yet")
    if candidate.open_follow_ups:
        count = candidate.open_follow_ups
        parts.append(f"{count} open follow-up{'s' if count != 1 else ''}")
    return " · ".join(parts)


def related_message(
    incident: Incident, found: Sequence[Match], linked: Sequence[Candidate], *, now: datetime, intro: str
) -> tuple[str, Blocks]:
    """Related incidents (each with a Link button and why it is related) and the ones linked already."""
    blocks: list[dict[str, Any]] = [{**section(escape(intro)), "block_id": f"{RELATED_BLOCK}:{incident.id}"}]
    for match in found:
        line = {
            **section(describe(match.candidate, now=now)),
            "accessory": button("Link", LINK, f"{incident.id}:{match.incident.id}"),
        }
        blocks += [line, context(escape("Why: " + "; ".join(match.reasons)))]
    if linked:
        blocks.append(section("*Linked:*\n" + "\n".join(describe(c, now=now) for c in linked)))
    names = ", ".join(m.incident.reference for m in found) or ", ".join(c.incident.reference for c in linked)
    return f"Related incidents: {names}", blocks


def related_lines(found: Sequence[Match], linked: Sequence[Candidate], *, now: datetime) -> list[str]:
    """The same as mrkdwn lines, for a summary."""
    lines = []
    if linked:
        lines.append("*Linked incidents*")
        lines += [f"• {describe(c, now=now)}" for c in linked]
    if found:
        lines.append("*Earlier incidents that look related*")
        lines += [f"• {describe(m.candidate, now=now)}" for m in found]
    return lines


def join_offer(lookalike: Incident, request: str) -> tuple[str, Blocks]:
    """The offer to join an open incident that looks like the same one, or declare anyway."""
    where = f" in <#{lookalike.channel_id}>" if lookalike.channel_id else ""
    text = f"{lookalike.reference} is open and looks like the same incident."
    body = (
        f":eyes: {_name(lookalike)} ({lookalike.severity}) was declared "
        f"{slack_date(lookalike.declared_at, '{time}')}{where} and looks like the same incident. "
        "Join it instead, or declare a new one anyway?"
    )
    actions = {
        "type": "actions",
        "block_id": "related_offer",
        "elements": [
            button(f"Join {lookalike.reference} instead", JOIN, str(lookalike.id), style="primary"),
            button("Declare anyway", DECLARE_ANYWAY, request),
        ],
    }
    return text, [section(body), actions]
