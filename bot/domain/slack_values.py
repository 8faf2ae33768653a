"""Values the use cases and the Slack gateway pass each other: Block Kit blocks, where a private reply
goes, a channel made, a file uploaded. Plain data: the use cases name them without importing Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Blocks = list[dict[str, Any]]  # Block Kit blocks, as bot/slack/blocks builds them
MAX_CHANNEL_NAME_ATTEMPTS = 20  # names tried for a new channel (`-2`, `-3`… while one is taken)


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where a private reply to a person goes: the response_url when there is one, else ephemeral/DM."""

    user_id: str
    channel_id: str | None = None
    response_url: str | None = None


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file uploaded with files v2."""

    id: str
    permalink: str | None


@dataclass(frozen=True, slots=True)
class CreatedChannel:
    """A channel conversations.create made."""

    id: str
    name: str
