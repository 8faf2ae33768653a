"""The channel context's messages (the `ChannelTexts` port of bot/usecases/channel_ports.py): the call
bridge's replies and lines, the retitle line, and the archive warning with its Keep open button."""

from __future__ import annotations

from datetime import datetime

from bot.domain.slack_values import Blocks
from bot.slack.blocks.primitives import button, context, section, slack_date
from bot.slack.mrkdwn import escape, link, mention

KEEP_OPEN = "channel_keep_open"  # the archive warning's button (its value: the incident's id)
ARCHIVE_WARNING_BLOCK = "archive_warning"


def bridge_reply(reference: str, url: str | None, *, private: bool) -> str:
    """`/incident bridge`'s answer, to the asker only."""
    if url is None:
        return f"{escape(reference)} has no call yet. Set one with `/incident bridge https://…` (its link)."
    keep = " (a private incident: share it only inside its channel)" if private else ""
    return f":telephone_receiver: {escape(reference)}'s call: {link(url, url)}{keep}"


def bridge_line(url: str, actor: str | None) -> str:
    """The incident channel's line when its call is set or replaced."""
    who = f"{mention(actor)} set" if actor else "Tocsin set up"
    return f":telephone_receiver: {who} the call: {link(url, 'join the call')}"


def retitled_line(previous: str, title: str, actor: str) -> str:
    """The incident channel's line when its title changes."""
    return f":pencil2: {mention(actor)} retitled the incident: ~{escape(previous)}~ → *{escape(title)}*"


def archive_warning(incident_id: int, reference: str, *, at: datetime) -> tuple[str, Blocks]:
    """The warning a day before the channel is archived, with the Keep open button."""
    line = (
        f":file_cabinet: {escape(reference)} is wrapped up, so this channel will be archived {slack_date(at)}. "
        "Press *Keep open* to keep it."
    )
    blocks: Blocks = [
        {**section(line), "block_id": ARCHIVE_WARNING_BLOCK},
        {"type": "actions", "elements": [button("Keep open", KEEP_OPEN, str(incident_id), style="primary")]},
        context("Reopening the incident later opens a new channel that links back here."),
    ]
    return line, blocks


def archive_kept(reference: str, actor: str) -> tuple[str, Blocks]:
    """The warning once someone kept the channel open."""
    line = (
        f":white_check_mark: {mention(actor)} kept this channel open; "
        f"{escape(reference)}'s channel will not be archived."
    )
    return line, [{**section(line), "block_id": ARCHIVE_WARNING_BLOCK}]
