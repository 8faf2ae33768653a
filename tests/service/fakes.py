"""The service tier's stand-ins: a Slack gateway that records what a use case asks of Slack instead of
sending it, and a unit of work over an in-memory SQLite database (the real repositories, created in
milliseconds, no HTTP and no files)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from bot.slack.gateway import Blocks, ReplyTarget, SlackGateway
from storage.db import session_factory
from storage.uow import UnitOfWork


class _NoWebApi:
    """Stands where the Web API client would be: a use case that bypasses the gateway fails loudly."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the use case called the Web API directly ({name}); go through the gateway")


@dataclass(frozen=True)
class SlackCall:
    """One thing asked of Slack."""

    method: str
    where: str
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class RecordingSlack(SlackGateway):
    """The gateway's intents, recorded. Only what the service tests exercise is implemented; anything
    else reaches `_NoWebApi` and fails."""

    def __init__(self) -> None:
        super().__init__(client=_NoWebApi(), session=None, post_interval=0.0)  # type: ignore[arg-type]
        self.calls: list[SlackCall] = []
        self._ts = itertools.count(1)
        self.bot_user_id = "U0TOCSIN"
        self.members: dict[str, set[str]] = {}  # channel → its members, as conversations.members answers
        self.unreadable: set[str] = set()  # channels whose member list Slack refuses

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    async def post(self, channel: str, text: str, blocks: Blocks | None = None) -> str:
        self.calls.append(SlackCall("post", channel, text))
        return self._next_ts()

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        self.calls.append(SlackCall("update_message", channel, text, {"ts": ts}))

    async def dm(self, user_id: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        self.calls.append(SlackCall("dm", user_id, text))
        return f"D{user_id}", self._next_ts()

    async def reply(self, target: ReplyTarget, text: str, blocks: Blocks | None = None) -> None:
        self.calls.append(SlackCall("reply", target.user_id, text))

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        self.calls.append(SlackCall("invite", channel_id, extra={"users": list(user_ids)}))

    async def channel_members(self, channel_id: str) -> set[str]:
        self.calls.append(SlackCall("channel_members", channel_id))
        if channel_id in self.unreadable:
            raise RuntimeError("channel_not_found")
        return set(self.members.get(channel_id, set()))

    async def set_topic(self, channel_id: str, topic: str) -> None:
        self.calls.append(SlackCall("set_topic", channel_id, topic))

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self.calls.append(SlackCall("publish_home", user_id))

    def made(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]


async def memory_database() -> Callable[..., UnitOfWork]:
    """A unit-of-work factory over a new in-memory SQLite database with every table."""
    engine = create_async_engine(
        "sqlite+aiosqlite:///:memory:", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    sessions = session_factory(engine)

    def uow(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(sessions)  # one connection: nothing to keep apart

    return uow
