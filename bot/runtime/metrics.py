"""Prometheus metrics, in a registry of the process's own (no module-level globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.runtime.version import VERSION


class Metrics:
    """What /metrics exposes."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        """Create the registry and its series."""
        self.registry = CollectorRegistry()
        build = Gauge("tocsin_build_info", "The running Tocsin's version", ["version"], registry=self.registry)
        build.labels(VERSION).set(1)
        self.incidents_declared = Counter(
            "tocsin_incidents_declared", "Incidents declared", ["severity"], registry=self.registry
        )
        self.slack_calls = Counter(
            "tocsin_slack_api_calls", "Slack Web API calls made", ["method"], registry=self.registry
        )
        self.slack_errors = Counter(
            "tocsin_slack_api_errors",
            "Slack Web API calls that failed: Slack's error code, or connection when Slack did not answer",
            ["method", "error"],
            registry=self.registry,
        )
        self.slack_up = Gauge(
            "tocsin_slack_up",
            "1 when Slack accepts the bot token (and the Socket Mode connection, if used, is open), else 0",
            registry=self.registry,
        )
        self.declare_setup_seconds = Histogram(
            "tocsin_declare_setup_seconds",
            "From the declare request to a fully set-up incident channel",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "tocsin_slack_ack_seconds",
            "From a Slack request arriving over HTTP to its acknowledgement being sent",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.timer_lateness = Histogram(
            "tocsin_timer_lateness_seconds",
            "How late a timer (update reminder, page step, follow-up reminder) was sent after it was due",
            ["kind"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300),
            registry=self.registry,
        )
        self.events_delivered = Counter(
            "tocsin_events_delivered",
            "Events of the event log a durable subscriber handled",
            ["subscriber"],
            registry=self.registry,
        )
        self.subscriber_failures = Counter(
            "tocsin_subscriber_failures",
            "Times a durable subscriber failed to handle an event (each is tried again with backoff)",
            ["subscriber"],
            registry=self.registry,
        )
        self.subscriber_lag = Gauge(
            "tocsin_subscriber_lag_seconds",
            "How long ago the oldest event a durable subscriber has still to handle happened (0: none waiting)",
            ["subscriber"],
            registry=self.registry,
        )
        self.subscriber_backlog = Gauge(
            "tocsin_subscriber_backlog",
            "Events a durable subscriber has still to handle",
            ["subscriber"],
            registry=self.registry,
        )
        self.open_incidents = Gauge(
            "tocsin_open_incidents",
            "Incidents not yet resolved, read from the database",
            ["severity"],
            registry=self.registry,
        )
        self.time_to_acknowledge = Histogram(
            "tocsin_time_to_acknowledge_seconds",
            "From declaring an incident to its first acknowledgement",
            ["severity"],
            buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200),
            registry=self.registry,
        )
        self.time_to_resolve = Histogram(
            "tocsin_time_to_resolve_seconds",
            "From declaring an incident to resolving it",
            ["severity"],
            buckets=(300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200),
            registry=self.registry,
        )
        self.work_in_flight = Gauge(
            "tocsin_work_in_flight", "Acknowledged requests still being worked on", registry=self.registry
        )
        self.work_queued = Gauge(
            "tocsin_work_queued",
            "Accepted work waiting for a worker, by lane (people: someone is waiting; bulk: nobody is)",
            ["lane"],
            registry=self.registry,
        )
        self.work_waiting_for_slack = Gauge(
            "tocsin_work_waiting_for_slack",
            "Accepted work that gave its worker back to wait for Slack's pace or a Retry-After, by lane",
            ["lane"],
            registry=self.registry,
        )
        for lane in ("people", "bulk"):  # both lanes present from the start, at 0
            self.work_queued.labels(lane)
            self.work_waiting_for_slack.labels(lane)
        self.alerts_refused = Counter(
            "tocsin_alerts_refused",
            "Alert webhook deliveries refused (each answered with the reason)",
            ["source", "reason"],
            registry=self.registry,
        )

        self.webhook_deliveries = Counter(
            "tocsin_webhook_deliveries",
            "Tries to deliver an outgoing webhook, by outcome (delivered, failed, rejected, expired)",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("delivered", "failed", "rejected", "expired"):  # present from the start, at 0
            self.webhook_deliveries.labels(outcome)
        self.tracker_errors = Counter(
            "tocsin_tracker_errors",
            "Tracker calls (GitHub, GitLab, Jira, Linear) that failed, by tracker and reason (unauthorized, "
            "forbidden, not_found, invalid, rate_limited, server_error, unreachable…)",
            ["tracker", "reason"],
            registry=self.registry,
        )
        self.contact_attempts = Counter(
            "tocsin_contact_attempts",  # exposed as tocsin_contact_attempts_total
            "Tries to reach a paged person beyond Slack, by method (ntfy, sms, voice, pushover, email) and "
            "outcome (delivered, failed, answered)",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.jobs_fired = Counter(
            "tocsin_jobs_fired",
            "Scheduled jobs fired (contact attempts, handoffs, heartbeat deadlines, archives…), by kind and "
            "outcome (done, retry, again, failed)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.usergroup_syncs = Counter(
            "tocsin_usergroup_syncs",
            "Slack user groups set to a schedule's on-call, by outcome (updated, unchanged, failed)",
            ["outcome"],
            registry=self.registry,
        )

    def set_open_incidents(self, counts: dict[str, int], severities: list[str]) -> None:
        """Set the open-incidents gauge: every known severity, zero when none are open."""
        for severity in {*severities, *counts}:
            self.open_incidents.labels(severity).set(counts.get(severity, 0))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
