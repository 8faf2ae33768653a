"""The service tier's stand-ins, each implementing a port of bot/usecases/ports.py: a Slack that records
what a use case asks of it instead of sending it, a clock the test moves, and a unit of work over an
in-memory SQLite database (the real stores, created in milliseconds, no HTTP and no files). The message
catalogue is the real one (bot.slack.messages): it is pure."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from bot.domain.errors import SlackRefused
from bot.domain.incidents import IC_ROLE, Incident, NewIncident, TimelineKind
from bot.domain.policy import Policy
from bot.domain.runbooks import RunbookLibrary
from bot.domain.slack_values import Blocks, CreatedChannel, ReplyTarget, UploadedFile
from bot.domain.timer_results import AckTimedOut, PageStepped, TimerResult
from bot.usecases.paging import Pager
from bot.usecases.ports import UnitOfWorkFactory
from storage.db import create_engine, session_factory, use_wal
from storage.uow import UnitOfWork
from storage.writer_queue import WriterQueue
from tests.values import FakeClock as FakeClock  # the service tests import it from here
from tests.values import an_incident as an_incident


@dataclass(frozen=True)
class SlackCall:
    """One thing asked of Slack."""

    method: str
    where: str
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class RecordingSlack:
    """Slack as the use cases see it (the `Slack` port), every call recorded and answered as Slack would
    answer a workspace where everything exists. `members` and `unreadable` say what conversations.members
    answers."""

    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self._ts = itertools.count(1)
        self.bot_user_id: str | None = "U0TOCSIN"
        self.members: dict[str, set[str]] = {}  # channel → its members, as conversations.members answers
        self.unreadable: set[str] = set()  # channels whose member list Slack refuses
        self.waits: dict[str, float] = {}  # channel → how long a post there would wait for Slack's pace

    def made(self, method: str) -> list[SlackCall]:
        """The calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _record(self, method: str, where: str, text: str = "", **extra: Any) -> None:
        self.calls.append(SlackCall(method, where, text, extra))

    def wait_before_post(self, channel: str) -> float:
        return self.waits.get(channel, 0.0)

    # ----- channels -------------------------------------------------------------------------------
    async def create_channel(self, name_for: Callable[[int], str], *, private: bool = False) -> CreatedChannel:
        name = name_for(1)
        self._record("create_channel", name, private=private)
        return CreatedChannel(id=f"C0{name.upper().replace('-', '')[:10]}", name=name)

    async def find_own_channel(self, names: list[str], *, creator: str, private: bool = False) -> CreatedChannel | None:
        self._record("find_own_channel", names[0] if names else "", creator=creator, private=private)
        return None

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        self._record("invite", channel_id, users=list(user_ids))

    async def channel_members(self, channel_id: str) -> set[str]:
        self._record("channel_members", channel_id)
        if channel_id in self.unreadable:
            raise SlackRefused("channel_not_found")
        return set(self.members.get(channel_id, set()))

    async def archive(self, channel_id: str) -> None:
        self._record("archive", channel_id)

    async def set_topic(self, channel_id: str, topic: str) -> None:
        self._record("set_topic", channel_id, topic)

    async def set_purpose(self, channel_id: str, purpose: str) -> None:
        self._record("set_purpose", channel_id, purpose)

    async def pin(self, channel_id: str, ts: str) -> None:
        self._record("pin", channel_id, ts=ts)

    # ----- messages -------------------------------------------------------------------------------
    async def post(self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None) -> str:
        self._record("post", channel, text, thread_ts=thread_ts)
        return self._next_ts()

    async def post_to_edit(self, channel: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        self._record("post_to_edit", channel, text)
        return channel, self._next_ts()

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        self._record("update_message", channel, text, ts=ts)

    async def dm(self, user_id: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        self._record("dm", user_id, text)
        return f"D{user_id}", self._next_ts()

    async def reply(self, target: ReplyTarget, text: str, blocks: Blocks | None = None) -> None:
        self._record("reply", target.user_id, text)

    async def permalink(self, channel: str, ts: str) -> str | None:
        self._record("permalink", channel, ts=ts)
        return f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        self._record("message", channel, ts=ts)
        return None

    async def find_own_message(self, channel: str, block_id: str, *, author: str, limit: int = 100) -> str | None:
        self._record("find_own_message", channel, block_id=block_id)
        return None

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self._record("publish_home", user_id)

    # ----- people ---------------------------------------------------------------------------------
    async def user_id_for_email(self, email: str) -> str | None:
        self._record("user_id_for_email", email)
        return None

    async def email_of(self, user_id: str) -> str | None:
        self._record("email_of", user_id)
        return None

    async def user_exists(self, user_id: str) -> bool:
        self._record("user_exists", user_id)
        return True

    async def group_members(self, group_id: str) -> list[str]:
        self._record("group_members", group_id)
        return []

    # ----- canvases and files ---------------------------------------------------------------------
    async def create_channel_canvas(self, channel_id: str, title: str, markdown: str) -> str:
        self._record("create_channel_canvas", channel_id, title)
        return "F0CANVAS"

    async def replace_canvas(self, canvas_id: str, markdown: str) -> None:
        self._record("replace_canvas", canvas_id)

    async def channel_canvas(self, channel_id: str) -> str | None:
        self._record("channel_canvas", channel_id)
        return None

    async def upload(
        self, *, filename: str, content: bytes, title: str, channel_id: str | None = None, comment: str | None = None
    ) -> UploadedFile:
        self._record("upload", channel_id or "", title, filename=filename)
        return UploadedFile(id=f"F0{next(self._ts)}", permalink=None)


async def memory_database() -> UnitOfWorkFactory:
    """A unit-of-work factory over a new in-memory SQLite database with every table."""
    return await memory_storage()


async def memory_storage() -> Callable[..., UnitOfWork]:
    """The same as `memory_database`, as storage's own unit of work (for what only storage does, such as
    claiming due timers as the tick does)."""
    engine = create_async_engine(
        "sqlite+aiosqlite:///:memory:", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    sessions = session_factory(engine)

    def uow(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(sessions)  # one connection: nothing to keep apart

    return uow


@asynccontextmanager
async def sqlite_database(folder: Path) -> AsyncIterator[Callable[..., UnitOfWork]]:
    """A unit-of-work factory over a new SQLite file in `folder`, set up as production sets SQLite up (WAL,
    BEGIN IMMEDIATE, writers queued): as fast as `memory_database`, whose one shared connection lets units
    of work running at once (a set-up's branches, a fan-out's refreshes) roll back each other's writes."""
    engine = create_engine(f"sqlite:///{folder / 'tocsin.db'}")
    await use_wal(engine)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    sessions, writers = session_factory(engine), WriterQueue()

    def uow(*, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(sessions, read_only=read_only, writer_lock=writers)

    try:
        yield uow
    finally:
        await engine.dispose()


class ScriptedSlack(RecordingSlack):
    """A RecordingSlack told what the workspace holds and what Slack refuses: `refuse` makes a method (in
    one channel, or everywhere) raise once it is recorded; `emails`, `stored`, `own_messages`,
    `own_channels` and `canvases` are what the look-ups find."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals: dict[tuple[str, str | None], Exception] = {}
        self.emails: dict[str, str] = {}  # address → user ID, as users.lookupByEmail answers
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → the message
        self.own_messages: dict[tuple[str, str], str] = {}  # (channel, block id) → the ts of Tocsin's message
        self.own_channels: dict[str, CreatedChannel] = {}  # name → a channel Tocsin made
        self.canvases: dict[str, str] = {}  # channel → its canvas
        self._blocks: Blocks | None = None  # the blocks of the call being recorded

    # ----- what was shown: each message's blocks, kept with its call (`shown`) -----------------------
    async def post(self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None) -> str:
        self._blocks = blocks  # taken by _record before the first await
        return await super().post(channel, text, blocks, thread_ts=thread_ts)

    async def post_to_edit(self, channel: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        self._blocks = blocks
        return await super().post_to_edit(channel, text, blocks)

    async def update_message(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        self._blocks = blocks
        await super().update_message(channel, ts, text, blocks)

    async def dm(self, user_id: str, text: str, blocks: Blocks | None = None) -> tuple[str, str]:
        self._blocks = blocks
        return await super().dm(user_id, text, blocks)

    async def reply(self, target: ReplyTarget, text: str, blocks: Blocks | None = None) -> None:
        self._blocks = blocks
        await super().reply(target, text, blocks)

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self._blocks = view.get("blocks")
        await super().publish_home(user_id, view)

    # ----- what the workspace holds, and what Slack refuses -------------------------------------------
    def refuse(self, method: str, error: Exception, *, where: str | None = None) -> None:
        """From now on `method` (only in `where`, if given) fails with `error`."""
        self.refusals[(method, where)] = error

    def allow(self, method: str, *, where: str | None = None) -> None:
        """`method` (in `where`) works again."""
        self.refusals.pop((method, where), None)

    def _record(self, method: str, where: str, text: str = "", **extra: Any) -> None:
        blocks, self._blocks = self._blocks, None
        super()._record(method, where, text, **extra, **({"blocks": blocks} if blocks else {}))
        error = self.refusals.get((method, where)) or self.refusals.get((method, None))
        if error is not None:
            raise error

    async def user_id_for_email(self, email: str) -> str | None:
        await super().user_id_for_email(email)
        return self.emails.get(email)

    async def email_of(self, user_id: str) -> str | None:
        await super().email_of(user_id)
        return next((email for email, user in self.emails.items() if user == user_id), None)

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        await super().message(channel, ts)
        return self.stored.get((channel, ts))

    async def find_own_message(self, channel: str, block_id: str, *, author: str, limit: int = 100) -> str | None:
        await super().find_own_message(channel, block_id, author=author, limit=limit)
        return self.own_messages.get((channel, block_id))

    async def find_own_channel(self, names: list[str], *, creator: str, private: bool = False) -> CreatedChannel | None:
        await super().find_own_channel(names, creator=creator, private=private)
        return next((self.own_channels[n] for n in names if n in self.own_channels), None)

    async def channel_canvas(self, channel_id: str) -> str | None:
        await super().channel_canvas(channel_id)
        return self.canvases.get(channel_id)


def shown(call: SlackCall) -> str:
    """Everything a call showed (its text and its blocks' JSON), to look for words in."""
    return call.text + json.dumps(call.extra.get("blocks") or [])


class QueuedWork:
    """Background work (the `BackgroundWork` port) kept until the test runs it."""

    def __init__(self) -> None:
        self.jobs: list[Callable[[], Awaitable[object]]] = []

    def submit(self, body: dict[str, Any], job: Callable[[], Awaitable[object]]) -> None:
        self.jobs.append(job)

    async def run_all(self) -> None:
        """Run every job submitted so far, and those they submit, in order."""
        while self.jobs:
            await self.jobs.pop(0)()


async def incident_in_channel(
    uow: UnitOfWorkFactory,
    *,
    now: datetime,
    channel_id: str | None = "C0INC1",
    header_ts: str | None = "1700000000.000001",
    **new: Any,
) -> Incident:
    """An incident stored as a finished declare leaves it: its declarer (Alice unless `declared_by` says)
    its Incident Commander, its channel and header recorded. `new`: NewIncident's fields to change."""
    values: dict[str, Any] = {
        "team_id": "T1",
        "title": "Checkout errors",
        "severity": "SEV2",
        "declared_by": "U0ALICE",
        "declare_key": f"key-{channel_id}",
    }
    declared = NewIncident(**(values | new))
    async with uow() as work:
        number = await work.incidents.next_number(declared.team_id)
        incident = await work.incidents.add(declared, number=number, now=now)
        who = declared.declared_by
        await work.incidents.assign_role(incident.id, role=IC_ROLE, user_id=who, by=who, now=now)
        if channel_id is not None:
            await work.incidents.set_channel(incident.id, channel_id=channel_id, channel_name=f"inc-{number}")
        if header_ts is not None:
            await work.incidents.set_header(incident.id, header_ts=header_ts)
        await work.commit()
    return await stored_incident(uow, incident.id)


async def stored_incident(uow: UnitOfWorkFactory, incident_id: int) -> Incident:
    """An incident as the database has it now."""
    async with uow(read_only=True) as work:
        stored = await work.incidents.get(incident_id)
    assert stored is not None
    return stored


async def timeline_texts(uow: UnitOfWorkFactory, incident_id: int, kind: TimelineKind | None = None) -> list[str]:
    """The texts of an incident's timeline entries (of one kind, if given), oldest first."""
    async with uow(read_only=True) as work:
        entries = await work.incidents.timeline(incident_id)
    return [e.text for e in entries if kind is None or e.kind is kind]


RUNBOOKS = {  # a runbook for titles naming a database (two steps), and one for payments
    "database": "---\ntitle: Database failover\nkeywords: [database]\n---\n## Check\n"
    "- [ ] Check replication lag\n- [ ] Promote the replica\n",
    "payments": "---\ntitle: Payments down\nkeywords: [payments]\n---\n- [ ] Call the provider\n",
}


def runbook_library(folder: Path, policy: Policy) -> RunbookLibrary:
    """A runbooks folder holding RUNBOOKS."""
    for name, text in RUNBOOKS.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return RunbookLibrary(folder, policy)


async def event_kinds(uow: UnitOfWorkFactory, incident_id: int) -> list[str]:
    """The kinds of the events the event log holds for an incident, oldest first."""
    async with uow(read_only=True) as work:
        assert isinstance(work, UnitOfWork)  # the in-memory database's: storage's own, which can read the log
        return [event.kind.value for event in await work.events.of_incident(incident_id)]


async def fire_page_steps(uow: UnitOfWorkFactory, pager: Pager, *, now: datetime) -> list[TimerResult]:
    """What the timer tick does for pages at `now`: claim the due steps, send them, record them, then let
    the pager finish (announcements, digest edits)."""
    async with uow() as work:
        assert isinstance(work, UnitOfWork)  # the in-memory database's: storage's own, which claims timers
        claimed = await work.timers.claim(now=now, lease=timedelta(minutes=1), token="tick", limit=50, follow_ups=False)
        await work.commit()
    results = [await pager.send_step(page, channel, now=now) for page, channel in claimed.pages.values()]
    async with uow() as work:
        assert isinstance(work, UnitOfWork)
        taken = await work.timers.record(results, token="tick")
        await work.commit()
    for result, took in zip(results, taken, strict=True):
        if isinstance(result, PageStepped):
            await pager.recorded(result, taken=took)
        elif isinstance(result, AckTimedOut):
            await pager.reopened(result, taken=took)
    await pager.dms.flush()
    return results
