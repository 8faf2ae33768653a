"""Slack user groups that follow a schedule: at each handoff (and override) a `usergroup.sync` job sets the
schedule's group (`@checkout-oncall`) to whoever is on call, so people can page the team by mentioning it.

Slack refusing (a rate limit, `invalid_users`, a missing scope, a group that is gone…) is tried again a few
times, 1, 2, 4 minutes apart; then it is reported, never silent: one warning line, a message in the
schedule's handover channel (or to the policy's admins) and the `usergroup_syncs{outcome="failed"}` metric.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.domain.errors import SlackError, slack_error
from bot.domain.jobs import Job, JobDone, JobOutcome, JobRetry
from bot.domain.oncall import on_call
from bot.domain.policy import Policy
from bot.runtime.logs import event
from bot.runtime.metrics import Metrics
from bot.usecases.directory import UserDirectory
from bot.usecases.handover_ports import HandoverViews, UserGroups
from bot.usecases.handovers import retry_at, schedules_now
from bot.usecases.hooks import ScheduleSnapshots
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)

SYNC_TRIES = 4  # tries before a refused sync is reported


@dataclass
class UserGroupSync:
    """Setting a schedule's Slack user group to whoever is on call."""

    uow: UnitOfWorkFactory
    slack: Slack
    policy: Policy
    clock: Clock
    metrics: Metrics
    directory: UserDirectory
    groups: UserGroups
    views: HandoverViews
    snapshots: ScheduleSnapshots | None = None

    async def sync(self, job: Job) -> JobOutcome:
        """A `usergroup.sync` job: whoever is on call now becomes the group's only member."""
        name = str(job.payload.get("schedule", ""))
        now = self.clock()
        async with self.uow(read_only=True) as uow:
            schedule = (await schedules_now(uow, self.policy, self.snapshots)).get(name)
        if schedule is None or not schedule.usergroup:
            return JobDone("no user group to follow the schedule")
        holder = on_call(schedule, now)
        if holder is None:  # Slack keeps at least one member; the last holder stays until someone is on call
            self.metrics.usergroup_syncs.labels("unchanged").inc()
            event(
                log, "user group %s left as it was: nobody is on call for %s", schedule.usergroup, name, schedule=name
            )
            return JobDone("nobody on call")
        error = await self._set(schedule.usergroup, holder)
        if error is None:
            await self._record(name, schedule.usergroup, holder, "ok")
            self.metrics.usergroup_syncs.labels("updated").inc()
            event(log, "user group %s set to %s, on call for %s", schedule.usergroup, holder, name, schedule=name)
            return JobDone("updated")
        if job.attempts + 1 < SYNC_TRIES:
            at = retry_at(now, job.attempts)
            log.warning("user group %s for %s not set (%s); tried again at %s", schedule.usergroup, name, error, at)
            return JobRetry(at, error)
        log.warning("user group %s for %s not set after %d tries: %s", schedule.usergroup, name, SYNC_TRIES, error)
        await self._record(name, schedule.usergroup, holder, error)
        self.metrics.usergroup_syncs.labels("failed").inc()
        await self._report(name, schedule.usergroup, schedule.handover_channel, error)
        return JobDone(f"failed: {error}")

    async def _set(self, usergroup: str, holder: str) -> str | None:
        """Set the group to `holder`; None when done, else why not (Slack's error, or the person unknown)."""
        found = await self.directory.resolve(holder)
        if found.user_id is None:
            return f"the on-call person {holder} is not a Slack user Tocsin can find ({found.problem})"
        try:
            group = await self.groups.group_id(usergroup)
            if group is None:
                return "no_such_subteam"
            await self.groups.set_members(group, [found.user_id])
        except SlackError as exc:
            return slack_error(exc)
        return None

    async def _record(self, name: str, usergroup: str, holder: str, outcome: str) -> None:
        async with self.uow() as uow:
            await uow.handovers.synced(name, usergroup=usergroup, users=[holder], outcome=outcome, now=self.clock())
            await uow.commit()

    async def _report(self, name: str, usergroup: str, channel: str | None, error: str) -> None:
        """Tell people: in the schedule's handover channel, else each of the policy's admins by DM."""
        text, blocks = self.views.sync_failed(name, usergroup, error)
        if channel:
            where = [channel]
        else:
            where = [r.user_id for r in await self.directory.resolve_all(self.policy.admins) if r.user_id]
        for target in where:
            try:
                if channel:
                    await self.slack.post(target, text, blocks)
                else:
                    await self.slack.dm(target, text, blocks)
            except SlackError as exc:
                log.warning("could not report the %s user group's failure to %s: %s", name, target, exc.error)
        if not where:
            log.warning("the %s user group's failure was reported to nobody: no handover_channel, no admins", name)
