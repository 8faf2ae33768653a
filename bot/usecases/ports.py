"""The shapes use cases depend on, and nothing else from outside: the clock, Slack, and the unit of work
with its stores (record_ports.py). The message catalogue they show things with is message_ports.py.

Slack's failures reach the use cases as bot.domain.errors.SlackRefused and SlackUnreachable; a store's
duplicate key as AlreadyStored. The composition root (bot/app.py) passes the implementations:
bot.slack.gateway.SlackGateway, storage.uow.UnitOfWork, bot.slack.messages, bot.runtime.background."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from bot.domain.slack_values import Blocks, CreatedChannel, ReplyTarget, UploadedFile

if TYPE_CHECKING:  # types only: the stores' domain types cost `tocsin check`, which imports the clock, 0.1 s
    from bot.usecases.channel_ports import ChannelStore
    from bot.usecases.contact_ports import ContactStore
    from bot.usecases.handover_ports import HandoverStore
    from bot.usecases.job_ports import JobStore
    from bot.usecases.record_ports import (
        AlertStore,
        ApiTokenStore,
        EventStore,
        FollowUpStore,
        IdempotencyStore,
        IncidentStore,
        OutboxStore,
        PageStore,
        PostmortemStore,
        RunbookStore,
        SetupStore,
        StatsStore,
        StatusStore,
        SummaryStore,
    )
    from bot.usecases.related_ports import RelatedStore
    from bot.usecases.shift_ports import ShiftStore
    from bot.usecases.tracker_ports import TrackerStore
    from bot.usecases.watch_ports import WatchStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC (the one place production reads it)."""
    return datetime.now(UTC)


class Slack(Protocol):
    """Everything the use cases ask of Slack, named for what it is for. Posts and DMs are paced per
    channel (about one a second); a method fails with SlackRefused or SlackUnreachable."""

    @property
    def bot_user_id(self) -> str | None:
        """Tocsin's own user (None until Slack has said)."""
        ...

    def wait_before_post(self, channel: str) -> float:
        """How long a post to `channel` would wait now for Slack's pace."""
        ...

    # ----- channels -------------------------------------------------------------------------------
    async def create_channel(self, name_for: Callable[[int], str], *, private: bool = False) -> CreatedChannel:
        """A new channel, named `name_for(1)`, else `name_for(2)`… while the name is taken."""
        ...

    async def find_own_channel(self, names: list[str], *, creator: str, private: bool = False) -> CreatedChannel | None:
        """The channel `creator` made under the first of `names` that exists."""
        ...

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Invite people (someone already there is not an error)."""
        ...

    async def channel_members(self, channel_id: str) -> set[str]:
        """Everyone in a channel."""
        ...

    async def archive(self, channel_id: str) -> None:
        """Archive a channel (archived already is fine)."""
        ...

    async def set_topic(self, channel_id: str, topic: str) -> None: ...
    async def set_purpose(self, channel_id: str, purpose: str) -> None: ...
    async def pin(self, channel_id: str, ts: str) -> None:
        """Pin a message (pinned already is fine)."""
        ...

    # ----- messages -------------------------------------------------------------------------------
    async def post(self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None) -> str:
        """Post (in `thread_ts`'s thread if given); the message's ts."""
        ...

    async def post_to_edit(self, channel: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        """Post a message that will be edited; its (channel ID, ts)."""
        ...

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        """Replace a message Tocsin posted."""
        ...

    async def dm(self, user_id: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        """Message a person directly; the DM's (channel, ts)."""
        ...

    async def reply(self, target: ReplyTarget, text: str, blocks: Blocks | None = None) -> None:
        """Tell one person something privately."""
        ...

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A message's permalink, or None when Slack will not say."""
        ...

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message (or reply) by its ts, with its permalink; None when it is gone."""
        ...

    async def find_own_message(self, channel: str, block_id: str, *, author: str, limit: int = 100) -> str | None:
        """The ts of a recent message by `author` in `channel` carrying a block with `block_id`."""
        ...

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Show `view` on a person's App Home tab."""
        ...

    # ----- people ---------------------------------------------------------------------------------
    async def user_id_for_email(self, email: str) -> str | None: ...
    async def email_of(self, user_id: str) -> str | None:
        """The e-mail address on a user's Slack profile, or None."""
        ...

    async def user_exists(self, user_id: str) -> bool:
        """Whether `user_id` is a Slack user who has not been deactivated."""
        ...

    async def group_members(self, group_id: str) -> list[str]: ...

    # ----- canvases and files ---------------------------------------------------------------------
    async def create_channel_canvas(self, channel_id: str, title: str, markdown: str) -> str:
        """Create a channel's canvas; its ID."""
        ...

    async def replace_canvas(self, canvas_id: str, markdown: str) -> None: ...
    async def channel_canvas(self, channel_id: str) -> str | None:
        """The ID of a channel's canvas, if it has one."""
        ...

    async def upload(
        self, *, filename: str, content: bytes, title: str, channel_id: str | None = None, comment: str | None = None
    ) -> UploadedFile:
        """Upload a file, shared in `channel_id` if given, else private to Tocsin."""
        ...


class BackgroundWork(Protocol):
    """Work done after the request that asked for it is answered (bot.runtime.background's pool)."""

    def submit(self, body: dict[str, Any], job: Callable[[], Awaitable[object]]) -> None:
        """Run `job` soon; `body` is the request it came from (whose author hears of a failure)."""
        ...


class UnitOfWork(Protocol):
    """`async with uow:` is one transaction; leaving it without `commit()` rolls everything back."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None:
        """Make the work durable."""
        ...

    @property
    def incidents(self) -> IncidentStore: ...
    @property
    def pages(self) -> PageStore: ...
    @property
    def alerts(self) -> AlertStore: ...
    @property
    def follow_ups(self) -> FollowUpStore: ...
    @property
    def postmortems(self) -> PostmortemStore: ...
    @property
    def runbooks(self) -> RunbookStore: ...
    @property
    def setups(self) -> SetupStore: ...
    @property
    def outbox(self) -> OutboxStore: ...
    @property
    def stats(self) -> StatsStore: ...
    @property
    def summaries(self) -> SummaryStore: ...

    @property
    def events(self) -> EventStore: ...
    @property
    def api_tokens(self) -> ApiTokenStore: ...
    @property
    def idempotency(self) -> IdempotencyStore: ...
    @property
    def status(self) -> StatusStore: ...
    @property
    def trackers(self) -> TrackerStore: ...
    @property
    def jobs(self) -> JobStore: ...
    @property
    def contacts(self) -> ContactStore: ...
    @property
    def shifts(self) -> ShiftStore: ...
    @property
    def handovers(self) -> HandoverStore: ...
    @property
    def watch(self) -> WatchStore: ...
    @property
    def channels(self) -> ChannelStore: ...
    @property
    def related(self) -> RelatedStore: ...


class UnitOfWorkFactory(Protocol):
    """Makes a unit of work; `read_only=True` for one that only reads (no write lock on SQLite)."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...
