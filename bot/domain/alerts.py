"""Alerts, whatever sent them: one shape, a fingerprint for those that come without one, and the route an
alert takes. Pure. The senders' payloads are read in bot/domain/alert_payloads.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.errors import UserError
from bot.domain.policy import AlertRoute, Policy

DEFAULT_SEVERITY_MAP = {
    "critical": "SEV1",
    "error": "SEV2",
    "high": "SEV2",
    "warning": "SEV3",
    "info": "SEV4",
}
# prometheus/common's model.labelSetToFingerprint: FNV-1a (64 bit) with 0xff after every name and value.
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_UINT64 = 0xFFFFFFFFFFFFFFFF


class AlertPayloadError(UserError):
    """A payload that cannot be used; the reason goes back as a 400."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, whatever sent it."""

    fingerprint: str
    firing: bool
    title: str
    labels: dict[str, str]
    starts_at: datetime | None = None
    url: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class AlertBatch:
    """One webhook delivery: a group of alerts (one page per group).

    `truncated` counts the alerts the sender left out (Alertmanager's and Grafana's `max_alerts`);
    `ignored` says why a delivery that calls for nothing (a legacy Grafana rule gone `pending`) has none.
    """

    source: str
    group_key: str
    alerts: list[Alert] = field(default_factory=list)
    truncated: int = 0
    ignored: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with an alert group."""

    service: str | None
    escalation_policy: str | None
    severity: str
    declare: bool
    channel: str | None


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """The fingerprint Alertmanager (0.19 and later) gives an alert with these labels, as 16 hex digits.

    Derived from the sorted label names and values alone, so the same alert gets the same fingerprint in
    every process and after a restart, and an older Alertmanager's alerts keep theirs when it is upgraded.
    """
    data = b"".join(
        b"%s\xff%s\xff" % (name.encode(errors="replace"), labels[name].encode(errors="replace"))
        for name in sorted(labels)
    )
    digest = _FNV_OFFSET
    for byte in data:
        digest = ((digest ^ byte) * _FNV_PRIME) & _UINT64
    return f"{digest:016x}"


def decide(alert: Alert, policy: Policy) -> Decision:
    """The route an alert takes: the first rule whose labels all match, else the default route."""
    rule: AlertRoute = next(
        (r for r in policy.alerts.routes if all(alert.labels.get(k) == v for k, v in r.match.items())),
        policy.alerts.default,
    )
    service = rule.service or (alert.labels.get("service") if alert.labels.get("service") in policy.services else None)
    label = alert.labels.get("severity", "").lower()
    mapped = {**DEFAULT_SEVERITY_MAP, **{k.lower(): v for k, v in rule.severity_map.items()}}.get(label)
    named = policy.severity_named(mapped) if mapped else policy.severity_named(label)
    severity = named.name if named else policy.default_severity
    escalation = rule.escalation_policy or (policy.services[service].escalation_policy if service else None)
    declare = rule.declare_at is not None and policy.rank(severity) <= policy.rank(rule.declare_at)
    return Decision(service, escalation, severity, declare, rule.channel or policy.broadcast_channel)


def most_severe(alerts: list[Alert], policy: Policy) -> Alert:
    """The firing alert whose route gives the highest severity (ties: the first)."""
    return min(alerts, key=lambda a: policy.rank(decide(a, policy).severity))
