"""Block Kit for learning from incidents: the postmortem summary, follow-ups and the stats message.

Pure, like the rest of bot/slack/blocks/, whose helpers (and so its limits and escaping) it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, format_age
from bot.domain.postmortem import Publication, figures
from bot.domain.stats import IncidentStats
from bot.slack.blocks.forms import incident_form
from bot.slack.blocks.primitives import (
    MAX_BLOCKS_MESSAGE,
    MAX_MESSAGE_TEXT,
    Blocks,
    button,
    context,
    form_input,
    incident_title_line,
    section,
    text_input,
)
from bot.slack.ids import SLASH_COMMAND, Action, Block, View
from bot.slack.mrkdwn import code, escape, link, mention, trim

FOLLOW_UPS_SHOWN = 20  # each takes two blocks; the list stays within a message's 50


def postmortem_posted(incident: Incident, publication: Publication) -> tuple[str, Blocks]:
    """The short message beside the draft: where it is, the headline figures, what to do next."""
    if publication.kind == "canvas":
        where = "in this channel's canvas (the canvas icon at the top of the channel)"
    else:
        name = f"{incident.reference}-postmortem-v{publication.version}.md"
        where = link(publication.link, name)
    if publication.version == 1:
        head = f":memo: *The postmortem draft for {incident_title_line(incident)} is ready* {where}."
    else:
        superseded = f"; it supersedes {escape(publication.superseded)}" if publication.superseded else ""
        head = (
            f":memo: *The postmortem draft for {incident_title_line(incident)} was regenerated* "
            f"(version {publication.version}) {where}{superseded}."
        )
    numbers = " · ".join(f"{f.name}: {f.text}" for f in figures(incident) if f.value is not None)
    ask = (
        "Fill in the root cause, what went well and what could be improved; add action items with "
        f"{code(f'{SLASH_COMMAND} followup <text> [@owner] [due YYYY-MM-DD]')} or the button."
    )
    blocks: Blocks = [section(head)]
    if numbers:
        blocks.append(context(numbers))
    blocks += [
        section(ask),
        {
            "type": "actions",
            "elements": [
                button("Add follow-up", Action.FOLLOW_UP_ADD, str(incident.id)),
                button("Postmortem done", Action.POSTMORTEM_DONE, str(incident.id)),
            ],
        },
    ]
    return f"{head}\n{numbers}", blocks


def follow_up_modal(incident: Incident) -> dict[str, Any]:
    """The Add follow-up form: what, who, by when."""
    inputs = [
        text_input(Block.FOLLOW_UP_TEXT, "Action item"),
        form_input(Block.FOLLOW_UP_OWNER, "Owner", {"type": "users_select", "action_id": "value"}, optional=True),
        form_input(Block.FOLLOW_UP_DUE, "Due", {"type": "datepicker", "action_id": "value"}, optional=True),
    ]
    return incident_form(incident, View.FOLLOW_UP, title="Add a follow-up", submit="Add", inputs=inputs)


def _describe(item: FollowUp, today: date) -> str:
    owner = mention(item.owner)
    if item.due_on is None:
        due = "no due date"
    elif item.is_overdue(today):
        due = f"*overdue* since {item.due_on.isoformat()}"
    else:
        due = f"due {item.due_on.isoformat()}"
    state = ":white_check_mark: done · " if not item.is_open else ""
    return f"{state}{escape(item.text)} — {owner} · {due} · {item.incident_reference}"


def follow_up_added(item: FollowUp, today: date) -> str:
    """The note in the channel when someone adds a follow-up."""
    return f":clipboard: Follow-up added: {_describe(item, today)}"


def follow_up_list(items: Sequence[FollowUp], *, heading: str, today: date) -> tuple[str, Blocks]:
    """Follow-ups with a Done button on each open one (ephemeral)."""
    if not items:
        text = f"{escape(heading)}: none."
        return text, [section(text)]
    shown = list(items[:FOLLOW_UPS_SHOWN])
    blocks: Blocks = [section(f"*{escape(heading)}* ({len(items)})")]
    for item in shown:
        line = section(_describe(item, today))
        if item.is_open:
            line["accessory"] = button("Done", Action.FOLLOW_UP_DONE, str(item.id), style="primary")
        blocks.append(line)
    if len(items) > len(shown):
        blocks.append(context(f"… and {len(items) - len(shown)} more; narrow it with `mine` or an incident."))
    assert len(blocks) <= MAX_BLOCKS_MESSAGE
    text = escape(heading) + "\n" + "\n".join(_describe(i, today) for i in shown)
    return trim(text, MAX_MESSAGE_TEXT), blocks


def follow_up_reminder(item: FollowUp, *, today: date) -> tuple[str, Blocks]:
    """The owner's DM on the due date, and weekly while it stays open."""
    if item.due_on is not None and item.due_on < today:
        days = (today - item.due_on).days
        head = f":alarm_clock: A follow-up you own is *overdue by {days} day{'s' if days != 1 else ''}*"
    else:
        head = ":alarm_clock: A follow-up you own is *due today*"
    line = section(f"{head}: {escape(item.text)} ({item.incident_reference})")
    line["accessory"] = button("Done", Action.FOLLOW_UP_DONE, str(item.id), style="primary")
    return f"{head}: {escape(item.text)}", [line, context("You'll be reminded weekly until it is marked done.")]


def _duration(seconds: float | None) -> str:
    return format_age(timedelta(seconds=seconds)) if seconds is not None else "n/a"


def _share(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "n/a"


WEEKS_SHOWN = 12


def stats_message(stats: IncidentStats, *, window: str, chart_file_id: str | None = None) -> tuple[str, Blocks]:
    """`/incident stats`: figures per severity, weekly frequency, repeats, detection, follow-ups."""
    since = f" (since {stats.since.date().isoformat()})" if stats.since else ""
    head = f"*Incident stats · {escape(window)}{since}* · {stats.total} incident{'s' if stats.total != 1 else ''}"
    blocks: Blocks = [section(head)]
    if not stats.total:
        blocks.append(context("No incidents were declared in this window."))
    for row in stats.by_severity:
        blocks.append(
            section(
                f"*{escape(row.severity)}* · {row.incidents} incident{'s' if row.incidents != 1 else ''}\n"
                f"MTTD {_duration(row.detect.median)} median / {_duration(row.detect.mean)} mean "
                f"({row.detect.count} with a known start)\n"
                f"MTTA {_duration(row.acknowledge.median)} / {_duration(row.acknowledge.mean)} "
                f"({row.acknowledge.count} acknowledged) · "
                f"MTTR {_duration(row.resolve.median)} / {_duration(row.resolve.mean)} ({row.resolve.count} resolved)"
            )
        )
    if stats.weekly:
        lines = [
            f"{week.isoformat()}: " + ", ".join(f"{escape(sev)} {n}" for sev, n in sorted(counts.items()))
            for week, counts in list(stats.weekly.items())[-WEEKS_SHOWN:]
        ]
        blocks.append(section("*Incidents per week* (week starting)\n" + "\n".join(lines)))
    detection = " · ".join(
        f"{label} {_share(stats.detection_share(key))}"
        for key, label in (("monitoring", "monitoring"), ("customer", "customers"), ("internal", "internal"))
    )
    repeat = f"{_share(stats.repeat_rate)} ({stats.repeats} of {stats.with_service} with a service)"
    blocks.append(
        section(
            f"*Detected by* {detection} · not recorded {_share(stats.detection_share('unknown'))}\n"
            f"*Repeat incidents* {repeat}\n"
            f"*Follow-ups* {stats.open_follow_ups} open, {stats.overdue_follow_ups} overdue"
        )
    )
    if chart_file_id is not None:
        blocks.append(
            {
                "type": "image",
                "slack_file": {"id": chart_file_id},
                "alt_text": "Mean time to resolve by severity, per week",
            }
        )
    blocks.append(context("Definitions: `/incident help` and the user guide's Stats section (docs/user-guide.md)."))
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    return trim(text, MAX_MESSAGE_TEXT), blocks
