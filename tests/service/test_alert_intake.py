"""Alerts in: a new group pages its route's escalation policy and is told in its channel, or declares an
incident; repeats only update it; resolving cancels a page nobody took; firing again is a new page; a
notice Slack refuses never stops the page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.alerts import Alert, AlertBatch
from bot.domain.errors import SlackRefused
from bot.domain.escalation import CANCELLED
from bot.domain.incidents import DetectedVia, TimelineKind
from bot.domain.policy import AlertRoute, AlertsPolicy, EscalationPolicy, EscalationTier, Policy, Service
from bot.domain.timer_results import PageStepped
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.alert_intake import AlertIntake
from bot.usecases.declare import IncidentService
from bot.usecases.paging import Pager
from bot.usecases.setup import IncidentSetup
from storage.uow import UnitOfWork
from tests.service.fakes import FakeClock, QueuedWork, ScriptedSlack, fire_page_steps, sqlite_database, timeline_texts

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POLICY = Policy(
    escalation_policies={"db": EscalationPolicy(tiers=[EscalationTier(notify=["user:U0BOB"])])},
    services={"db": Service(escalation_policy="db")},
    alerts=AlertsPolicy(
        routes=[
            AlertRoute(match={"team": "db"}, service="db", channel="#db-alerts"),
            AlertRoute(match={"team": "payments"}, escalation_policy="db", declare_at="SEV2"),
        ]
    ),
)


def batch(key: str, *, team: str = "db", firing: bool = True, severity: str = "critical") -> AlertBatch:
    labels = {"team": team, "severity": severity, "alertname": "DiskFull"}
    alert = Alert(fingerprint=f"fp-{key}", firing=firing, title=f"Disk full ({key})", labels=labels, starts_at=NOW)
    return AlertBatch(source="alertmanager", group_key=key, alerts=[alert])


class Intake:
    """The webhook's use case over a scripted Slack, with the pager and declaring behind it."""

    def __init__(self, uow: Callable[..., UnitOfWork]) -> None:
        self.uow, self.slack, self.clock, self.background = uow, ScriptedSlack(), FakeClock(NOW), QueuedWork()
        slack, clock = self.slack, self.clock
        self.pager = Pager(uow=uow, slack=slack, messages=messages, policy=POLICY, clock=clock, metrics=Metrics())
        setup = IncidentSetup(uow=uow, slack=slack, messages=messages, policy=POLICY, clock=clock, pager=self.pager)
        incidents = IncidentService(
            uow=uow, slack=slack, messages=messages, policy=POLICY, metrics=Metrics(), setup=setup, clock=clock
        )
        self.intake = AlertIntake(
            uow=uow, slack=slack, messages=messages, policy=POLICY, clock=clock, pager=self.pager,
            incidents=incidents, background=self.background, workspace=lambda: ("T1", "U0TOCSIN"),
        )  # fmt: skip

    async def receive(self, delivered: AlertBatch) -> object:
        """The webhook's answer, once the work it left for the background is done."""
        answer = (await self.intake.receive(delivered))["action"]
        await self.background.run_all()
        return answer


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Intake]:
    async with sqlite_database(tmp_path) as uow:
        yield Intake(uow)


async def test_a_new_group_pages_its_route_and_its_repeats_only_update_it(intake: Intake) -> None:
    assert await intake.receive(batch("g1")) == "started"
    (notice,) = intake.slack.made("post")
    assert notice.where == "#db-alerts" and "Disk full (g1)" in notice.text
    (step,) = await fire_page_steps(intake.uow, intake.pager, now=NOW)
    assert isinstance(step, PageStepped) and step.page.title == "Disk full (g1)" and step.page.severity == "SEV1"
    assert [c.where for c in intake.slack.made("dm")] == ["U0BOB"]
    assert await intake.receive(batch("g1")) == "updated"  # Alertmanager's repeat_interval
    assert len(intake.slack.made("post")) == 1 and intake.background.jobs == []
    assert await fire_page_steps(intake.uow, intake.pager, now=NOW + timedelta(minutes=1)) == []  # one page


async def test_resolving_cancels_the_page_and_firing_again_is_a_new_page(intake: Intake) -> None:
    await intake.receive(batch("g1"))
    (first,) = await fire_page_steps(intake.uow, intake.pager, now=NOW)
    assert isinstance(first, PageStepped)
    assert await intake.receive(batch("g1", firing=False)) == "resolved"
    assert (await intake.pager.get(first.page.id)).status == CANCELLED
    (settled,) = intake.slack.made("update_message")
    assert settled.where == "DU0BOB" and "its alerts resolved" in settled.text
    intake.clock.advance(minutes=30)
    assert await intake.receive(batch("g1")) == "started"
    (second,) = await fire_page_steps(intake.uow, intake.pager, now=intake.clock())
    assert isinstance(second, PageStepped) and second.page.id != first.page.id


async def test_a_route_that_declares_makes_an_incident_tocsin_declared_and_pages_it(intake: Intake) -> None:
    assert await intake.receive(batch("p1", team="payments")) == "started"
    async with intake.uow() as work:
        incident = await work.incidents.by_number("T1", 1)
    assert incident is not None and incident.declared_by == "U0TOCSIN" and incident.severity == "SEV1"
    assert incident.detected_via is DetectedVia.MONITORING and incident.channel_id is not None
    assert intake.slack.made("reply") == []  # declared by Tocsin: nobody to confirm to
    (step,) = await fire_page_steps(intake.uow, intake.pager, now=NOW)
    assert isinstance(step, PageStepped) and step.page.incident_id == incident.id
    assert await intake.receive(batch("p1", team="payments", firing=False)) == "resolved"
    notes = await timeline_texts(intake.uow, incident.id, TimelineKind.ALERT)
    assert notes == ["Declared from an alert: Disk full (p1)", "Alert resolved: Disk full (p1)"]


async def test_a_delivery_that_calls_for_nothing_is_ignored_and_stores_nothing(intake: Intake) -> None:
    ignored = AlertBatch(source="grafana", group_key="g", ignored="pending")
    assert await intake.intake.receive(ignored) == {"group": None, "action": "ignored", "reason": "pending"}
    assert intake.background.jobs == [] and await fire_page_steps(intake.uow, intake.pager, now=NOW) == []


async def test_a_notice_slack_refuses_never_stops_the_page(intake: Intake) -> None:
    intake.slack.refuse("post", SlackRefused("not_in_channel"), where="#db-alerts")
    assert await intake.receive(batch("g1")) == "started"  # the notice failed quietly in the background
    (step,) = await fire_page_steps(intake.uow, intake.pager, now=NOW)
    assert isinstance(step, PageStepped) and [c.where for c in intake.slack.made("dm")] == ["U0BOB"]
