"""Maintenance windows and heartbeats in Slack: the broadcast channel's notices, the replies to
`/incident maintenance …`, and App Home's part. The module satisfies bot/usecases/watch_ports.WatchViews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.heartbeats import HeartbeatState
from bot.domain.maintenance import Window
from bot.domain.slack_values import Blocks
from bot.slack.blocks.primitives import MAX_BLOCKS_MESSAGE, context, section, slack_date
from bot.slack.mrkdwn import escape, mention

SHOWN = 20  # windows listed in a reply or App Home; the rest are counted


def _window_line(window: Window, *, now: datetime) -> str:
    """`• *checkout* until <date> (by @alice): kernel upgrades · #12`."""
    when = (
        f"until {slack_date(window.until)}"
        if window.active_at(now)
        else f"from {slack_date(window.starts_at)} until {slack_date(window.until)}"
    )
    who = f" (by {mention(window.created_by)})" if window.created_by else " (recurring, from the policy)"
    reason = f": {escape(window.reason)}" if window.reason else ""
    quiet = "" if window.declares_page else " · SEV1 declares not paged either"
    return f"• *{escape(window.service)}* {when}{who}{reason}{quiet} · `#{window.id}`"


def maintenance_started(window: Window) -> tuple[str, Blocks]:
    """The broadcast channel's notice of a window beginning."""
    reason = f" ({escape(window.reason)})" if window.reason else ""
    text = (
        f":construction: *Maintenance of {escape(window.service)}* has begun{reason}; its alerts page nobody "
        f"until {slack_date(window.ends_at)}."
    )
    return text, [section(text)]


def maintenance_ended(window: Window, *, ended_by: str | None) -> tuple[str, Blocks]:
    """The broadcast channel's notice of a window ending (early, by `ended_by`)."""
    early = f", ended early by {mention(ended_by)}" if ended_by else ""
    text = f":white_check_mark: *Maintenance of {escape(window.service)}* is over{early}; its alerts page again."
    return text, [section(text)]


def maintenance_list(windows: Sequence[Window], *, now: datetime) -> tuple[str, Blocks]:
    """`/incident maintenance`: the windows active and to come."""
    if not windows:
        text = (
            "No maintenance windows are active or planned. "
            "Start one with `/incident maintenance &lt;service&gt; &lt;duration&gt; [reason]`."
        )
        return text, [section(text)]
    lines = [_window_line(w, now=now) for w in windows[:SHOWN]]
    more = [context(f"… and {len(windows) - SHOWN} more.")] if len(windows) > SHOWN else []
    text = f"Maintenance windows ({len(windows)}):"
    body: Blocks = [section(f"*{text}*\n" + "\n".join(lines)), *more]
    body.append(context("End one early with `/incident maintenance end &lt;service|#number&gt;`."))
    return text, body[:MAX_BLOCKS_MESSAGE]


def maintenance_set(window: Window) -> str:
    """The reply to whoever made a window."""
    return (
        f":construction: {escape(window.service)}'s alerts page nobody until {slack_date(window.ends_at)} "
        f"(window `#{window.id}`). An incident declared for it at the most severe severity still pages its "
        "on-call. "
        f"End it early with `/incident maintenance end {escape(window.service)}`."
    )


def maintenance_cut_short(windows: Sequence[Window]) -> str:
    """The reply to whoever ended windows early."""
    names = ", ".join(f"{escape(w.service)} (`#{w.id}`)" for w in windows)
    return f":white_check_mark: Ended the maintenance of {names}; its alerts page again."


def home_section(windows: Sequence[Window], missed: Sequence[HeartbeatState], *, now: datetime) -> Blocks:
    """App Home's part: windows active and to come, heartbeats missed."""
    blocks: Blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Maintenance and heartbeats"}}]
    if windows:
        lines = "\n".join(_window_line(w, now=now) for w in windows[:SHOWN])
        blocks.append(section(f"*Maintenance windows*\n{lines}"))
    if missed:
        lines = "\n".join(
            f"• *{escape(m.name)}* missed since {slack_date(m.missed_at)}"
            + (f", last heard {slack_date(m.last_seen_at)}" if m.last_seen_at else ", never heard from")
            for m in missed[:SHOWN]
            if m.missed_at is not None
        )
        blocks.append(section(f"*Heartbeats missed*\n{lines}"))
    return blocks
