"""On-call changes made from Slack, as messages: replies to `/incident oncall take|give|swap|remove|log|
calendar`, the DM asking someone to accept a give or swap (and the same DM once answered), the outcome
told to whoever asked, `/incident oncall` with maintenance windows, and App Home's on-call section.
Times are Slack dates: each reader sees them in their own time zone. Satisfies ShiftMessages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.shift_values import LogAction, LogEntry, RequestState, ShiftRequest, StoredOverride, Via
from bot.domain.slack_values import Blocks
from bot.slack.blocks.primitives import MAX_SECTION_TEXT, button, context, section, slack_date
from bot.slack.mrkdwn import escape, mention, trim

SHIFT_ACCEPT = "shift_request_accept"
SHIFT_DECLINE = "shift_request_decline"
SHIFT_REQUEST_BLOCK = "shift_request"
HOME_SHIFTS_SHOWN = 8
HOW_TO = escape(
    "`/incident oncall take <schedule> <when> [4h]` · `/incident oncall give <schedule> @someone <when> [4h]` · "
    "`/incident oncall swap <schedule> @someone <your shift> <their shift>` · `/incident oncall calendar`"
)

Message = tuple[str, Blocks]


def _when(start: datetime, end: datetime) -> str:
    return f"{slack_date(start)} to {slack_date(end)}"


def _what(request: ShiftRequest) -> str:
    asked = request.request
    mine = _when(asked.start, asked.end)
    if asked.kind is Via.SWAP and asked.their_start and asked.their_end:
        return (
            f"swap *{escape(asked.schedule)}* shifts: {mention(asked.requester)}'s {mine} "
            f"for {mention(asked.asked)}'s {_when(asked.their_start, asked.their_end)}"
        )
    return f"{mention(asked.asked)} to take {mention(asked.requester)}'s *{escape(asked.schedule)}* shift, {mine}"


# ----- replies to the person who typed the command -------------------------------------------------
def took(override: StoredOverride) -> Message:
    """`oncall take` made its override."""
    instead = f" instead of {mention(override.replaces)}" if override.replaces else ""
    text = (
        f":white_check_mark: You're on call for *{escape(override.schedule)}* {_when(override.start, override.end)}"
        f"{instead} (override #{override.id}; `/incident oncall remove {override.id}` undoes it)."
    )
    return text, [section(text)]


def asked(request: ShiftRequest) -> Message:
    """A give or swap was asked; the other person has the buttons."""
    text = (
        f":outbox_tray: Asked {mention(request.request.asked)}: {_what(request)}. "
        "You'll hear when they answer; nothing changes until they accept."
    )
    return text, [section(text)]


def removed(override: StoredOverride) -> Message:
    """An override was removed."""
    text = (
        f":wastebasket: Removed override #{override.id}: {mention(override.user)} on *{escape(override.schedule)}* "
        f"{_when(override.start, override.end)}. The schedule is back to its rotation then."
    )
    return text, [section(text)]


_DONE = {
    LogAction.TOOK: "took",
    LogAction.GAVE: "took (given by {other})",
    LogAction.SWAPPED: "took (swapped with {other})",
    LogAction.ASKED_GIVE: "asked {other} to take",
    LogAction.ASKED_SWAP: "asked {other} to swap",
    LogAction.DECLINED: "declined {other}'s request for",
    LogAction.REFUSED: "accepted too late to change {other}'s request for",
    LogAction.EXPIRED: "answered after the start of {other}'s request for",
    LogAction.REMOVED: "removed the override of {user} on",
}


def log_lines(entries: Sequence[LogEntry], schedule: str | None) -> Message:
    """`oncall log`: the audit list, newest first."""
    where = f" of *{escape(schedule)}*" if schedule else ""
    if not entries:
        text = f"Nothing on the on-call audit list{where} yet."
        return text, [section(text)]
    lines = [f"*On-call changes{where}*, newest first:"]
    for entry in entries:
        verb = _DONE[entry.action].format(other=mention(entry.other), user=mention(entry.user))
        span = f" {_when(entry.start, entry.end)}" if entry.start and entry.end else ""
        number = f" (#{entry.override_id})" if entry.override_id else ""
        lines.append(
            f"• {slack_date(entry.at, '{date_short} {time}')} {mention(entry.actor)} {verb} "
            f"*{escape(entry.schedule)}*{span}{number}"
        )
    text = "\n".join(lines)
    return text, [section(trim(text, MAX_SECTION_TEXT))]


def calendar_links(links: Sequence[tuple[str, str, bool]], *, rotated: bool) -> Message:
    """`oncall calendar`: the feed URLs the person may use (label, URL, whether personal)."""
    head = ":calendar: New feed address made; the old one no longer works.\n" if rotated else ""
    lines = [
        f"{head}*Calendar feeds* (subscribe by URL in Google Calendar or Outlook; keep them to yourself, the "
        "address is the key; `/incident oncall calendar rotate [schedule]` makes a new one):"
    ]
    for label, url, personal in links:
        name = "Your shifts" if personal else f"Schedule *{escape(label)}*"
        lines.append(f"• {name}: `{escape(url)}`")
    text = "\n".join(lines)
    return text, [section(trim(text, MAX_SECTION_TEXT))]


def maintenance_lines(windows: Sequence[str]) -> Blocks:
    """The maintenance windows silencing something now, for `/incident oncall` (each described already)."""
    if not windows:
        return []
    return [context(":construction: Maintenance now: " + "; ".join(escape(w) for w in windows))]


# ----- the request DM and its outcome ------------------------------------------------------------
def request_dm(request: ShiftRequest) -> Message:
    """The DM asking `request.request.asked` to accept or decline."""
    asker = mention(request.request.requester)
    text = f":arrows_counterclockwise: {asker} asks: {_what(request)}. Accept?"
    block = section(text)
    block["block_id"] = f"{SHIFT_REQUEST_BLOCK}:{request.id}"
    actions: dict[str, Any] = {
        "type": "actions",
        "block_id": f"{SHIFT_REQUEST_BLOCK}_buttons:{request.id}",
        "elements": [
            button("Accept", SHIFT_ACCEPT, str(request.id), style="primary"),
            button("Decline", SHIFT_DECLINE, str(request.id)),
        ],
    }
    return text, [block, actions]


_OUTCOMES = {
    RequestState.ACCEPTED: ":white_check_mark: Accepted",
    RequestState.DECLINED: ":no_entry_sign: Declined",
    RequestState.REFUSED: ":warning: Could not be done",
    RequestState.EXPIRED: ":hourglass: Expired",
    RequestState.PENDING: ":hourglass_flowing_sand: Waiting",
}


def request_answered(request: ShiftRequest, *, note: str = "") -> Message:
    """The asking DM once answered: no buttons, the outcome (and why, when it could not be done)."""
    why = f" {note}" if note else ""
    text = f"{_OUTCOMES[request.state]}: {_what(request)}.{why}"
    return text, [section(text)]


def outcome_dm(request: ShiftRequest, *, note: str = "") -> Message:
    """The requester told what became of their request."""
    who = mention(request.request.asked)
    why = f" {note}" if note else ""
    outcome = {
        RequestState.ACCEPTED: f"{who} accepted",
        RequestState.DECLINED: f"{who} declined",
        RequestState.REFUSED: f"{who} accepted, but it could not be done",
        RequestState.EXPIRED: f"{who} answered too late",
        RequestState.PENDING: f"{who} hasn't answered",
    }[request.state]
    text = f"{_OUTCOMES[request.state].split(' ')[0]} {outcome}: {_what(request)}.{why}"
    return text, [section(text)]


# ----- App Home --------------------------------------------------------------------------------
def home_section(shifts: Sequence[tuple[str, datetime, datetime, bool]], pending: Sequence[ShiftRequest]) -> Blocks:
    """App Home's on-call part: the viewer's next shifts, the requests waiting for them, how to change."""
    body: Blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Your on-call", "emoji": True}}]
    if shifts:
        lines = [
            f"• *{escape(name)}* {_when(start, end)}{' (override)' if override else ''}"
            for name, start, end, override in shifts[:HOME_SHIFTS_SHOWN]
        ]
        more = len(shifts) - HOME_SHIFTS_SHOWN
        if more > 0:
            lines.append(f"…and {more} more (`/incident oncall calendar` has them all).")
        body.append(section("*Your next 14 days*\n" + "\n".join(lines)))
    else:
        body.append(section("You have no on-call shifts in the next 14 days."))
    for request in pending:
        body.extend(request_dm(request)[1])
    body.append(context(HOW_TO))
    return body
