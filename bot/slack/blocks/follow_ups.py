"""Block Kit for follow-ups (a postmortem's action items): the Add follow-up form, the note when one is
added, lists with a Done button, and the owner's reminder. Pure, like the rest of bot/slack/blocks/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident
from bot.slack.blocks.forms import incident_form
from bot.slack.blocks.primitives import (
    MAX_BLOCKS_MESSAGE,
    MAX_MESSAGE_TEXT,
    Blocks,
    button,
    context,
    form_input,
    section,
    text_input,
)
from bot.slack.ids import Action, Block, View
from bot.slack.mrkdwn import escape, mention, trim

FOLLOW_UPS_SHOWN = 20  # each takes two blocks; the list stays within a message's 50
# The Create issue button's action (its value: the follow-up's id). To move into bot/slack/ids.Action.
CREATE_ISSUE = Action.FOLLOW_UP_CREATE_ISSUE


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
    return f"{state}{escape(item.text)} — {owner} · {due} · {item.incident_reference}{_issue(item)}"


def _issue(item: FollowUp) -> str:
    """` · <link|#12>`: its issue in a tracker, once made."""
    if not item.issue_key:
        return ""
    if item.issue_url and item.issue_url.startswith(("https://", "http://")):
        return f" · <{escape(item.issue_url).replace('|', '%7C')}|{escape(item.issue_key)}>"
    return f" · {escape(item.issue_key)}"


def follow_up_added(item: FollowUp, today: date) -> str:
    """The note in the channel when someone adds a follow-up."""
    return f":clipboard: Follow-up added: {_describe(item, today)}"


def follow_up_list(
    items: Sequence[FollowUp], *, heading: str, today: date, offer_issue: bool = False
) -> tuple[str, Blocks]:
    """Follow-ups with a Done button on each open one (ephemeral); with `offer_issue` (a tracker is
    configured), a **Create issue** button under each open one that has no issue yet."""
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
        if offer_issue and item.is_open and not item.issue_key:
            blocks.append({"type": "actions", "elements": [button("Create issue", CREATE_ISSUE, str(item.id))]})
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
