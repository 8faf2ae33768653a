"""Related past incidents: found for an incident (its service, alert group and labels, then its title through
the database's full-text search), shown in its channel once it is set up, in `/incident related` and in its
summary. A private incident is only ever shown to someone in its channel, and never in a channel's post."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.errors import slack_error
from bot.domain.incidents import Incident
from bot.domain.related import (
    SHOWN,
    Candidate,
    Match,
    Subject,
    alert_group_of,
    common_labels,
    keys_of,
    rank,
)
from bot.domain.slack_values import ReplyTarget
from bot.runtime.logs import event
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory
from bot.usecases.related_ports import RelatedViews
from bot.usecases.setup_run import SetupRun, SetupTools
from bot.usecases.visibility import Visibility

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Found:
    """What an incident's related incidents are, as one audience may see them."""

    matches: list[Match]
    linked: list[Candidate]

    def __bool__(self) -> bool:
        """Whether there is anything to show."""
        return bool(self.matches or self.linked)


@dataclass
class RelatedIncidents:
    """Finds and shows an incident's related past incidents."""

    uow: UnitOfWorkFactory
    slack: Slack
    views: RelatedViews
    clock: Clock
    visibility: Visibility | None = None  # given once the core is built; without it, private ones are hidden

    # ----- finding ---------------------------------------------------------------------------------
    async def keys(self, uow: UnitOfWork, incident: Incident) -> frozenset[str]:
        """What `incident` is keyed by: its service, and the alert group it came from and that group's
        identifying labels (remembered, so later incidents find it by them)."""
        declare_key = await uow.related.declare_key_of(incident.id)
        group = alert_group_of(declare_key) if declare_key else None
        labels: dict[str, str] = {}
        if group is not None:
            source, _, group_key = group.partition(":")
            labels = common_labels(await uow.related.alert_labels(source, group_key))
        found = keys_of(incident.service, group, labels)
        await uow.related.keep_keys(incident.id, incident.team_id, found)
        return found | await uow.related.keys_of(incident.id)

    async def find(self, incident: Incident, *, viewer: str | None) -> Found:
        """Up to SHOWN earlier incidents related to `incident` that `viewer` may see (None: a channel's
        post, which shows no private incident), and the incidents linked to it they may see."""
        async with self.uow(read_only=True) as uow:
            keys = await uow.related.keys_of(incident.id)
            subject = Subject.of(incident, keys)
            candidates = await uow.related.candidates(
                incident.team_id, keys=subject.keys, terms=subject.terms, below=incident.id
            )
            linked = await uow.related.linked(incident.id)
        linked_ids = {c.incident.id for c in linked}
        ranked = [m for m in rank(subject, candidates) if m.incident.id not in linked_ids]
        shown: list[Match] = []
        for match in ranked:
            if len(shown) == SHOWN:
                break
            if await self._may_see(match.incident, viewer):
                shown.append(match)
        visible_links = [c for c in linked if await self._may_see(c.incident, viewer)]
        return Found(shown, visible_links)

    async def _may_see(self, incident: Incident, viewer: str | None) -> bool:
        """A public incident, anyone; a private one, only a viewer in its channel (never a channel's post)."""
        if not incident.private:
            return True
        if viewer is None or self.visibility is None:
            return False
        return await self.visibility.may_see(incident, viewer)

    # ----- showing ---------------------------------------------------------------------------------
    async def show(self, incident: Incident, *, viewer: str, reply_to: ReplyTarget) -> None:
        """`/incident related`: the related incidents, to `viewer` only."""
        found = await self.find(incident, viewer=viewer)
        if not found:
            await self.slack.reply(reply_to, f"No earlier incidents look related to {incident.reference}.")
            return
        intro = f"Earlier incidents that look related to {incident.reference}:"
        await self.slack.reply(
            reply_to, *self.views.related_message(incident, found.matches, found.linked, now=self.clock(), intro=intro)
        )

    async def lines(self, incident: Incident, *, viewer: str | None) -> list[str]:
        """The summary's lines (IncidentContext): the related incidents as `viewer` may see them."""
        found = await self.find(incident, viewer=viewer)
        if not found:
            return []
        return self.views.related_lines(found.matches, found.linked, now=self.clock())

    async def post_in_channel(self, tools: SetupTools, run: SetupRun) -> bool:
        """The set-up's step: the incident is keyed, and its related incidents (no private one) are posted
        in its channel below the header; once (found by its mark when resumed), and nothing when none."""
        incident, channel = run.incident, run.incident.channel_id
        if channel is None:
            return True
        async with self.uow() as uow:
            await self.keys(uow, incident)
            await uow.commit()
        found = await self.find(incident, viewer=None)
        if not found:
            return True
        marker = f"{self.views.RELATED_BLOCK}:{incident.id}"
        if run.resumed and self.slack.bot_user_id:
            try:
                if await self.slack.find_own_message(channel, marker, author=self.slack.bot_user_id):
                    return True
            except Exception as exc:
                run.failed("related incidents", exc)
                return False
        intro = "Earlier incidents that look related:"
        message = self.views.related_message(incident, found.matches, found.linked, now=self.clock(), intro=intro)
        if not await run.step("related incidents", self.slack.post(channel, *message)):
            return False
        event(
            log,
            "%s: %d related incidents posted",
            incident.reference,
            len(found.matches),
            incident=incident.reference,
        )
        return True

    async def step(self, tools: SetupTools, run: SetupRun) -> bool:
        """The set-up step (a `Step`): never holds the set-up back for long, nor fails it for good."""
        try:
            return await self.post_in_channel(tools, run)
        except Exception as exc:  # the database or Slack is unreachable: the sweep tries again
            log.warning("%s: related incidents not posted: %s", run.incident.reference, slack_error(exc))
            run.failed("related incidents", exc)
            return False
