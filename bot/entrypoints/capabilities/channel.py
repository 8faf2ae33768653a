"""The incident channel as a workspace: the call bridge, bookmarks, retitling, archiving and continuation channels."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from slack_bolt.async_app import AsyncApp

from bot.domain.archives import ARCHIVE_JOB, WARNING_JOB
from bot.domain.context_policy import BridgePolicy
from bot.domain.errors import UserError
from bot.domain.numbers import parse_id
from bot.entrypoints import channel_commands
from bot.entrypoints.capabilities import Base, Core, Surfaces
from bot.entrypoints.listening import Request, accepted
from bot.runtime.zoom import ZoomCredentials, ZoomMeetings
from bot.slack.blocks import channel_context
from bot.slack.blocks.channel_context import KEEP_OPEN
from bot.slack.bookmarks import SlackBookmarks
from bot.slack.channels import SlackChannels
from bot.usecases.archives import ChannelArchives
from bot.usecases.bookmarks import SYNC_JOB, BookmarkKeeper
from bot.usecases.bridges import BridgeService
from bot.usecases.channel_ports import MeetingMaker
from bot.usecases.hooks import Hooks
from bot.usecases.retitle import Retitler
from bot.usecases.setup_run import then


@dataclass
class Channel:
    """The capability, built in two steps (bot/entrypoints/capabilities/__init__.py)."""

    base: Base
    name: str = "channel"
    bridges: BridgeService = field(init=False)
    bookmarks: BookmarkKeeper = field(init=False)
    _zoom: dict[tuple[str, ...], ZoomMeetings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The use cases the set-up's step needs (the rest wait for the core)."""
        base = self.base
        self.bridges = BridgeService(
            uow=base.uow,
            slack=base.slack,
            texts=channel_context,
            policy=base.policy,
            clock=base.clock,
            meetings=self._meetings,
            directory=base.directory,
        )
        self.bookmarks = BookmarkKeeper(
            uow=base.uow,
            slack=base.slack,
            bookmarks=SlackBookmarks(base.slack.client),
            clock=base.clock,
            wake_jobs=base.wake_jobs,
            policy=base.policy,
            public_url=base.public_url,
        )

    def hooks(self) -> Hooks:
        """What the core calls into: the call and the first bookmarks, once the header is shown."""
        return Hooks(setup_steps=(then(self.bridges.step, self.bookmarks.step),))

    def surfaces(self, core: Core) -> Surfaces:
        """How the capability is reached, once the core is built."""
        base = self.base
        bridges = replace(self.bridges, header=core.header)
        retitler = Retitler(
            uow=base.uow,
            slack=base.slack,
            renamer=SlackChannels(base.slack.client),
            messages=base.messages,
            texts=channel_context,
            policy=base.policy,
            clock=base.clock,
            header=core.header,
            channel_id=base.slack.channel_id,
            directory=base.directory,
        )
        archives = ChannelArchives(
            uow=base.uow,
            slack=base.slack,
            texts=channel_context,
            policy=base.policy,
            clock=base.clock,
            wake_jobs=base.wake_jobs,
        )

        def listeners(app: AsyncApp) -> None:
            work = accepted(core.background, base.clock)

            @app.action(KEEP_OPEN)
            @work
            async def keep_open(request: Request) -> None:
                incident_id = parse_id(request.action.get("value"))
                if incident_id is None:
                    raise UserError("That button isn't attached to an incident any more.")
                channel = (request.body.get("channel") or {}).get("id")
                await archives.keep_open(incident_id, actor=request.actor, in_channel=channel, at=request.received)

        return Surfaces(
            jobs={SYNC_JOB: self.bookmarks.run_job, WARNING_JOB: archives.warn, ARCHIVE_JOB: archives.archive},
            subscribers=(self.bookmarks, archives),
            commands=channel_commands.family(bridges, retitler),
            listeners=listeners,
        )

    def _meetings(self, setting: BridgePolicy) -> MeetingMaker:
        """The Zoom client for a setting (one per account, so its token is reused); UserError naming the
        variable when a credential is not set."""
        environ = self.base.environ
        names = (setting.account_id_env, setting.client_id_env, setting.client_secret_env)
        missing = [n for n in names if not environ.get(n)]
        if missing:
            raise UserError(f"the Zoom bridge needs {', '.join(missing)} set")
        account, client, secret = (environ[n] for n in names)
        key = (setting.api_url, setting.oauth_url, setting.host, account, client)
        if key not in self._zoom:
            credentials = ZoomCredentials(account_id=account, client_id=client, client_secret=secret)
            self._zoom[key] = ZoomMeetings(
                self.base.http, credentials, api_url=setting.api_url, oauth_url=setting.oauth_url, host=setting.host
            )
        return self._zoom[key]


def capability(base: Base) -> Channel:
    """Build the capability."""
    return Channel(base)
