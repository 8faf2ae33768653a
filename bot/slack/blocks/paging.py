"""Reminders, page DMs and on-call lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.incidents import Incident
from bot.domain.page_digests import Digest, DigestEntry
from bot.slack.blocks.primitives import (
    CONTROLS_BLOCK,
    MAX_SECTION_TEXT,
    Blocks,
    button,
    channel_link,
    context,
    incident_title_line,
    section,
    slack_date,
)
from bot.slack.ids import Action
from bot.slack.mrkdwn import escape, mention, trim

PAGE_BLOCK = "page"
PAGE_DIGEST_BLOCK = "pagedigest"


def _post_update_button(incident: Incident) -> dict[str, Any]:
    """The Post update button, wired like the header's (its block_id names the incident)."""
    return {
        "type": "actions",
        "block_id": f"{CONTROLS_BLOCK}:{incident.id}",
        "elements": [button("Post update", Action.POST_UPDATE, str(incident.id), style="primary")],
    }


def reminder_nag(incident: Incident, *, target: str | None, due_at: datetime) -> tuple[str, Blocks]:
    """The in-channel nag when an update is overdue, with the Post update button."""
    line = (
        f":alarm_clock: {mention(target)} an update on *{incident_title_line(incident)}* was due "
        f"{slack_date(due_at, '{time}')}. Post one so stakeholders know where things stand."
    )
    return line, [section(line), _post_update_button(incident)]


def reminder_dm(incident: Incident, *, due_at: datetime) -> tuple[str, Blocks]:
    """The DM to the Incident Commander when a second reminder interval passes with no update."""
    line = (
        f":alarm_clock: *{incident_title_line(incident)}* has had no status update since it was due "
        f"{slack_date(due_at)}; the channel was reminded. {channel_link(incident.channel_id)}"
    )
    return line, [section(line), _post_update_button(incident)]


def page_dm(
    *, page_id: int, title: str, severity: str, channel_id: str | None, tier: int, total: int
) -> tuple[str, Blocks]:
    """A page as the person paged sees it, with Acknowledge and Decline."""
    where = f" · {channel_link(channel_id)}" if channel_id else ""
    line = f":pager: *You're being paged:* {escape(title)} · *{escape(severity)}*{where}"
    return line, [
        section(line),
        context(f"Escalation step {tier} of {total}. Acknowledge to stop it; Decline to pass it on now."),
        {
            "type": "actions",
            "block_id": f"{PAGE_BLOCK}:{page_id}",
            "elements": [
                button("Acknowledge", Action.PAGE_ACKNOWLEDGE, str(page_id), style="primary"),
                button("Decline", Action.PAGE_DECLINE, str(page_id)),
            ],
        },
    ]


def page_dm_settled(
    *,
    title: str,
    severity: str,
    channel_id: str | None,
    outcome: str,
    reopens: tuple[int, datetime] | None = None,
) -> tuple[str, Blocks]:
    """A page DM after the page is acknowledged or given up: the outcome (mrkdwn) instead of the buttons. With
    an ack timeout running (`reopens`: the page and when), a button to acknowledge again and reset it."""
    where = f" · {channel_link(channel_id)}" if channel_id else ""
    line = f":pager: {escape(title)} · *{escape(severity)}*{where}\n{outcome}"
    if reopens is None:
        return line, [section(line)]
    page_id, at = reopens
    return line, [
        section(line),
        context(f"Unless it is resolved, the page escalates again {slack_date(at)}. Still on it? Acknowledge again."),
        {
            "type": "actions",
            "block_id": f"{PAGE_BLOCK}:{page_id}",
            "elements": [button("Acknowledge again", Action.PAGE_ACKNOWLEDGE, str(page_id))],
        },
    ]


def paging_notice(users: Sequence[str], *, tier: int, total: int, plan: str) -> str:
    """The incident channel's note of who is being paged."""
    people = ", ".join(mention(u) for u in users)
    return f":pager: Paging {people} (step {tier} of {total}, {escape(plan)})."


def ack_timed_out(title: str, acknowledged_by: str | None, *, after: str) -> str:
    """An acknowledged page was not resolved in time: it escalates again from the first tier."""
    who = f" by {mention(acknowledged_by)}" if acknowledged_by else ""
    return (
        f":alarm_clock: The acknowledgement{who} of the page for {escape(title)} ran out after {escape(after)} "
        "and it is not resolved, so the page is escalating again from the first tier."
    )


def page_exhausted(title: str, channel_id: str | None, *, steps: int) -> str:
    """Everyone was paged and nobody acknowledged."""
    where = f" in {channel_link(channel_id)}" if channel_id else ""
    return (
        f":rotating_light: *Nobody acknowledged the page for {escape(title)}*{where} after {steps} escalation "
        "steps. Someone please take it."
    )


def oncall_lines(rows: Sequence[tuple[str, str | None, datetime | None, str | None]]) -> tuple[str, Blocks]:
    """`/incident oncall`: each schedule with who is on call now and the next handoff."""
    if not rows:
        text = "No on-call schedules are configured (see `schedules` in tocsin.yml)."
        return text, [section(text)]

    def person(ref: str | None) -> str:
        if ref is None:
            return "*nobody* :warning:"
        return escape(ref) if "@" in ref else mention(ref)

    lines = []
    for name, now_user, handoff_at, next_user in rows:
        who = person(now_user)
        after = f" · next handoff {slack_date(handoff_at)} → {person(next_user)}" if handoff_at else ""
        lines.append(f"*{escape(name)}*: {who}{after}")
    text = "\n".join(lines)
    return text, [section(trim(text, MAX_SECTION_TEXT))]


def page_digest(digest: Digest) -> tuple[str, Blocks]:
    """A storm's pages to one person in one DM: each page with its own Acknowledge, and Acknowledge all
    for those still escalating."""
    waiting = [e for e in digest.entries if e.status == "triggered"]
    line = (
        f":pager: *You have {len(digest.entries)} pages at once* "
        f"({len(waiting)} still escalating). Each escalates on its own until acknowledged."
    )
    body: Blocks = [section(line)]
    for entry in digest.entries:
        body.append(_digest_entry(entry))
    if waiting:
        body.append(
            {
                "type": "actions",
                "block_id": f"{PAGE_DIGEST_BLOCK}:{digest.id}",
                "elements": [
                    button(
                        f"Acknowledge all {len(waiting)}", Action.PAGE_ACKNOWLEDGE_ALL, str(digest.id), style="primary"
                    )
                ],
            }
        )
    listed = "; ".join(f"{escape(e.title)} ({escape(e.severity)})" for e in digest.entries[-5:])
    return trim(f"{line} Latest: {listed}", MAX_SECTION_TEXT), body


def _digest_entry(entry: DigestEntry) -> dict[str, Any]:
    where = f" · {channel_link(entry.channel_id)}" if entry.channel_id else ""
    text = f"*{escape(entry.title)}* · *{escape(entry.severity)}*{where}"
    if entry.status != "triggered":
        outcome = f"acknowledged by {mention(entry.acknowledged_by)}" if entry.acknowledged_by else entry.status
        block = section(f"{text}\n:white_check_mark: {outcome}" if entry.acknowledged_by else f"{text}\n{outcome}")
    else:
        block = section(text)
        block["accessory"] = button("Acknowledge", Action.PAGE_ACKNOWLEDGE, str(entry.page_id))
    block["block_id"] = f"{PAGE_BLOCK}:{entry.page_id}"
    return block
