"""The rules of related incidents, from plain data: keys, scores, the "looks like the same one" rule and
the declare a Declare anyway button carries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.errors import UserError
from bot.domain.incidents import NewIncident, Status
from bot.domain.related import (
    VALUE_LIMIT,
    Candidate,
    Subject,
    alert_group_of,
    carried_request,
    common_labels,
    keys_of,
    lookalike,
    rank,
    request_from,
    search_terms,
)
from tests.values import BUILT_AT, an_incident


def subject(title: str = "Checkout payment latency", **changes: object) -> Subject:
    values: dict[str, object] = {
        "team_id": "T",
        "title": title,
        "keys": keys_of("checkout"),
        "terms": search_terms(title),
        "incident_id": 100,
        "declared_at": BUILT_AT,
    }
    return Subject(**(values | changes))  # type: ignore[arg-type]


def candidate(
    n: int, title: str, *, service: str | None = None, minutes_ago: int = 600, **changes: object
) -> Candidate:
    declared_at = BUILT_AT - timedelta(minutes=minutes_ago)
    values: dict[str, object] = {"team_id": "T", "title": title, "service": service, "declared_at": declared_at}
    return Candidate(an_incident(id=n, number=n, **(values | changes)), keys=keys_of(service))


def test_search_terms_leave_out_words_that_say_nothing() -> None:
    assert search_terms("The checkout is DOWN for all users in Zürich") == ("checkout", "users", "zurich")


def test_an_alert_declared_incident_names_its_group_whatever_its_generation() -> None:
    assert alert_group_of('alert:alertmanager:3:{}:{alertname="X"}') == 'alertmanager:{}:{alertname="X"}'
    assert alert_group_of("command:123.456") is None


def test_only_labels_every_alert_shares_and_that_identify_count() -> None:
    alerts = [{"alertname": "Latency", "pod": "a-1", "cluster": "eu"}, {"alertname": "Latency", "pod": "b-2"}]
    assert common_labels(alerts) == {"alertname": "Latency"}
    assert keys_of(None, None, {"alertname": "Latency", "pod": "a-1"}) == {"label:alertname=Latency"}


def test_the_same_service_outranks_two_words_in_common_and_recency_breaks_ties() -> None:
    found = rank(
        subject(),
        [
            candidate(1, "Payment latency at the gateway"),
            candidate(2, "Queue backlog", service="checkout"),
            candidate(3, "Checkout payment errors", service="checkout"),
            candidate(4, "Queue backlog", service="checkout", minutes_ago=60),
            candidate(5, "Disk full", service="search"),
        ],
    )
    assert [m.incident.id for m in found] == [3, 4, 2, 1]


def test_later_incidents_other_workspaces_and_the_incident_itself_are_left_out() -> None:
    found = rank(
        subject(),
        [
            candidate(100, "Checkout payment latency", service="checkout"),
            candidate(6, "Checkout payment latency", service="checkout", minutes_ago=-5),
            candidate(7, "Checkout payment latency", service="checkout", team_id="T2"),
        ],
    )
    assert found == []


def test_an_open_incident_of_the_last_hour_with_the_same_service_looks_like_the_same_one() -> None:
    new = subject("Checkout broken", incident_id=None, declared_at=None)
    recent = candidate(1, "Something else", service="checkout", minutes_ago=20)
    assert lookalike(new, [recent], now=BUILT_AT) is recent
    stale = candidate(2, "Something else", service="checkout", minutes_ago=61)
    resolved = candidate(3, "Something else", service="checkout", minutes_ago=5, status=Status.RESOLVED)
    assert lookalike(new, [stale, resolved], now=BUILT_AT) is None


def test_a_similar_title_alone_is_enough_to_look_alike() -> None:
    new = subject("Checkout payment latency", keys=frozenset(), incident_id=None, declared_at=None)
    alike = candidate(1, "Payment latency on checkout", minutes_ago=10)
    different = candidate(2, "Payment emails delayed", minutes_ago=10)
    assert lookalike(new, [different, alike], now=BUILT_AT) is alike


def test_a_carried_declare_comes_back_as_it_was_declared_by_whoever_clicks() -> None:
    new = NewIncident(
        team_id="T",
        title="Checkout <down>",
        severity="SEV1",
        declared_by="U1",
        declare_key="command:1.2",
        service="checkout",
        private=True,
        incident_type="security",
        custom_fields={"region": "eu"},
    )
    value = carried_request(new)
    assert value is not None and len(value) <= VALUE_LIMIT
    back = request_from(value, declared_by="U1")
    assert back == new


def test_a_declare_too_big_for_a_button_is_not_carried_and_a_forged_value_is_refused() -> None:
    big = NewIncident(
        team_id="T", title="x", severity="SEV1", declared_by="U1", declare_key="k", custom_fields={"notes": "x" * 3000}
    )
    assert carried_request(big) is None
    with pytest.raises(UserError):
        request_from("{not json", declared_by="U1")
    with pytest.raises(UserError):
        request_from('{"team_id": "T"}', declared_by="U1")
