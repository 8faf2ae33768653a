"""Alert payloads in every shape their senders have used, and the fingerprint derived for alerts that come
without one: Alertmanager's own, the same in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.domain.alert_payloads import parse
from bot.domain.alerts import AlertPayloadError, fingerprint_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # prometheus/common model/signature_test.go: labelSetToFingerprint's own test vectors.
        ({}, 14695981039346656037),
        ({"name": "garland, briggs", "fear": "love is not enough"}, 5799056148416392346),
        ({"first-label": "first-label-value"}, 5146282821936882169),
        ({"first-label": "first-label-value", "second-label": "second-label-value"}, 3195800080984914717),
        (
            {
                "first-label": "first-label-value",
                "second-label": "second-label-value",
                "third-label": "third-label-value",
            },
            13843036195897128121,
        ),
    ],
)
def test_the_derived_fingerprint_is_the_one_alertmanager_computes(labels: dict[str, str], expected: int) -> None:
    assert fingerprint_of(labels) == f"{expected:016x}"


def test_the_fingerprint_ignores_label_order_and_tells_values_apart() -> None:
    assert fingerprint_of({"a": "1", "b": "2"}) == fingerprint_of({"b": "2", "a": "1"})
    assert fingerprint_of({"a": "1", "b": "2"}) != fingerprint_of({"a": "1", "b": "3"})
    assert fingerprint_of({"a": "12"}) != fingerprint_of({"a1": "2"})  # the separator keeps them apart


def test_the_fingerprint_is_the_same_in_another_process_whatever_its_hash_seed() -> None:
    labels = {"alertname": "CheckoutLatencyHigh", "instance": "checkout-1:8080", "région": "eu-1"}
    code = f"from bot.domain.alerts import fingerprint_of; print(fingerprint_of({labels!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == fingerprint_of(labels)


def test_alertmanager_before_0_19_gets_fingerprints_from_its_labels() -> None:
    batch = parse("alertmanager", fixture("alertmanager_0_18_firing.json"))
    assert [a.fingerprint for a in batch.alerts] == [fingerprint_of(a.labels) for a in batch.alerts]
    assert len({a.fingerprint for a in batch.alerts}) == 2 and batch.truncated == 0
    assert batch.alerts[0].title == "Checkout p99 latency above 2s" and all(a.firing for a in batch.alerts)


def test_a_fingerprint_the_sender_gives_is_kept_and_truncated_alerts_are_counted() -> None:
    body = fixture("alertmanager_firing.json")
    body["truncatedAlerts"] = 40
    batch = parse("alertmanager", body)
    assert [a.fingerprint for a in batch.alerts] == ["c6a8e8b1a4e2f3d7", "0f9e2d1c3b4a5968"]
    assert batch.truncated == 40


def test_an_alert_without_its_own_status_takes_the_groups() -> None:
    body = fixture("alertmanager_0_18_firing.json")
    body["status"] = "resolved"
    for alert in body["alerts"]:
        del alert["status"]
    assert not any(a.firing for a in parse("alertmanager", body).alerts)


def test_a_grafana_delivery_without_group_key_gets_a_stable_one() -> None:
    body = fixture("grafana_firing.json")
    del body["groupKey"], body["alerts"][0]["fingerprint"]
    first, again = parse("grafana", body), parse("grafana", json.loads(json.dumps(body)))
    assert first.group_key == again.group_key and first.group_key.startswith("tocsin/")
    assert first.alerts[0].fingerprint == fingerprint_of(first.alerts[0].labels)


def test_the_published_legacy_grafana_example_is_one_alert_named_by_its_rule() -> None:
    batch = parse("grafana", fixture("grafana_legacy_alerting.json"))
    assert batch.group_key == "grafana-legacy/1/1"
    (alert,) = batch.alerts
    assert alert.firing and alert.title == "Panel Title alert"
    assert alert.labels == {"alertname": "Panel Title alert", "tag name": "tag value"}
    assert alert.url is not None and alert.url.startswith("http://localhost:3000/d/hZ7BuVbWz/")
    assert alert.description == "Notification Message\nCount = 1"


@pytest.mark.parametrize(("state", "firing"), [("alerting", True), ("no_data", True), ("ok", False)])
def test_legacy_states_fire_or_resolve_the_same_alert(state: str, firing: bool) -> None:
    alerting = parse("grafana", fixture("grafana_legacy_alerting.json")).alerts[0]
    batch = parse("grafana", {**fixture("grafana_legacy_alerting.json"), "state": state})
    assert batch.alerts[0].firing is firing and batch.alerts[0].fingerprint == alerting.fingerprint


@pytest.mark.parametrize("state", ["pending", "paused"])
def test_a_pending_or_paused_legacy_rule_calls_for_nothing(state: str) -> None:
    batch = parse("grafana", {**fixture("grafana_legacy_alerting.json"), "state": state})
    assert batch.alerts == [] and batch.ignored is not None and state in batch.ignored


def test_two_legacy_rules_with_the_same_name_are_two_alerts() -> None:
    one = parse("grafana", fixture("grafana_legacy_alerting.json"))
    other = parse("grafana", {**fixture("grafana_legacy_alerting.json"), "ruleId": 2})
    assert one.group_key != other.group_key and one.alerts[0].fingerprint != other.alerts[0].fingerprint


def test_the_published_oncall_example_resolves_its_alert_group() -> None:
    batch = parse("grafana", fixture("grafana_oncall_resolve.json"))
    assert batch.group_key == "oncall/I6HNZGUFG4K11"
    (alert,) = batch.alerts
    assert not alert.firing and alert.title == "Incident"
    assert alert.labels == {"region": "eu-1", "alertname": "TestAlert"}
    assert alert.description == "This alert was sent by user for the demonstration purposes"


@pytest.mark.parametrize("event", ["alert group created", "escalation", "acknowledge", "unresolve"])
def test_an_oncall_alert_group_still_open_is_firing(event: str) -> None:
    body = fixture("grafana_oncall_resolve.json")
    body["event"]["type"] = event
    body["alert_group"]["state"] = "acknowledged" if event == "acknowledge" else "firing"
    assert parse("grafana", body).alerts[0].firing


@pytest.mark.parametrize(
    ("source", "body", "reason"),
    [
        ("grafana", {"receiver": "x"}, "'alerts' must be a non-empty list"),
        ("grafana", {"ruleName": "CPU", "state": "exploded"}, "'state' must be alerting"),
        ("grafana", {"ruleId": 3, "state": "alerting"}, "'ruleName' is required"),
        ("grafana", {"ruleName": "CPU", "state": "ok", "tags": ["x"]}, "'tags' must be an object"),
        ("grafana", {"alert_group": "I6HNZ"}, "'alert_group' must be an object"),
        ("grafana", {"alert_group": {"title": "t"}}, "'alert_group.id' is required"),
        ("alertmanager", {"version": "4", "alerts": [{"labels": {}, "status": "firing"}]}, "'groupKey' is required"),
        (
            "alertmanager",
            {"version": "4", "groupKey": "g", "alerts": [{"labels": {}, "status": "firing", "fingerprint": []}]},
            "fingerprint must be a string",
        ),
    ],
)
def test_what_cannot_be_used_is_refused_with_the_reason(source: str, body: dict[str, Any], reason: str) -> None:
    with pytest.raises(AlertPayloadError, match=reason):
        parse(source, body)
