"""Alert webhooks: payloads into one shape, and the route an alert takes. Pure.

Sources: Prometheus Alertmanager (webhook version 4), Grafana alerting, and a small generic format:
`{"dedup_key": "...", "title": "...", "status": "firing|resolved", "severity": "...", "service": "...",
"labels": {...}, "started_at": "ISO 8601", "url": "...", "description": "..."}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.domain.clean_input import clean_strings
from bot.domain.errors import UserError
from bot.domain.policy import AlertRoute, Policy

SOURCES = ("alertmanager", "grafana", "generic")
DEFAULT_SEVERITY_MAP = {
    "critical": "SEV1",
    "error": "SEV2",
    "high": "SEV2",
    "warning": "SEV3",
    "info": "SEV4",
}


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
    """One webhook delivery: a group of alerts (one page per group)."""

    source: str
    group_key: str
    alerts: list[Alert] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with an alert group."""

    service: str | None
    escalation_policy: str | None
    severity: str
    declare: bool
    channel: str | None


def parse(source: str, data: Any) -> AlertBatch:
    """A webhook body as an AlertBatch; AlertPayloadError saying what is missing."""
    if not isinstance(data, dict):
        raise AlertPayloadError("the body must be a JSON object")
    data = clean_strings(data)
    if source == "generic":
        return _generic(data)
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise AlertPayloadError("'alerts' must be a non-empty list")
    if source == "alertmanager" and str(data.get("version", "")) != "4":
        raise AlertPayloadError("only Alertmanager webhook version 4 is understood")
    group_key = data.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        raise AlertPayloadError("'groupKey' is required")
    parsed = []
    for index, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            raise AlertPayloadError(f"alerts[{index}] must be an object")
        labels = alert.get("labels")
        if not isinstance(labels, dict):
            raise AlertPayloadError(f"alerts[{index}].labels is required")
        fingerprint = alert.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            raise AlertPayloadError(f"alerts[{index}].fingerprint is required")
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            raise AlertPayloadError(f"alerts[{index}].status must be firing or resolved")
        given = alert.get("annotations")
        annotations: dict[str, Any] = given if isinstance(given, dict) else {}
        title = str(annotations.get("summary") or labels.get("alertname") or fingerprint)
        parsed.append(
            Alert(
                fingerprint=fingerprint,
                firing=status == "firing",
                title=title[:200],
                labels={str(k): str(v) for k, v in labels.items()},
                starts_at=_time(alert.get("startsAt"), f"alerts[{index}].startsAt"),
                url=alert.get("generatorURL") or None,
                description=str(annotations.get("description") or ""),
            )
        )
    return AlertBatch(source=source, group_key=group_key, alerts=parsed)


def _generic(data: dict[str, Any]) -> AlertBatch:
    key, title = data.get("dedup_key"), data.get("title")
    if not isinstance(key, str) or not key.strip():
        raise AlertPayloadError("'dedup_key' is required")
    if not isinstance(title, str) or not title.strip():
        raise AlertPayloadError("'title' is required")
    status = data.get("status", "firing")
    if status not in ("firing", "resolved"):
        raise AlertPayloadError("'status' must be firing or resolved")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise AlertPayloadError("'labels' must be an object")
    labels = {str(k): str(v) for k, v in labels.items()}
    for name in ("severity", "service"):
        if data.get(name):
            labels[name] = str(data[name])
    alert = Alert(
        fingerprint=key,
        firing=status == "firing",
        title=title.strip()[:200],
        labels=labels,
        starts_at=_time(data.get("started_at"), "started_at"),
        url=data.get("url") or None,
        description=str(data.get("description") or ""),
    )
    return AlertBatch(source="generic", group_key=key, alerts=[alert])


def _time(value: Any, where: str) -> datetime | None:
    if value in (None, "", "0001-01-01T00:00:00Z"):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise AlertPayloadError(f"{where} is not an ISO 8601 time") from None
    try:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise AlertPayloadError(f"{where} is out of range") from None


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
