"""Private incidents in the domain: the policy's defaults, names that never carry the title, audiences."""

from bot.domain.channel_names import is_valid_channel_name, private_channel_name
from bot.domain.policy import Policy
from bot.domain.privacy import EVERYONE, Audience, is_insider, private_by_default
from tests.builders import an_incident

POLICY = Policy.model_validate(
    {
        "severities": [{"name": "SEV1", "private": True}, {"name": "SEV2"}],
        "default_severity": "SEV2",
        "services": {"payroll": {"private": True}, "checkout": {}},
    }
)


def test_a_severity_or_a_service_makes_a_declaration_private_by_default() -> None:
    assert private_by_default("SEV1", None, POLICY)
    assert private_by_default("sev2", "payroll", POLICY)
    assert not private_by_default("SEV2", "checkout", POLICY)
    assert not private_by_default("SEV2", None, Policy())


def test_a_private_channel_name_has_the_number_and_suffix_only() -> None:
    assert private_channel_name("inc", 42, "private") == "inc-42-private"
    assert private_channel_name("sec", 7, "restricted", attempt=3) == "sec-7-restricted-3"
    assert is_valid_channel_name(private_channel_name("inc", 123456789, "private"))


def test_an_audience_sees_public_incidents_and_only_the_private_ones_it_is_in() -> None:
    public, private = an_incident(id=1), an_incident(id=2, private=True)
    member = Audience("U1", frozenset({2}))
    assert member.may_see(public) and member.may_see(private)
    assert Audience("U2").may_see(public) and not Audience("U2").may_see(private)
    assert not EVERYONE.may_see(private)


def test_insiders_are_the_declarer_and_role_holders() -> None:
    incident = an_incident(private=True)
    assert all(is_insider(incident, user) for user in [incident.declared_by, *incident.roles.values()])
    assert not is_insider(incident, "U0STRANGER")


def test_the_private_notice_and_suffix_are_checked() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Policy.model_validate({"private_incidents": {"channel_suffix": "Not Valid!"}})
    assert Policy().private_incidents.notice is None
