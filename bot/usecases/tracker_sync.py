"""Follow-ups where the work is tracked: the durable subscriber "trackers" that makes a follow-up's issue
(when the policy says `follow_ups.create: auto`) and closes or reopens it as the follow-up is; the
**Create issue** button; and inbound changes (webhooks, the polling fallback) that close or reopen the
follow-up as the tracker's principal (`tracker:<name>`).

- Which tracker: the incident's service's `tracker`, else `follow_ups.tracker`. A private incident's
  follow-ups go only to a tracker marked `private: true`; otherwise nothing about it reaches any tracker.
- A tracker that is busy or unreachable raises, so the event log hands the event over again with backoff
  (a call the tracker asked to wait for is not even made: the adapter raises at once). An issue still not
  made a day after its follow-up is given up like a refusal.
- A refusal (a bad token, an unknown project) is not retried: one log line per tracker and reason, the
  `tocsin_tracker_errors_total{tracker,reason}` metric, `failed_reason` on record, and the follow-up's
  owner (or the incident's commander) told once by DM.
- Inbound: a delivery seen already changes nothing; otherwise the tracker is asked for the issue's state
  now (the webhook's word when it cannot answer), and only a state differing from the stored one is
  applied, so duplicates and deliveries overtaken by later ones change nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import NotFoundError, UserError
from bot.domain.events import (
    DomainEvent,
    EventKind,
    FollowUpClosed,
    FollowUpCreated,
    FollowUpReopened,
    incident_event,
)
from bot.domain.follow_ups import FollowUp, first_reminder
from bot.domain.incidents import Incident, TimelineEntry, TimelineKind
from bot.domain.policy import Policy
from bot.domain.tracker_issues import FollowUpIssue, changes_anything, issue_for, tracker_actor
from bot.domain.tracker_policy import tracker_for
from bot.runtime.metrics import Metrics
from bot.usecases.ports import Clock, Slack, UnitOfWork, UnitOfWorkFactory
from bot.usecases.tracker_ports import IssueChange, IssueState, Tracker, TrackerError, TrackerRefused

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)  # an issue still not made this long after its follow-up is given up
POLL_EVERY = timedelta(minutes=10)
POLL_LEASE = timedelta(minutes=2)
POLL_BATCH = 50


@dataclass
class TrackerSync:
    """Follow-ups and their issues, both ways."""

    uow: UnitOfWorkFactory
    trackers: Mapping[str, Tracker]
    policy: Policy
    slack: Slack
    clock: Clock
    metrics: Metrics
    # The owner's e-mail for a Slack user (None: not known; the body names the owner instead).
    email_of: Callable[[str], Awaitable[str | None]] | None = None
    incident_link: Callable[[Incident], str | None] = lambda _incident: None
    postmortem_link: Callable[[Incident], str | None] = lambda _incident: None
    name: str = "trackers"
    kinds: Collection[EventKind] | None = frozenset(
        {EventKind.FOLLOW_UP_CREATED, EventKind.FOLLOW_UP_CLOSED, EventKind.FOLLOW_UP_REOPENED}
    )
    batch: int = 8  # each one a tracker call of up to 10 s: a claim's work fits inside its lease
    _logged: set[tuple[str, str]] = field(default_factory=set)

    async def handle(self, event: DomainEvent) -> None:
        """Act on a follow-up's event; raises (to be handed it again later) when the tracker is busy."""
        data = event.data
        if isinstance(data, FollowUpCreated):
            if self.policy.follow_ups.create == "auto":
                await self._make(data.follow_up_id, given_up=self.clock() - event.occurred_at >= GIVE_UP_AFTER)
        elif isinstance(data, FollowUpClosed | FollowUpReopened):
            await self._push(data.follow_up_id, actor=event.actor)

    async def create_issue(self, follow_up_id: int, *, actor: str) -> FollowUpIssue:
        """The **Create issue** button: make the follow-up's issue now (its issue, if it has one);
        UserError saying why when it cannot go to a tracker, or the tracker failed."""
        item, incident, stored = await self._load(follow_up_id)
        if stored is not None and stored.made:
            return stored
        name = self.tracker_of(incident)
        if name is None:
            raise UserError(
                "This follow-up stays in Tocsin: no tracker is set for it"
                + (" that allows private incidents." if incident.private else ".")
            )
        try:
            made = await self._create(name, item, incident)
        except TrackerError as exc:
            self._count(name, exc)
            raise UserError(f"The tracker {name} did not make the issue ({exc.reason}); try again later.") from exc
        log.info("follow-up %s: issue %s made in %s by %s", follow_up_id, made.key, name, actor)
        return made

    def tracker_of(self, incident: Incident) -> str | None:
        """The tracker an incident's follow-ups go to (None: they stay in Tocsin)."""
        services = [incident.service] if incident.service else []
        name = tracker_for(self.policy, services, private=incident.private)
        return name if name in self.trackers else None

    async def _make(self, follow_up_id: int, *, given_up: bool) -> None:
        """Make the issue for a new follow-up, once; a refusal (or a day of failures) is told once."""
        try:
            item, incident, stored = await self._load(follow_up_id)
        except NotFoundError:
            return
        name = self.tracker_of(incident)
        if name is None or stored is not None or not item.is_open:
            return  # stays in Tocsin, has its issue (or its refusal told), or was done before it was made
        try:
            await self._create(name, item, incident)
        except TrackerRefused as exc:
            self._count(name, exc)
            await self._refused(name, item, incident, exc.reason)
        except TrackerError as exc:
            self._count(name, exc)
            if given_up:
                await self._refused(name, item, incident, f"gave up after a day: {exc.reason}")
                return
            raise

    async def _create(self, name: str, item: FollowUp, incident: Incident) -> FollowUpIssue:
        tracker = self.trackers[name]
        email = await self.email_of(item.owner) if item.owner and self.email_of else None
        issue = issue_for(
            item,
            incident,
            incident_url=self.incident_link(incident),
            postmortem_url=self.postmortem_link(incident),
            owner_name=f"<@{item.owner}> in Slack" if item.owner else None,
            owner_email=email,
            labels=self.policy.trackers[name].labels_for(incident.severity),
            components=self.policy.trackers[name].components_for(incident.severity),
        )
        ref = await tracker.create_issue(issue)
        now = self.clock()
        async with self.uow() as uow:
            if await uow.trackers.made(item.id, name, ref, now=now, poll_at=now + POLL_EVERY):
                note = f"Issue {ref.key} made in {name} for the follow-up: {item.text} ({ref.url})"
                await uow.incidents.record(incident.id, TimelineEntry(TimelineKind.FOLLOW_UP, now, None, note))
            await uow.commit()
            made = await uow.trackers.issue_of(item.id)
        assert made is not None
        return made

    async def _refused(self, name: str, item: FollowUp, incident: Incident, reason: str) -> None:
        """Record the refusal and, the first time, tell the owner (or the commander) why."""
        async with self.uow() as uow:
            first = await uow.trackers.refused(item.id, name, reason, now=self.clock())
            await uow.commit()
        who = item.owner or incident.commander
        if not first or who is None:
            return
        text = (
            f"The follow-up “{item.text}” of {incident.reference} could not be made an issue in {name}: "
            f"{reason}. It stays in Tocsin; ask an admin to check the tracker's token, then use Create issue."
        )
        try:
            await self.slack.dm(who, text)
        except Exception as exc:  # the refusal is on record; a lost DM must not retry the event
            log.warning("follow-up %s: could not tell %s about the refusal: %s", item.id, who, type(exc).__name__)

    async def _push(self, follow_up_id: int, *, actor: str | None) -> None:
        """Make the issue what its follow-up is now (closed or open), unless it is so already. The
        follow-up's state now, not the event's: an event overtaken by a later change pushes nothing stale,
        and a change the tracker itself made is never sent back to it."""
        async with self.uow(read_only=True) as uow:
            stored = await uow.trackers.issue_of(follow_up_id)
            item = await uow.follow_ups.get(follow_up_id)
        if stored is None or item is None or actor == tracker_actor(stored.tracker):
            return
        state: IssueState = "open" if item.is_open else "closed"
        if not changes_anything(stored, state):
            return
        tracker = self.trackers.get(stored.tracker)
        if tracker is None:
            return  # the tracker was taken out of the policy: its issues are left as they are
        try:
            await tracker.set_state(stored.issue_id, state)
        except TrackerRefused as exc:
            self._count(stored.tracker, exc)
            return
        except TrackerError as exc:
            self._count(stored.tracker, exc)
            raise
        async with self.uow() as uow:
            await uow.trackers.set_state(follow_up_id, state, now=self.clock())
            await uow.commit()

    async def apply(self, tracker_name: str, change: IssueChange) -> bool:
        """An inbound webhook's change; whether it changed the follow-up (a duplicate, or a state already
        stored, changes nothing)."""
        now = self.clock()
        async with self.uow() as uow:
            if not await uow.trackers.first_delivery(tracker_name, change.delivery_id, now=now):
                return False
            stored = await uow.trackers.by_issue(tracker_name, change.issue_id)
            await uow.commit()
        if stored is None:
            return False
        state = change.state
        try:  # the issue's state now: a delivery overtaken by a later one says what is no longer so
            state = await self.trackers[tracker_name].state_of(change.issue_id)
        except TrackerError as exc:
            self._count(tracker_name, exc)
        return await self.follow(stored, state)

    async def follow(self, stored: FollowUpIssue, state: IssueState) -> bool:
        """Make the follow-up what its issue is (closed or open), as the tracker; whether it changed."""
        if not changes_anything(stored, state):
            return False
        now, actor = self.clock(), tracker_actor(stored.tracker)
        async with self.uow() as uow:
            if not await uow.trackers.set_state(stored.follow_up_id, state, now=now):
                return False  # another delivery (or replica) got there first
            item = await uow.follow_ups.get(stored.follow_up_id)
            if item is None:
                return False
            changed = await _set_follow_up(uow, item, state, actor=actor, now=now, zone=self.policy.timezone)
            await uow.commit()
        return changed

    async def poll_due(self, token: str) -> int:
        """The polling fallback: ask the trackers for the state of open issues due a poll (leased across
        replicas), and follow what changed; how many were polled."""
        now = self.clock()
        async with self.uow() as uow:
            due = await uow.trackers.claim_polls(now=now, lease=POLL_LEASE, token=token, limit=POLL_BATCH)
            await uow.commit()
        for stored in due:
            tracker = self.trackers.get(stored.tracker)
            if tracker is not None:
                try:
                    await self.follow(stored, await tracker.state_of(stored.issue_id))
                except TrackerError as exc:
                    self._count(stored.tracker, exc)
            async with self.uow() as uow:
                await uow.trackers.polled(stored.follow_up_id, token=token, now=self.clock(), next_at=now + POLL_EVERY)
                await uow.commit()
        return len(due)

    async def _load(self, follow_up_id: int) -> tuple[FollowUp, Incident, FollowUpIssue | None]:
        async with self.uow(read_only=True) as uow:
            item = await uow.follow_ups.get(follow_up_id)
            incident = await uow.incidents.get(item.incident_id) if item else None
            stored = await uow.trackers.issue_of(follow_up_id)
        if item is None or incident is None:
            raise NotFoundError("That follow-up no longer exists.")
        return item, incident, stored

    def _count(self, tracker: str, exc: TrackerError) -> None:
        """Count the error; a refusal is logged once per tracker and reason (not once per follow-up)."""
        self.metrics.tracker_errors.labels(tracker, exc.reason).inc()
        if isinstance(exc, TrackerRefused) and (tracker, exc.reason) not in self._logged:
            self._logged.add((tracker, exc.reason))
            log.error(
                "tracker %s refused Tocsin's call (%s): check its token and settings; not retried "
                "(said once; tocsin_tracker_errors_total counts them)",
                tracker,
                exc.reason,
            )


async def _set_follow_up(
    uow: UnitOfWork, item: FollowUp, state: IssueState, *, actor: str, now: datetime, zone: str
) -> bool:
    """Close or reopen the follow-up in `uow`, with its timeline entry and event; whether it changed."""
    incident = await uow.incidents.get(item.incident_id)
    if incident is None:
        return False
    data: FollowUpClosed | FollowUpReopened
    if state == "closed":
        changed = await uow.follow_ups.mark_done(item.id, by=actor, now=now)
        note, data = f"Follow-up done (its issue was closed): {item.text}", FollowUpClosed(follow_up_id=item.id)
    else:
        due = first_reminder(item.due_on, ZoneInfo(zone))
        changed = await uow.follow_ups.reopen(item.id, due=max(due, now) if due else None)
        note = f"Follow-up reopened (its issue was reopened): {item.text}"
        data = FollowUpReopened(follow_up_id=item.id)
    if changed:
        await uow.incidents.record(item.incident_id, TimelineEntry(TimelineKind.FOLLOW_UP, now, actor, note))
        await uow.events.append(incident_event(data, incident, actor=actor, at=now))
    return changed
