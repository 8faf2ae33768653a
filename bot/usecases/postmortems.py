"""Publishing the postmortem draft: the incident channel's canvas, or a Markdown file where canvases are
refused; regenerating edits the canvas in place or posts a new file version that says what it supersedes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import jinja2

from bot.domain.errors import ConfigError, NotFoundError, SlackRefused, UserError, slack_error
from bot.domain.events import PostmortemPublished, incident_event
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.postmortem import (
    PostmortemFacts,
    Publication,
    canvas_mention,
    load_template,
    plain_mention,
    render_draft,
)
from bot.runtime.logs import event
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)

CANVAS = "canvas"
FILE = "file"
MAX_CANVAS_MARKDOWN = 1_048_576  # conversations.canvases.create: Markdown "limited to 1 MiB"


def channel_url(incident: Incident) -> str | None:
    """A link that opens the incident channel in any workspace (Slack's app_redirect)."""
    if not incident.channel_id:
        return None
    return f"https://slack.com/app_redirect?channel={incident.channel_id}&team={incident.team_id}"


@dataclass
class PostmortemService:
    """Builds the draft from the database and publishes it in the incident channel."""

    uow: UnitOfWorkFactory
    slack: Slack
    policy: Policy
    clock: Clock
    template: jinja2.Template
    # What the summary of a publication is shown with (`tocsin postmortem`, which only drafts, has none).
    messages: Messages | None = None
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    _type_templates: dict[str, jinja2.Template] = field(default_factory=dict)  # by path, read once

    async def facts(self, incident_id: int) -> PostmortemFacts:
        """Everything recorded about an incident, as the draft needs it."""
        async with self.uow(read_only=True) as uow:
            incident = await uow.incidents.get(incident_id)
            if incident is None:
                raise NotFoundError("That incident no longer exists.")
            timeline = await uow.incidents.timeline(incident_id)
            roles = await uow.incidents.role_history(incident_id)
            follow_ups = await uow.follow_ups.of_incident(incident_id)
            related = await uow.related.linked(incident_id)
        return PostmortemFacts(
            incident=incident,
            timeline=timeline,
            roles=roles,
            follow_ups=follow_ups,
            related=list(related),
            channel_url=channel_url(incident),
            generated_at=self.clock(),
        )

    async def draft(self, incident_id: int, *, mention: Callable[[str], str] = plain_mention) -> str:
        """The Markdown draft, as `tocsin postmortem` prints it."""
        facts = await self.facts(incident_id)
        return render_draft(facts, self.policy, template=self.template_for(facts.incident), mention=mention)

    def template_for(self, incident: Incident) -> jinja2.Template:
        """The incident type's `postmortem_template` when it has one that reads, else the policy's."""
        kind = self.policy.types.get(incident.incident_type) if incident.incident_type else None
        path = kind.postmortem_template if kind else None
        if path is None:
            return self.template
        if path not in self._type_templates:
            try:
                self._type_templates[path] = load_template(path)
            except ConfigError as exc:  # `tocsin check` says so too: the policy's template does meanwhile
                log.warning(
                    "%s: the %s type's template is not used: %s", incident.reference, incident.incident_type, exc
                )
                return self.template
        return self._type_templates[path]

    async def publish(self, incident: Incident, *, actor: str | None) -> Publication:
        """Post (or regenerate) the draft in the incident channel, with a short summary message and a link."""
        if not incident.channel_id:
            raise UserError(f"{incident.reference} has no channel to post its postmortem in.")
        if self.messages is None:
            raise RuntimeError("publishing a postmortem needs the message catalogue")
        lock = self._locks.setdefault(incident.id, asyncio.Lock())
        async with lock:  # one publication at a time per incident in this process
            facts = await self.facts(incident.id)
            async with self.uow(read_only=True) as uow:
                previous = await uow.postmortems.latest(incident.id)
            publication = await self._to_canvas(facts, previous) or await self._to_file(facts, previous)
            async with self.uow() as uow:
                await uow.postmortems.published(
                    incident.id,
                    kind=publication.kind,
                    slack_id=publication.slack_id,
                    version=publication.version,
                    now=self.clock(),
                )
                where = "the channel canvas" if publication.kind == CANVAS else "a Markdown file"
                verb = "posted" if publication.version == 1 else f"regenerated (version {publication.version})"
                await uow.incidents.record(
                    incident.id,
                    TimelineEntry(TimelineKind.POSTMORTEM, self.clock(), actor, f"Postmortem draft {verb} as {where}"),
                )
                published = PostmortemPublished(draft_version=publication.version, published_as=publication.kind)
                await uow.events.append(incident_event(published, incident, actor=actor, at=self.clock()))
                await uow.commit()
        event(
            log,
            "%s: postmortem draft version %d published as a %s",
            incident.reference,
            publication.version,
            publication.kind,
            incident=incident.reference,
            actor=actor,
            team=incident.team_id,
        )
        summary = self.messages.postmortem_posted(facts.incident, publication)
        await self.slack.post(incident.channel_id, *summary)
        return publication

    async def refresh(self, incident_id: int) -> None:
        """Bring a published canvas up to date (its follow-ups changed), quietly and without a new version.

        A draft published as a file is left alone: a new file for every follow-up would be noise, and
        `/incident postmortem` makes one on request.
        """
        lock = self._locks.setdefault(incident_id, asyncio.Lock())
        async with lock:
            async with self.uow(read_only=True) as uow:
                previous = await uow.postmortems.latest(incident_id)
            if previous is None or previous[0] != CANVAS:
                return
            facts = await self.facts(incident_id)
            markdown = render_draft(
                facts, self.policy, template=self.template_for(facts.incident), mention=canvas_mention
            )
            if len(markdown) > MAX_CANVAS_MARKDOWN:
                return
            try:
                await self.slack.replace_canvas(previous[1], markdown)
            except SlackRefused as exc:
                log.warning(
                    "%s: the postmortem canvas was not refreshed (%s)", facts.incident.reference, slack_error(exc)
                )

    async def _to_canvas(self, facts: PostmortemFacts, previous: tuple[str, str, int] | None) -> Publication | None:
        """The channel canvas: edited in place when it exists; None when canvases are refused here."""
        incident = facts.incident
        assert incident.channel_id is not None
        if previous is not None and previous[0] == FILE:
            return None  # this workspace refused canvases before: keep to files, so versions stay together
        markdown = render_draft(facts, self.policy, template=self.template_for(facts.incident), mention=canvas_mention)
        version = previous[2] + 1 if previous else 1
        if len(markdown) > MAX_CANVAS_MARKDOWN:  # a very long incident: files have no such limit
            log.info("%s: the draft is over a canvas's 1 MiB; posting it as a file", incident.reference)
            return None
        try:
            if previous is not None:
                await self.slack.replace_canvas(previous[1], markdown)
                return Publication(CANVAS, previous[1], version)
            title = f"{incident.reference} postmortem (draft)"
            try:
                canvas_id = await self.slack.create_channel_canvas(incident.channel_id, title, markdown)
            except SlackRefused as exc:
                if slack_error(exc) != "channel_canvas_already_exists":
                    raise
                # Someone made the channel's canvas by hand: the draft goes into it rather than nowhere.
                existing = await self.slack.channel_canvas(incident.channel_id)
                if existing is None:
                    raise
                await self.slack.replace_canvas(existing, markdown)
                canvas_id = existing
            return Publication(CANVAS, canvas_id, version)
        except SlackRefused as exc:
            if previous is not None:
                raise  # the canvas we made before is refused now: say so rather than post a duplicate file
            log.info("%s: canvas refused (%s); posting the draft as a file", incident.reference, slack_error(exc))
            return None

    async def _to_file(self, facts: PostmortemFacts, previous: tuple[str, str, int] | None) -> Publication:
        """A Markdown file shared in the channel; a new version names the one it supersedes."""
        incident = facts.incident
        version = previous[2] + 1 if previous else 1
        markdown = render_draft(facts, self.policy, template=self.template_for(facts.incident), mention=plain_mention)
        filename = f"{incident.reference}-postmortem-v{version}.md"
        uploaded = await self.slack.upload(
            filename=filename,
            content=markdown.encode("utf-8"),
            title=f"{incident.reference} postmortem (draft, version {version})",
            channel_id=incident.channel_id,
        )
        superseded = None
        if previous is not None:
            superseded = f"version {previous[2]}" + (" in the channel canvas" if previous[0] == CANVAS else "")
        return Publication(FILE, uploaded.id, version, link=uploaded.permalink, superseded=superseded)
