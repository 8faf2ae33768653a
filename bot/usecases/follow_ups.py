"""Follow-up use cases: add, list, mark done, and the owner's reminders (fired by the timer tick)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.errors import NotFoundError
from bot.domain.events import FollowUpClosed, FollowUpCreated, Subject, incident_event, new_event
from bot.domain.follow_ups import FollowUp, NewFollowUp, check_new, first_reminder, next_reminder
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.slack_values import ReplyTarget
from bot.domain.timer_results import FollowUpReminded, Released, TimerResult
from bot.domain.tracker_issues import tracker_name_of
from bot.domain.user_refs import token_name
from bot.runtime.metrics import Metrics
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory
from bot.usecases.visibility import Visibility, hidden_from

log = logging.getLogger(__name__)


@dataclass
class FollowUpService:
    """Action items from incidents."""

    uow: UnitOfWorkFactory
    slack: Slack
    messages: Messages
    policy: Policy
    clock: Clock
    metrics: Metrics
    # Called with the incident id after a follow-up is added or closed (the published postmortem shows them).
    visibility: Visibility | None = None  # who may see a private incident's follow-ups (none: nobody outside)

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's time zone (the policy's `timezone`): due dates are days there."""
        return ZoneInfo(self.policy.timezone)

    def today(self) -> date:
        """Today in the workspace's time zone."""
        return self.clock().astimezone(self.zone).date()

    async def add(self, incident: Incident, item: NewFollowUp, *, actor: str, reply_to: ReplyTarget | None) -> FollowUp:
        """Add an action item to an incident; it goes on the timeline and is announced in the channel."""
        added = await self.record(incident, item, actor=actor)
        await self.announce_added(incident, added, reply_to=reply_to)
        return added

    async def record(self, incident: Incident, item: NewFollowUp, *, actor: str) -> FollowUp:
        """Store an action item of an incident, with its timeline entry and event (`add` announces it too)."""
        item = check_new(item, today=self.today())
        now = self.clock()
        async with self.uow() as uow:
            new_id = await uow.follow_ups.add(
                incident.id, item, by=actor, now=now, remind_at=first_reminder(item.due_on, self.zone)
            )
            owner = f" (owner <@{item.owner}>)" if item.owner else ""
            due = f", due {item.due_on.isoformat()}" if item.due_on else ""
            note = f"Follow-up added: {item.text}{owner}{due}"
            await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.FOLLOW_UP, now, actor, note))
            created = FollowUpCreated(follow_up_id=new_id, text=item.text, owner=item.owner, due_on=item.due_on)
            await uow.events.append(incident_event(created, incident, actor=actor, at=now))
            await uow.commit()
        return await self.get(new_id)

    async def announce_added(self, incident: Incident, added: FollowUp, *, reply_to: ReplyTarget | None) -> None:
        """Show a new follow-up in the incident's channel (else to `reply_to`); its owner joins a private
        incident's channel. SlackRefused or SlackUnreachable when Slack fails (the follow-up stands)."""
        if incident.private and added.owner and incident.channel_id:  # the owner's reminders tell its text
            await self.slack.invite(incident.channel_id, [added.owner])
        line = self.messages.follow_up_added(added, self.today())
        if incident.channel_id:
            await self.slack.post(incident.channel_id, line)
        elif reply_to is not None:
            await self.slack.reply(reply_to, line)

    async def get(self, follow_up_id: int) -> FollowUp:
        """One follow-up."""
        async with self.uow(read_only=True) as uow:
            found = await uow.follow_ups.get(follow_up_id)
        if found is None:
            raise NotFoundError("That follow-up no longer exists.")
        return found

    async def listing(
        self, *, team_id: str, scope: str, actor: str, incident: Incident | None = None
    ) -> tuple[str, list[dict[str, object]]]:
        """Follow-ups to show: mine (open), all open, or one incident's (open and done)."""
        async with self.uow(read_only=True) as uow:
            if scope == "incident" and incident is not None:
                items = await uow.follow_ups.of_incident(incident.id)
                heading = f"Follow-ups of {incident.reference}"
            elif scope == "mine":
                items = await uow.follow_ups.open_ones(team_id, owner=actor)
                heading = "Your open follow-ups"
            else:
                items = await uow.follow_ups.open_ones(team_id)
                heading = "Open follow-ups"
            private = await uow.incidents.private_ones(team_id, open_only=False) if scope != "incident" else []
        if private:  # a private incident's follow-ups show only to its channel's members
            hidden = await hidden_from(self.visibility, actor, private)
            items = [item for item in items if item.incident_id not in hidden]
        offer = bool(self.policy.trackers)  # a tracker is configured: open follow-ups offer an issue
        return self.messages.follow_up_list(items, heading=heading, today=self.today(), offer_issue=offer)

    async def mark_done(self, follow_up_id: int, *, actor: str, reply_to: ReplyTarget | None) -> bool:
        """Close a follow-up (its reminders stop); a second click says it was already done. Whether this
        call closed it (`reply_to`: who hears the outcome; the API's caller needs no reply)."""
        now = self.clock()
        item = await self.get(follow_up_id)
        async with self.uow() as uow:
            closed = await uow.follow_ups.mark_done(follow_up_id, by=actor, now=now)
            if closed:
                note = f"Follow-up done: {item.text}"
                await uow.incidents.record(item.incident_id, TimelineEntry(TimelineKind.FOLLOW_UP, now, actor, note))
                done = FollowUpClosed(follow_up_id=follow_up_id)
                await uow.events.append(new_event(done, subject=Subject(item.incident_id), actor=actor, at=now))
            await uow.commit()
        if reply_to is None:
            return closed
        if not closed:
            current = await self.get(follow_up_id)
            by = f" by {_who(current.done_by)}" if current.done_by else ""
            await self.slack.reply(reply_to, f"That follow-up was already marked done{by}.")
            return False
        await self.slack.reply(reply_to, f":white_check_mark: Done: {self.messages.escape(item.text)}")
        return True

    async def send_reminder(self, item: FollowUp, *, now: datetime) -> TimerResult:
        """DM the owner (or, with no owner, the incident's commander) that `item` (as the tick claimed it)
        is due or overdue; what to record, with the next weekly reminder."""
        due_at = item.remind_at
        if due_at is None or not item.is_open or item.due_on is None:
            return Released("follow_up", item.id)
        who = item.owner
        if who is None:
            async with self.uow(read_only=True) as uow:
                incident = await uow.incidents.get(item.incident_id)
            who = incident.commander if incident else None
        if who is not None:
            await self.slack.dm(who, *self.messages.follow_up_reminder(item, today=now.astimezone(self.zone).date()))
        following = next_reminder(item.due_on, after=now, zone=self.zone) if who is not None else None
        return FollowUpReminded(follow_up_id=item.id, due_at=due_at, next_at=following, sent_at=self.clock())

    def recorded(self, result: FollowUpReminded) -> None:
        """The reminder is on record: count how late it went out."""
        late = (result.sent_at - result.due_at).total_seconds()
        self.metrics.timer_lateness.labels("follow_up").observe(max(0.0, late))


def _who(actor: str) -> str:
    """Who did something, for a Slack reply: a mention, or an API token by its name."""
    name = token_name(actor)
    if name is None and (tracker := tracker_name_of(actor)) is not None:
        return f"the tracker {tracker}"  # its issue was closed there
    return f"<@{actor}>" if name is None else f"the API token {name}"
