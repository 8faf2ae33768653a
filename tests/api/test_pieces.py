"""The API's pure parts: the per-token rate limit, cursors, and how a token is named as an actor and in
the policy's permissions."""

from __future__ import annotations

import pytest

from bot.domain.permissions import Act, may
from bot.domain.policy import SHAPE_ONLY, Policy
from bot.domain.user_refs import Directory, parse_grant, token_actor, token_name
from bot.entrypoints.api import cursors
from bot.entrypoints.api.problems import ApiError
from bot.entrypoints.api.rate_limit import RateLimit
from bot.slack.mrkdwn import mention


class Ticks:
    """A clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_holds_the_burst_and_refills_at_the_rate() -> None:
    clock = Ticks()
    limit = RateLimit(rate=2.0, burst=3, clock=clock)
    assert [limit.take("a") for _ in range(3)] == [None, None, None]
    assert limit.take("a") == pytest.approx(0.5)
    assert limit.take("b") is None  # every token has a bucket of its own
    clock.now += 0.5
    assert limit.take("a") is None and limit.take("a") == pytest.approx(0.5)
    clock.now += 60
    assert [limit.take("a") for _ in range(4)][:3] == [None, None, None]  # never more than the burst


def test_cursors_round_trip_and_refuse_what_they_did_not_make() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert cursors.incident_key(cursors.incident_cursor("-declared_at", at, 7), "-declared_at") == (at, 7)
    assert cursors.incident_key(cursors.incident_cursor("number", 42, 7), "number") == (42, 7)
    assert cursors.timeline_key(cursors.timeline_cursor(at, 3)) == (at, 3)
    assert cursors.event_key(cursors.event_cursor(12)) == 12
    made = cursors.incident_cursor("number", 42, 7)
    for cursor, sort in ((made, "-number"), ("%%%", "number"), (cursors.encode({"sort": "number"}), "number")):
        with pytest.raises(ApiError) as refused:
            cursors.incident_key(cursor, sort)
        assert refused.value.status == 400
    with pytest.raises(ApiError):
        cursors.id_key(cursors.encode({"id": 2**40}))  # beyond the database's integers


def test_a_token_acts_as_token_name_and_shows_by_its_name() -> None:
    assert token_actor("deploy") == "token:deploy" and token_name("token:deploy") == "deploy"
    assert token_name("U0ALICE") is None and token_name(None) is None
    long = token_actor("a" * 64)
    assert len(long) == 32 and long != token_actor("a" * 63) and token_name(long) is not None
    assert mention("token:deploy") == "deploy (API)" and mention("U0ALICE") == "<@U0ALICE>"


def test_the_policy_grants_a_token_by_its_principal() -> None:
    assert parse_grant("token:deploy") == "token:deploy" and parse_grant(" U0ALICE ") == "U0ALICE"
    with pytest.raises(ValueError, match="token:NAME"):
        parse_grant("token:Not Valid")
    policy = Policy.model_validate(
        {"permissions": {"resolve": ["token:deploy", "token:" + "b" * 64]}}, context={SHAPE_ONLY: True}
    )
    for actor, allowed in (("token:deploy", True), ("token:other", False), (token_actor("b" * 64), True)):
        assert may(Act.RESOLVE, actor=actor, incident=None, policy=policy, directory=Directory()) is allowed
