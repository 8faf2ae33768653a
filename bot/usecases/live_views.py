"""Keeping Slack's views of incidents current: the header message and topic, and App Home tabs.

Both are coalesced: a burst of changes to one incident becomes at most two header edits (chat.update is
Tier 3 and setTopic Tier 2), and the topic is only set when its text changes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.domain.errors import slack_error
from bot.domain.policy import Policy
from bot.runtime.coalesce import Coalescer
from bot.usecases.hooks import HomeSection
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.visibility import Visibility

log = logging.getLogger(__name__)

HOME_VIEWERS_WITHIN = timedelta(days=30)
# chat.update is Tier 3 (about 50 a minute per workspace): at most one header edit per incident this often.
HEADER_EDIT_INTERVAL = 2.0
HOME_PUBLISH_CONCURRENCY = 8
HOME_BLOCKS = 100  # Slack's most blocks in a Home tab view


@dataclass
class HeaderKeeper:
    """Re-renders an incident's header message and channel topic from the stored incident."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    min_interval: float = HEADER_EDIT_INTERVAL
    _coalescer: Coalescer[int] = field(init=False)

    def __post_init__(self) -> None:
        """Coalesce refreshes per incident, at most one edit per `min_interval` seconds."""
        self._coalescer = Coalescer(self._refresh, min_interval=self.min_interval)

    @property
    def edits(self) -> int:
        """How many refreshes actually ran (for tests and metrics)."""
        return self._coalescer.runs

    async def refresh(self, incident_id: int) -> None:
        """Bring the header and topic up to date; returns once they show every change made so far."""
        await self._coalescer.request(incident_id)

    async def _refresh(self, incident_id: int) -> None:
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(incident_id)
        if incident is None or incident.channel_id is None:
            return
        calls = []
        if incident.header_ts:
            text, body = self.messages.header_message(incident, self.policy, now=self.clock())
            calls.append(self.slack.update_message(incident.channel_id, incident.header_ts, text, body))
        topic = self.messages.topic(incident)
        if topic != incident.channel_topic:
            calls.append(self._set_topic(incident_id, incident.channel_id, topic))
        for result in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("header refresh for incident %s failed: %s", incident_id, slack_error(result))

    async def _set_topic(self, incident_id: int, channel_id: str, topic: str) -> None:
        await self.slack.set_topic(channel_id, topic)
        async with self.uow() as uow:
            await uow.incidents.update(incident_id, channel_topic=topic)
            await uow.commit()


@dataclass
class HomeKeeper:
    """Publishes the App Home tab: on opening, and to recent viewers when incidents change."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    visibility: Visibility
    sections: tuple[HomeSection, ...] = ()  # the viewer's own parts (contact methods, shifts…), below
    _coalescer: Coalescer[str] = field(init=False)

    def __post_init__(self) -> None:
        """Coalesce refreshes per workspace."""
        self._coalescer = Coalescer(self._refresh)

    async def opened(self, team_id: str, user_id: str) -> None:
        """Someone opened the Home tab: remember them and show it."""
        async with self.uow() as uow:
            await uow.incidents.saw_home(team_id, user_id, now=self.clock())
            await uow.commit()
        view = await self.view_for(team_id, user_id)
        await self.slack.publish_home(user_id, await self.with_sections(view, team_id, user_id))

    async def with_sections(self, view: dict[str, Any], team_id: str, user_id: str) -> dict[str, Any]:
        """`view` with the viewer's own sections below the incidents (which give up room to them: a view
        holds at most 100 blocks). A section that fails is left out, and the rest shown."""
        own: list[dict[str, Any]] = []
        for section in self.sections:
            try:
                own.extend(await section.blocks(team_id, user_id))
            except Exception as exc:
                log.warning("App Home for %s: a section was left out: %s", user_id, exc)
        if not own:
            return view
        own = own[: HOME_BLOCKS - 2]
        shared = list(view["blocks"])[: HOME_BLOCKS - len(own) - 1]
        return {**view, "blocks": [*shared, {"type": "divider"}, *own]}

    async def view_for(self, team_id: str, user_id: str) -> dict[str, Any]:
        """The Home tab as `user_id` may see it (open private incidents only if they are in the channel)."""
        async with self.uow(read_only=True) as uow:
            private = await uow.incidents.private_ones(team_id)
        return await self.view(team_id, hidden=await self.visibility.hidden_from(user_id, private))

    async def view(self, team_id: str, *, hidden: frozenset[int] = frozenset()) -> dict[str, Any]:
        """The Home tab as it is now: open incidents but the `hidden` ones, most severe first."""
        now = self.clock()
        async with self.uow(read_only=True) as uow:
            incidents = await uow.incidents.open_incidents(
                team_id, severity_order=self.policy.severity_names, limit=self.messages.HOME_SHOWN, hidden=hidden
            )
            counts = await uow.incidents.open_counts(team_id, hidden=hidden)
        return self.messages.home_view(incidents, self.policy, now=now, counts=counts)

    async def refresh(self, team_id: str) -> None:
        """Re-publish the Home tab for everyone who opened it recently."""
        await self._coalescer.request(team_id)

    async def _refresh(self, team_id: str) -> None:
        now = self.clock()
        async with self.uow(read_only=True) as uow:
            viewers = await uow.incidents.home_viewers(team_id, since=now - HOME_VIEWERS_WITHIN)
            private = await uow.incidents.private_ones(team_id) if viewers else []
        if not viewers:  # nobody looks at App Home: no need to read the open incidents
            return
        # Each open private incident shows only to its channel's members: one view per distinct set hidden.
        views: dict[frozenset[int], asyncio.Task[dict[str, Any]]] = {}
        limit = asyncio.Semaphore(HOME_PUBLISH_CONCURRENCY)

        async def publish(user_id: str) -> None:
            async with limit:
                try:
                    hidden = await self.visibility.hidden_from(user_id, private)
                    if hidden not in views:
                        views[hidden] = asyncio.ensure_future(self.view(team_id, hidden=hidden))
                    view = await self.with_sections(await views[hidden], team_id, user_id)
                    await self.slack.publish_home(user_id, view)
                except Exception as exc:  # one person's Home failing must not stop the others
                    log.warning("App Home for %s not refreshed: %s", user_id, slack_error(exc))

        await asyncio.gather(*(publish(user) for user in viewers))
