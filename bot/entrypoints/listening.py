"""The one shape of a button or select listener: acknowledge at once, note when the request arrived,
and hand the work to the background pool (which retries it while the database or Slack is unreachable
and tells the person when it cannot be done)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck

from bot.runtime.background import PEOPLE, Background
from bot.slack.gateway import ReplyTarget
from bot.usecases.ports import Clock


@dataclass(frozen=True)
class Request:
    """An accepted request: its payload, the control used (if any), and when it arrived."""

    body: dict[str, Any]
    action: dict[str, Any]
    received: datetime

    @property
    def actor(self) -> str:
        """Who clicked or submitted."""
        return str(self.body["user"]["id"])

    @property
    def reply_to(self) -> ReplyTarget:
        """Where to tell the actor privately."""
        return ReplyTarget(self.actor, (self.body.get("channel") or {}).get("id"), self.body.get("response_url"))


Work = Callable[[Request], Awaitable[None]]
Listener = Callable[..., Awaitable[None]]


def accepted(background: Background, clock: Clock, *, urgent: bool = False) -> Callable[[Work], Listener]:
    """Make `work(request)` a Bolt listener: ack, stamp, queue in the people lane (someone clicked and is
    waiting). `urgent` for work that opens a form (its trigger_id lives 3 s, so it does not wait behind
    other work)."""

    def listener_for(work: Work) -> Listener:
        async def listener(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any] | None = None) -> None:
            await ack()
            request = Request(body, action or {}, clock())
            background.submit(body, lambda: work(request), lane=PEOPLE, urgent=urgent)

        listener.__name__ = work.__name__  # Bolt names listeners in its logs
        return listener

    return listener_for
