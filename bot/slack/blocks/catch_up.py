"""Block Kit for catching up (`/incident summary`, whoever joins, a new commander): one message with
what someone joining needs to know."""

from __future__ import annotations

from bot.domain.incidents import format_age
from bot.domain.policy import Policy
from bot.domain.summary import IncidentSummary
from bot.slack.blocks.incident_types import bridge_line, type_lines
from bot.slack.blocks.primitives import (
    MAX_MESSAGE_TEXT,
    MAX_SECTION_TEXT,
    Blocks,
    channel_link,
    context,
    incident_title_line,
    section,
    slack_date,
)
from bot.slack.mrkdwn import escape, mention, trim

FOLLOW_UPS_SHOWN = 5


def catch_up_message(summary: IncidentSummary, policy: Policy) -> tuple[str, Blocks]:
    """The summary as a message: state, roles, the last update, recent events, follow-ups, pages, runbooks."""
    incident, now = summary.incident, summary.now
    running = "ran" if incident.resolved_at else "running"
    head = (
        f":information_source: *{incident_title_line(incident)}* · *{incident.severity}* · "
        f"{incident.status.label} · {running} {format_age(incident.duration(now))} · "
        f"{channel_link(incident.channel_id)}"
    )
    roles = " · ".join(
        f"{role.name} {mention(incident.roles[role.key])}" for role in policy.roles if role.key in incident.roles
    )
    lines = [head, f"*Roles:* {roles or 'none assigned'}"]
    if typed := type_lines(incident, policy):  # its type and the type's fields
        lines.append(" · ".join(typed))
    if (call := bridge_line(incident)) is not None:
        lines.append(call)
    update = summary.last_update
    if update is not None:
        said = trim(escape(update.text), 600)
        by = f" by {mention(update.actor)}" if update.actor else ""
        lines.append(f"*Last update* {slack_date(update.occurred_at)}{by}:\n>{said}")
    else:
        lines.append("*Last update:* none yet")
    if incident.status.is_open:
        due = incident.next_update_due
        lines.append(f"*Next update due:* {slack_date(due) if due else 'no reminder at this severity'}")
    if summary.recent:
        recent = [
            f"• {slack_date(e.occurred_at, '{time}')} *{e.kind.label}* · {mention(e.actor or '')} — "
            f"{trim(escape(e.text), 200)}"
            for e in summary.recent
        ]
        lines.append("*Recently:*\n" + "\n".join(recent))
    if summary.open_follow_ups:
        shown = summary.open_follow_ups[:FOLLOW_UPS_SHOWN]
        more = len(summary.open_follow_ups) - len(shown)
        items = [f"• {trim(escape(f.text), 150)}" + (f" ({mention(f.owner)})" if f.owner else "") for f in shown]
        lines.append("*Open follow-ups:*\n" + "\n".join(items) + (f"\n…and {more} more" if more > 0 else ""))
    if summary.active_pages:
        pages = [
            f"• step {p.tier} of {escape(p.plan.name)}, since {slack_date(p.created_at)}" for p in summary.active_pages
        ]
        lines.append("*Paging now (not yet acknowledged):*\n" + "\n".join(pages))
    if summary.runbooks:
        books = [f"• {escape(r.name)}: {r.ticked} of {r.total} steps ticked" for r in summary.runbooks]
        lines.append("*Runbooks:*\n" + "\n".join(books))
    blocks: Blocks = [section(trim(line, MAX_SECTION_TEXT)) for line in lines]
    blocks.append(context("`/incident timeline` shows everything that happened."))
    return trim("\n".join(lines), MAX_MESSAGE_TEXT), blocks
