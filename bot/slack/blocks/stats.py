"""Block Kit for `/incident stats`: figures per severity, weekly frequency, repeats, detection and
follow-ups, with the MTTR chart when there is one. Pure, like the rest of bot/slack/blocks/."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.incidents import format_age
from bot.domain.stats import IncidentStats
from bot.slack.blocks.primitives import MAX_MESSAGE_TEXT, Blocks, context, section
from bot.slack.mrkdwn import escape, trim


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
