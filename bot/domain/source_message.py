"""A Slack message an incident starts from or takes onto its timeline (the message shortcuts), a reply
in a thread as much as a message in the channel. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from bot.domain.incidents import MAX_TITLE_LENGTH, TimelineEntry, TimelineKind

_SLACK_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
SUGGESTED_TITLE_LENGTH = 80
MAX_KEPT_TEXT = 2000  # what a form's description holds, and what a timeline entry from a message keeps


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """A message by its channel and ts, with its author and (plain) text as the shortcut saw it; a reply
    in a thread has `thread_ts`, its parent's ts."""

    channel_id: str
    ts: str
    author: str | None
    text: str
    permalink: str | None = None
    thread_ts: str | None = None

    @property
    def source(self) -> str:
        """How the timeline names a captured message (one entry per message and incident)."""
        return f"{self.channel_id}:{self.ts}"

    @property
    def thread_root(self) -> str:
        """The ts a reply under this message takes as its thread_ts: its thread's parent (Slack: never a reply)."""
        return self.thread_ts or self.ts

    @property
    def posted_at(self) -> datetime:
        """When it was posted (Slack's ts is its epoch time)."""
        return datetime.fromtimestamp(float(self.ts), UTC)

    def entry(self) -> TimelineEntry:
        """The timeline entry: at the time it was posted, by its author."""
        return TimelineEntry(
            TimelineKind.MESSAGE,
            self.posted_at,
            self.author,
            self.text[:MAX_KEPT_TEXT],
            self.source,
            self.permalink,
            self.thread_ts,
        )

    def as_metadata(self) -> dict[str, Any]:
        """For a form's private_metadata (read back with `from_metadata`)."""
        return {
            "channel": self.channel_id,
            "ts": self.ts,
            "user": self.author,
            "text": self.text,
            "thread": self.thread_ts,
        }

    @classmethod
    def from_metadata(cls, data: object) -> SourceMessage | None:
        """The message a form carried, or None when it carried none (or something malformed)."""
        if not isinstance(data, dict):
            return None
        channel, ts, user, text = data.get("channel"), data.get("ts"), data.get("user"), data.get("text")
        if not (isinstance(channel, str) and isinstance(text, str)) or not is_slack_ts(ts):
            return None
        return cls(
            channel, ts, user if isinstance(user, str) else None, text, thread_ts=reply_thread(ts, data.get("thread"))
        )


def suggested_title(text: str) -> str:
    """A title to start from: the message's first line, cut at a word within 80 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    folded = " ".join(first.split())
    if len(folded) <= SUGGESTED_TITLE_LENGTH:
        return folded[:MAX_TITLE_LENGTH]
    cut = folded[:SUGGESTED_TITLE_LENGTH]
    return (cut.rsplit(" ", 1)[0] if " " in cut[20:] else cut).rstrip(" ,.;:-") + "…"


def reply_thread(ts: str, thread_ts: object) -> str | None:
    """The thread a message with `ts` and Slack's `thread_ts` is a reply in: its parent's ts, or None for a
    message in the channel (a thread's parent carries its own ts as thread_ts)."""
    return thread_ts if is_slack_ts(thread_ts) and thread_ts != ts else None


def is_slack_ts(value: object) -> TypeGuard[str]:
    """Whether `value` is a message ts as Slack writes them (`1700000000.000100`)."""
    return isinstance(value, str) and bool(_SLACK_TS.fullmatch(value))
