"""When an incident's channel tidies itself away. Pure.

With the policy's `archive_after` set, a channel is archived that long after its postmortem is marked
done, or, for a severity without a postmortem (`postmortem: false`: minor or internal-only incidents,
whose postmortem is rarely written up), that long after it is resolved. A day before (or at once, when
`archive_after` is a day or less) the channel is warned and offered a **Keep open** button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.incidents import Status
from bot.domain.policy import Policy

WARN_BEFORE = timedelta(days=1)
WARNING_JOB = "channel.archive_warning"
ARCHIVE_JOB = "channel.archive"


@dataclass(frozen=True, slots=True)
class ArchivePlan:
    """When to warn the channel and when to archive it."""

    warn_at: datetime
    archive_at: datetime


def has_postmortem(severity: str, policy: Policy) -> bool:
    """Whether incidents at `severity` get a postmortem (a draft posted on resolve); unknown ones do."""
    named = policy.severity_named(severity)
    return named is None or named.postmortem


def counts_from(severity: str, status: Status, policy: Policy) -> bool:
    """Whether an incident reaching `status` starts its channel's countdown: the postmortem done, or (for
    a severity without a postmortem) resolved: one or the other, so one countdown."""
    if status is Status.CLOSED:
        return has_postmortem(severity, policy)
    return status is Status.RESOLVED and not has_postmortem(severity, policy)


def archive_plan(policy: Policy, *, since: datetime) -> ArchivePlan | None:
    """When the channel is warned and archived, counting from `since`; None when channels stay open."""
    after = policy.archive_after
    if after is None or after <= timedelta(0):
        return None
    archive_at = since + after
    return ArchivePlan(warn_at=max(since, archive_at - WARN_BEFORE), archive_at=archive_at)


def job_prefix(kind: str, incident_id: int) -> str:
    """The start of every key of an incident's archive jobs of `kind` (to cancel them all)."""
    return f"{kind}:{incident_id}:"


@dataclass(frozen=True, slots=True)
class IncidentChannel:
    """A channel an incident had (or has): its archive's countdown, warning and outcome, a bookmark refusal
    already logged, and the continuation channel it led to once archived and reopened."""

    incident_id: int
    channel_id: str
    name: str
    archive_due: datetime | None = None
    warning_ts: str | None = None
    kept_by: str | None = None
    archived_at: datetime | None = None
    continued_in: str | None = None
    bookmarks_refused: str | None = None
