"""Alert webhook bodies into one AlertBatch, in every shape their senders have used. Pure.

- `alertmanager`: Prometheus Alertmanager's webhook (version 4). Alerts from before 0.19 carry no
  `fingerprint`, and before 0.21 no `truncatedAlerts`: the fingerprint is derived from the labels, as
  Alertmanager derives its own.
- `grafana`: Grafana Alerting's webhook (Grafana 8 and later: Alertmanager's shape plus a few fields), the
  legacy dashboard alerting's (`ruleId`, `ruleName`, `state`, `evalMatches`, `tags`; Grafana up to 10),
  and Grafana OnCall's outgoing webhook with "forward whole payload" (`event`, `alert_group`,
  `alert_payload`).
- `generic`: `{"dedup_key": "...", "title": "...", "status": "firing|resolved", "severity": "...",
  "service": "...", "labels": {...}, "started_at": "ISO 8601", "url": "...", "description": "..."}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.alerts import Alert, AlertBatch, AlertPayloadError, fingerprint_of
from bot.domain.clean_input import clean_strings

SOURCES = ("alertmanager", "grafana", "generic")
# Legacy Grafana alert states: what each means here (Grafana's own PagerDuty notifier resolves on `ok` and
# triggers on anything else; `pending` and `paused` are not an alert firing or resolving).
_LEGACY_FIRING = {"alerting": True, "no_data": True, "ok": False}
_LEGACY_QUIET = ("pending", "paused")
_MAX_TITLE = 200


def parse(source: str, data: Any) -> AlertBatch:
    """A webhook body as an AlertBatch; AlertPayloadError saying what is missing."""
    if not isinstance(data, dict):
        raise AlertPayloadError("the body must be a JSON object")
    data = clean_strings(data)
    if source == "generic":
        return _generic(data)
    if source == "grafana" and "alerts" not in data:
        if "alert_group" in data or "alert_group_id" in data:
            return _grafana_oncall(data)
        if "ruleName" in data or "ruleId" in data or "evalMatches" in data:
            return _grafana_legacy(data)
    return _grouped(source, data)


def _grouped(source: str, data: dict[str, Any]) -> AlertBatch:
    """Alertmanager's webhook, and Grafana Alerting's (the same shape)."""
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise AlertPayloadError("'alerts' must be a non-empty list")
    if source == "alertmanager" and str(data.get("version", "")) != "4":
        raise AlertPayloadError("only Alertmanager webhook version 4 is understood")
    group_key = data.get("groupKey")
    if group_key is None and source == "grafana":
        group_key = _derived_group_key(data)
    if not isinstance(group_key, str) or not group_key:
        raise AlertPayloadError("'groupKey' is required")
    parsed = [_grouped_alert(alert, index, data.get("status")) for index, alert in enumerate(alerts)]
    truncated = data.get("truncatedAlerts")
    return AlertBatch(
        source=source,
        group_key=group_key,
        alerts=parsed,
        truncated=truncated if isinstance(truncated, int) and truncated > 0 else 0,
    )


def _grouped_alert(alert: Any, index: int, group_status: Any) -> Alert:
    if not isinstance(alert, dict):
        raise AlertPayloadError(f"alerts[{index}] must be an object")
    labels = alert.get("labels")
    if not isinstance(labels, dict):
        raise AlertPayloadError(f"alerts[{index}].labels is required")
    labels = _strings(labels)
    fingerprint = alert.get("fingerprint")
    if fingerprint in (None, ""):  # Alertmanager before 0.19: derive it as Alertmanager does
        fingerprint = fingerprint_of(labels)
    if not isinstance(fingerprint, str):
        raise AlertPayloadError(f"alerts[{index}].fingerprint must be a string")
    status = alert.get("status", group_status)
    if status not in ("firing", "resolved"):
        raise AlertPayloadError(f"alerts[{index}].status must be firing or resolved")
    annotations = _object(alert.get("annotations"))
    title = str(annotations.get("summary") or labels.get("alertname") or fingerprint)
    return Alert(
        fingerprint=fingerprint,
        firing=status == "firing",
        title=title[:_MAX_TITLE],
        labels=labels,
        starts_at=_time(alert.get("startsAt"), f"alerts[{index}].startsAt"),
        url=_url(alert.get("generatorURL")),
        description=str(annotations.get("description") or ""),
    )


def _derived_group_key(data: dict[str, Any]) -> str:
    """A stable key for a Grafana delivery without `groupKey`: its contact point and group labels."""
    group_labels = data.get("groupLabels")
    labels = _strings(group_labels) if isinstance(group_labels, dict) else {}
    return f"{data.get('receiver') or ''}/{fingerprint_of(labels)}"


def _grafana_legacy(data: dict[str, Any]) -> AlertBatch:
    """Grafana's legacy dashboard alerting (before Grafana Alerting; removed in Grafana 11)."""
    name = data.get("ruleName") or data.get("title")
    if not isinstance(name, str) or not name.strip():
        raise AlertPayloadError("'ruleName' is required")
    rule = data.get("ruleId")
    identity = f"{data.get('orgId', 1)}/{rule}" if isinstance(rule, int | str) and rule != "" else name.strip()
    group_key = f"grafana-legacy/{identity}"
    state = data.get("state")
    if state in _LEGACY_QUIET:
        return AlertBatch(source="grafana", group_key=group_key, ignored=f"a {state} legacy rule calls for nothing")
    if not isinstance(state, str) or state not in _LEGACY_FIRING:
        raise AlertPayloadError("'state' must be alerting, no_data, ok, pending or paused")
    tags = data.get("tags") or {}
    if not isinstance(tags, dict):
        raise AlertPayloadError("'tags' must be an object")
    labels = {"alertname": name.strip(), **_strings(tags)}
    lines = [str(data.get("message") or "")]
    matches = data.get("evalMatches")
    for match in matches if isinstance(matches, list) else []:
        if isinstance(match, dict) and "metric" in match:
            lines.append(f"{match['metric']} = {match.get('value')}")
    alert = Alert(
        # The rule's identity joins its tags: two rules with the same name and tags are two alerts.
        fingerprint=fingerprint_of({**labels, "__grafana_rule__": identity}),
        firing=_LEGACY_FIRING[state],
        title=name.strip()[:_MAX_TITLE],
        labels=labels,
        url=_url(data.get("ruleUrl")),
        description="\n".join(line for line in lines if line),
    )
    return AlertBatch(source="grafana", group_key=group_key, alerts=[alert])


def _grafana_oncall(data: dict[str, Any]) -> AlertBatch:
    """Grafana OnCall's outgoing webhook (whole payload): one alert group, its first alert's details."""
    group = data.get("alert_group")
    if group is not None and not isinstance(group, dict):
        raise AlertPayloadError("'alert_group' must be an object")
    group = group or {}
    group_id = group.get("id") or data.get("alert_group_id")
    if not isinstance(group_id, str | int) or group_id == "":
        raise AlertPayloadError("'alert_group.id' is required")
    payload = _object(data.get("alert_payload"))
    labels = _strings(_object(payload.get("labels")))
    annotations = _object(payload.get("annotations"))
    event = _object(data.get("event"))
    resolved = event.get("type") == "resolve" or group.get("state") == "resolved"
    title = (
        group.get("title")
        or annotations.get("summary")
        or labels.get("alertname")
        or payload.get("title")
        or f"Grafana OnCall alert group {group_id}"
    )
    key = f"oncall/{group_id}"
    alert = Alert(
        fingerprint=key,  # OnCall sends one alert group, not its alerts: the group is the alert
        firing=not resolved,
        title=str(title)[:_MAX_TITLE],
        labels=labels,
        starts_at=_time(payload.get("startsAt") or group.get("created_at"), "alert_payload.startsAt"),
        url=_url(_object(group.get("permalinks")).get("web") or payload.get("generatorURL")),
        description=str(annotations.get("description") or payload.get("message") or ""),
    )
    return AlertBatch(source="grafana", group_key=key, alerts=[alert])


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
    labels = _strings(labels)
    for name in ("severity", "service"):
        if data.get(name):
            labels[name] = str(data[name])
    alert = Alert(
        fingerprint=key,
        firing=status == "firing",
        title=title.strip()[:_MAX_TITLE],
        labels=labels,
        starts_at=_time(data.get("started_at"), "started_at"),
        url=_url(data.get("url")),
        description=str(data.get("description") or ""),
    )
    return AlertBatch(source="generic", group_key=key, alerts=[alert])


def _strings(values: dict[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in values.items()}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _url(value: Any) -> str | None:
    return str(value) if value else None


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
