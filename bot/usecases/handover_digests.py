"""A handoff's digest, sent by a `handover.digest` job per reader (the incoming person, the outgoing one,
the schedule's handover channel), each retried on its own when Slack refuses, so nobody gets it twice.

What it says is read when it is sent: the open incidents of the schedule's services, the pages of the
shift that ended, the alerts still firing and the notes left for the handover. The incoming person is
warned when they cannot be reached beyond Slack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.contact_addresses import SLACK
from bot.domain.contact_policy import configured
from bot.domain.errors import SlackError, slack_error
from bot.domain.handovers import Digest, schedule_services
from bot.domain.jobs import Job, JobDone, JobOutcome, JobRetry
from bot.domain.policy import Policy
from bot.runtime.logs import event
from bot.usecases.directory import UserDirectory
from bot.usecases.handover_ports import HandoverViews, ReachableBeyondSlack
from bot.usecases.handovers import payload_time, retry_at, schedules_now
from bot.usecases.hooks import ScheduleSnapshots
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)

DIGEST_TRIES = 5  # a digest Slack keeps refusing is given up (one warning) after this many tries


@dataclass
class HandoverDigests:
    """Sending a handoff's digest to one reader."""

    uow: UnitOfWorkFactory
    slack: Slack
    policy: Policy
    clock: Clock
    directory: UserDirectory
    views: HandoverViews
    snapshots: ScheduleSnapshots | None = None
    reachable: ReachableBeyondSlack | None = None  # None until the contacts capability says who is reachable

    async def send(self, job: Job) -> JobOutcome:
        """A `handover.digest` job: the digest to its reader (a person, or the handover channel)."""
        payload = job.payload
        name, role, to = str(payload["schedule"]), str(payload["role"]), str(payload["to"])
        at = payload_time(payload, "at") or job.due_at
        digest = Digest(
            schedule=name,
            at=at,
            since=payload_time(payload, "since"),
            outgoing=await self._user_id(payload.get("outgoing")),
            incoming=await self._user_id(payload.get("incoming")),
        )
        reader = None if role == "channel" else await self._user_id(to)
        if role != "channel" and reader is None:
            log.warning("handover digest for %s not sent: %s is not a Slack user Tocsin can find", name, to)
            return JobDone("reader not found")
        async with self.uow(read_only=True) as uow:
            schedules = await schedules_now(uow, self.policy, self.snapshots)
            services = schedule_services(self.policy, name)
            digest.incidents.extend(await uow.handovers.open_incidents(services))
            digest.pages.extend(await uow.handovers.shift_pages(name, since=digest.since, until=at))
            digest.alerts.extend(await uow.handovers.firing_alerts(name, services))
            digest.notes.extend(await uow.handovers.notes(name, since=digest.since, until=at))
            unreachable = (
                role == "incoming"
                and reader is not None
                and self.reachable is not None
                and self._can_reach_beyond_slack()
                and not await self.reachable(uow, self.policy, reader)
            )
        if name not in schedules:
            return JobDone("no such schedule any more")
        text, blocks = self.views.digest(digest, reader=reader, unreachable=unreachable)
        try:
            if reader is None:
                await self.slack.post(to, text, blocks)
            else:
                await self.slack.dm(reader, text, blocks)
        except SlackError as exc:
            if exc.retryable and job.attempts + 1 < DIGEST_TRIES:
                log.warning("handover digest for %s to %s not sent (%s); tried again later", name, to, exc.error)
                return JobRetry(retry_at(self.clock(), job.attempts), exc.error)
            log.warning("handover digest for %s to %s not sent: Slack said %s", name, to, slack_error(exc))
            return JobDone(f"not sent: {exc.error}")
        event(log, "handover digest for %s sent to the %s (%s)", name, role, to, schedule=name)
        return JobDone("sent")

    def _can_reach_beyond_slack(self) -> bool:
        """Whether this Tocsin has a contact method beyond Slack set up (without one, nobody is warned of
        lacking one: there is nothing they could add)."""
        return bool(configured(self.policy.contact_methods) - {SLACK})

    async def _user_id(self, ref: object) -> str | None:
        """The Slack user a schedule's entry names (an ID, or an e-mail address looked up)."""
        if not isinstance(ref, str) or not ref:
            return None
        return (await self.directory.resolve(ref)).user_id
