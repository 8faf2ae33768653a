"""Lifecycle, permissions and cadence rules."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import cadence
from bot.domain.errors import UserError
from bot.domain.incidents import Status
from bot.domain.lifecycle import check_move, stamps_for
from bot.domain.permissions import Act, may, require
from bot.domain.policy import Policy
from bot.domain.user_refs import Directory
from bot.entrypoints.command_parser import parse_status
from tests.builders import an_incident

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BASE = an_incident(declared_at=NOW - timedelta(hours=1))


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Status.INVESTIGATING, Status.IDENTIFIED),
        (Status.IDENTIFIED, Status.MONITORING),
        (Status.MONITORING, Status.INVESTIGATING),
        (Status.INVESTIGATING, Status.RESOLVED),
        (Status.RESOLVED, Status.CLOSED),
    ],
)
def test_allowed_moves(start: Status, target: Status) -> None:
    check_move(replace(BASE, status=start), target)


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        (Status.RESOLVED, Status.INVESTIGATING, "Use `/incident reopen` first"),
        (Status.IDENTIFIED, Status.IDENTIFIED, "already identified"),
        (Status.CLOSED, Status.INVESTIGATING, "can't go from Postmortem done to Investigating"),
    ],
)
def test_refused_moves_say_why(start: Status, target: Status, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_move(replace(BASE, status=start), target)


def test_stamps_mark_the_first_time_each_stage_is_reached() -> None:
    assert stamps_for(BASE, Status.IDENTIFIED, NOW) == {"identified_at": NOW}
    earlier = NOW - timedelta(minutes=5)
    assert stamps_for(replace(BASE, identified_at=earlier), Status.IDENTIFIED, NOW) == {}
    assert stamps_for(BASE, Status.RESOLVED, NOW) == {"resolved_at": NOW, "mitigated_at": NOW}
    assert stamps_for(replace(BASE, mitigated_at=earlier), Status.RESOLVED, NOW) == {"resolved_at": NOW}


def test_parse_status() -> None:
    assert parse_status(" Monitoring ") is Status.MONITORING
    with pytest.raises(UserError):
        parse_status("closed")


def test_default_permissions() -> None:
    policy = Policy(admins=["U9"])
    assert may(Act.DECLARE, actor="U5", incident=None, policy=policy, directory=Directory())
    assert may(Act.SEVERITY, actor="U5", incident=BASE, policy=policy, directory=Directory())
    assert may(Act.RESOLVE, actor="U1", incident=BASE, policy=policy, directory=Directory())  # IC
    assert may(Act.RESOLVE, actor="U2", incident=BASE, policy=policy, directory=Directory())  # comms lead
    assert may(Act.RESOLVE, actor="U9", incident=BASE, policy=policy, directory=Directory())  # admin
    assert not may(Act.RESOLVE, actor="U5", incident=BASE, policy=policy, directory=Directory())
    with pytest.raises(UserError, match="Only the Incident Commander or the Communications Lead or a Tocsin admin"):
        require(Act.RESOLVE, actor="U5", incident=BASE, policy=policy, directory=Directory())


def test_permissions_can_name_people() -> None:
    policy = Policy.model_validate({"permissions": {"declare": ["U7"]}})
    assert may(Act.DECLARE, actor="U7", incident=None, policy=policy, directory=Directory())
    assert not may(Act.DECLARE, actor="U8", incident=None, policy=policy, directory=Directory())


def test_cadence_follows_the_last_update_and_the_severity() -> None:
    policy = Policy()
    assert cadence.due_on_declare("SEV1", NOW, policy) == NOW + timedelta(minutes=15)
    assert cadence.due_on_declare("SEV4", NOW, policy) is None
    assert cadence.due_for(BASE, "SEV2", policy) == BASE.declared_at + timedelta(minutes=15)  # first update
    updated = replace(BASE, last_update_at=NOW)
    assert cadence.due_for(updated, "SEV1", policy) == NOW + timedelta(minutes=15)
    assert cadence.due_for(updated, "SEV3", policy) == NOW + timedelta(minutes=60)
    assert cadence.due_for(updated, "SEV4", policy) is None
    assert cadence.due_for(replace(updated, status=Status.RESOLVED), "SEV1", policy) is None
