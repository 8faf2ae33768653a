"""The broadcast channel in a storm of declares: one message gathering the new incidents."""

from __future__ import annotations

from bot.domain.announcement_digests import AnnouncementDigest
from bot.domain.policy import Policy
from bot.slack.blocks.alerts import counts_in_order
from bot.slack.blocks.incident import announcement
from bot.slack.blocks.primitives import MAX_SECTION_TEXT, Blocks, context, section, slack_date
from bot.slack.mrkdwn import trim


def announcement_digest(storm: AnnouncementDigest, policy: Policy) -> tuple[str, Blocks]:
    """A storm's new incidents in one message: how many, by severity, each of the first few with its
    announcement's line (and marker); edited as more are declared."""
    total = len(storm.incidents)
    incidents = "incident" if total == 1 else "incidents"
    head = (
        f":rotating_light: *Incident storm: {total} more {incidents} declared* since "
        f"{slack_date(storm.opened_at, '{time}')} (the latest at {slack_date(storm.last_at, '{time}')}), "
        f"gathered here instead of an announcement each.\n*By severity:* "
        f"{counts_in_order(storm.by_severity, policy.severity_names)}"
    )
    body: Blocks = [section(head)]
    for incident in storm.named:  # the announcement's own line and marker, without the description
        body.append(announcement(incident)[1][0])
    more = f"… and {storm.unnamed} more: `/incident list` or Tocsin's App Home has them all. " if storm.unnamed else ""
    body.append(context(f"{more}This message is updated as incidents are declared."))
    text = head.replace("\n", " · ")
    return trim(text, MAX_SECTION_TEXT), body
