"""What the use cases show things with: the message catalogue (Block Kit builders, mrkdwn text helpers,
the stats chart). The composition root passes the module bot.slack.messages, which satisfies it; the
use cases never import it. Every function is pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from bot.domain.announcement_digests import AnnouncementDigest
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, TimelineEntry
from bot.domain.notice_digests import AlertNotice, NoticeDigest
from bot.domain.page_digests import Digest
from bot.domain.policy import Policy
from bot.domain.postmortem import Publication
from bot.domain.runbooks import Runbook
from bot.domain.slack_values import Blocks
from bot.domain.stats import IncidentStats
from bot.domain.summary import IncidentSummary

Message = tuple[str, Blocks]  # a message: its text (the notification and fallback) and its blocks


class Messages(Protocol):
    """The message catalogue: each builder returns a message, a line of mrkdwn, or a view."""

    CONTROLS_BLOCK: str  # the header's controls block: its id, with the incident's, marks the header
    HOME_SHOWN: int  # incidents the App Home tab can show
    TIMELINE_PAGE: int  # timeline entries a page of `/incident timeline` shows

    # ----- text ---------------------------------------------------------------------------------
    def escape(self, text: str) -> str:
        """Any text made inert in mrkdwn (no mentions, links or broadcasts)."""
        ...

    def plain_from_slack(self, text: str) -> str:
        """Slack-escaped input as plain readable text."""
        ...

    def section(self, text: str) -> dict[str, Any]:
        """One mrkdwn section block."""
        ...

    def channel_link(self, channel_id: str | None, fallback: str = ...) -> str:
        """A link to a channel (its current name), or `fallback` without one."""
        ...

    def slack_date(self, when: datetime, fmt: str = ...) -> str:
        """A time each reader sees in their own time zone."""
        ...

    def incident_title_line(self, incident: Incident) -> str:
        """An incident's reference and title (a private one's reference only)."""
        ...

    # ----- the incident channel ------------------------------------------------------------------
    def header_message(self, incident: Incident, policy: Policy, *, now: datetime) -> Message:
        """The pinned header: the incident as it stands, with its controls."""
        ...

    def topic(self, incident: Incident) -> str:
        """The incident channel's topic."""
        ...

    def purpose(self, incident: Incident) -> str:
        """The incident channel's purpose."""
        ...

    def announcement(self, incident: Incident) -> Message:
        """A declared incident, announced in a stakeholder channel."""
        ...

    def private_notice(self, incident: Incident, text: str) -> Message:
        """The policy's line about a private incident (no title), in the broadcast channel."""
        ...

    def announcement_marker(self, incident_id: int, *, private: bool = False) -> str:
        """The block id that finds an announcement again in a channel's history."""
        ...

    def moved_pointer(self, incident: Incident, new_channel: str) -> Message:
        """The private channel's pointer to the incident's new public channel."""
        ...

    def moved_marker(self, incident_id: int) -> str:
        """The block id that finds the moved pointer again."""
        ...

    def declared_confirmation(self, incident: Incident, *, created: bool) -> str:
        """What the declarer is told."""
        ...

    def change_line(self, incident: Incident, line: str) -> Message:
        """A one-line notice of a change."""
        ...

    def role_assigned(self, role_name: str, user_id: str, previous: str | None, actor: str) -> str:
        """A role given (and handed over)."""
        ...

    def severity_changed(self, incident: Incident, before: str, after: str, reason: str, actor: str) -> str:
        """A severity change, with who and why."""
        ...

    def status_changed(self, incident: Incident, before: str, actor: str) -> str:
        """A status move."""
        ...

    def status_update(
        self, incident: Incident, *, known: str, doing: str, next_at: datetime | None, actor: str
    ) -> Message:
        """A status update as posted."""
        ...

    def update_text(self, *, known: str, doing: str) -> str:
        """A status update as the timeline keeps it."""
        ...

    def resolution(self, incident: Incident, *, actor: str, now: datetime) -> Message:
        """The resolution notice."""
        ...

    def reopened(self, incident: Incident, reason: str, actor: str) -> str:
        """A reopening."""
        ...

    def timeline_pages(self, total: int) -> int:
        """How many pages `total` timeline entries make."""
        ...

    def timeline_page(
        self, incident: Incident, shown: Sequence[TimelineEntry], page: int, *, total: int, multi_day: bool
    ) -> Message:
        """One page of the timeline."""
        ...

    def home_view(
        self, incidents: Sequence[Incident], policy: Policy, *, now: datetime, counts: dict[str, int] | None = ...
    ) -> dict[str, Any]:
        """The App Home tab."""
        ...

    def catch_up_message(self, summary: IncidentSummary, policy: Policy) -> Message:
        """An incident at a glance."""
        ...

    def runbook_messages(self, incident_id: int, runbook: Runbook, ticked: set[str]) -> list[Message]:
        """A runbook's checklist, in as many messages as it takes."""
        ...

    def runbook_list(self, incident: Incident, runbooks: Sequence[Runbook], posted: set[str]) -> Message:
        """The matching runbooks, each with a Post button."""
        ...

    # ----- paging ---------------------------------------------------------------------------------
    def page_dm(
        self, *, page_id: int, title: str, severity: str, channel_id: str | None, tier: int, total: int
    ) -> Message:
        """A page step's DM, with its buttons."""
        ...

    def page_dm_settled(
        self,
        *,
        title: str,
        severity: str,
        channel_id: str | None,
        outcome: str,
        reopens: tuple[int, datetime] | None = ...,
    ) -> Message:
        """A page's DM once the page is answered or stopped."""
        ...

    def page_digest(self, digest: Digest) -> Message:
        """A storm's pages to one person, in one DM."""
        ...

    def paging_notice(self, users: Sequence[str], *, tier: int, total: int, plan: str) -> str:
        """Who a step paged, in the incident channel."""
        ...

    def ack_timed_out(self, title: str, acknowledged_by: str | None, *, after: str) -> str:
        """An acknowledgement that ran out."""
        ...

    def page_exhausted(self, title: str, channel_id: str | None, *, steps: int) -> str:
        """A page nobody acknowledged."""
        ...

    def reminder_nag(self, incident: Incident, *, target: str | None, due_at: datetime) -> Message:
        """An overdue update, in the channel."""
        ...

    def reminder_dm(self, incident: Incident, *, due_at: datetime) -> Message:
        """A still overdue update, to the Incident Commander."""
        ...

    # ----- alerts ---------------------------------------------------------------------------------
    def alert_notice(self, notice: AlertNotice) -> Message:
        """A new alert group that pages."""
        ...

    def alert_digest(self, notices: NoticeDigest, policy: Policy) -> Message:
        """A storm's alert notices in one message."""
        ...

    def announcement_digest(self, storm: AnnouncementDigest, policy: Policy) -> Message:
        """A storm's new incidents in one message in the broadcast channel."""
        ...

    # ----- outgoing webhooks ----------------------------------------------------------------------
    def webhook_failing(self, where: str, *, when: datetime, reason: str) -> Message:
        """A webhook receiver failing every delivery since `when`, said once in the broadcast channel."""
        ...

    def webhook_recovered(self, where: str, *, when: datetime) -> Message:
        """That receiver (failing since `when`) answering again."""
        ...

    # ----- postmortems, follow-ups, stats ---------------------------------------------------------
    def postmortem_posted(self, incident: Incident, publication: Publication) -> Message:
        """The postmortem draft published."""
        ...

    def follow_up_added(self, item: FollowUp, today: date) -> str:
        """A follow-up added."""
        ...

    def follow_up_list(
        self, items: Sequence[FollowUp], *, heading: str, today: date, offer_issue: bool = False
    ) -> Message:
        """Follow-ups listed (`offer_issue`: a Create issue button under each open one without an issue)."""
        ...

    def follow_up_reminder(self, item: FollowUp, *, today: date) -> Message:
        """A follow-up's reminder to its owner."""
        ...

    def stats_message(self, stats: IncidentStats, *, window: str, chart_file_id: str | None = ...) -> Message:
        """The incident figures, with the chart when there is one."""
        ...

    def mttr_by_week_png(
        self,
        weekly_mttr: Mapping[date, Mapping[str, float]],
        severities: Sequence[str],
        colours: Mapping[str, str | None],
    ) -> bytes:
        """The MTTR-by-week chart as a PNG; ChartError (bot.domain.errors) when it cannot be drawn."""
        ...
