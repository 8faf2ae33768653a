"""Whether someone going on call can be woken beyond Slack: a verified method of their own, or one an admin
set in the policy under their user ID or, through the user directory, under their e-mail address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.contact_rules import digest
from bot.domain.policy import Policy
from bot.usecases.contacts import reachability, reachable_beyond_slack
from bot.usecases.directory import UserDirectory
from tests.service.fakes import FakeClock, ScriptedSlack, memory_storage

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
TWILIO = {"twilio": {"from": "+15005550006"}}


def policy(people: dict[str, Any], methods: dict[str, Any] | None = None) -> Policy:
    return Policy.model_validate({"contact_methods": TWILIO if methods is None else methods, "people": people})


async def test_people_named_by_e_mail_in_the_policy_are_recognised_through_the_directory() -> None:
    uow = await memory_storage()
    rules = policy({"Bob@Example.com": {"contacts": {"voice": "+447700900123"}}})
    slack = ScriptedSlack()
    slack.emails["Bob@Example.com"] = "U0BOB"
    directory = UserDirectory(slack=slack, policy=rules, clock=FakeClock(NOW))
    async with uow() as work:
        assert not await reachable_beyond_slack(work, rules, "U0BOB")  # without a directory: only IDs
        assert await reachable_beyond_slack(work, rules, "U0BOB", directory=directory)
        assert not await reachable_beyond_slack(work, rules, "U0CAROL", directory=directory)
        assert await reachability(directory)(work, rules, "U0BOB")  # what handovers are given


async def test_an_address_nobody_has_or_a_method_not_set_up_does_not_count() -> None:
    uow = await memory_storage()
    slack = ScriptedSlack()
    slack.emails["bob@example.com"] = "U0BOB"
    nobody = policy({"eve@example.com": {"contacts": {"voice": "+447700900123"}}})
    no_twilio = policy({"bob@example.com": {"contacts": {"sms": "+447700900123"}}}, methods={})
    async with uow() as work:
        for rules in (nobody, no_twilio):
            directory = UserDirectory(slack=slack, policy=rules, clock=FakeClock(NOW))
            assert not await reachable_beyond_slack(work, rules, "U0BOB", directory=directory)


async def test_a_verified_method_of_ones_own_counts_an_unverified_one_does_not() -> None:
    uow = await memory_storage()
    rules = policy({})
    async with uow() as work:
        await work.contacts.put_address(
            "U0BOB",
            "sms",
            "+447700900456",
            code_digest=digest("123456"),
            expires_at=NOW + timedelta(minutes=15),
            now=NOW,
        )
        await work.commit()
    async with uow() as work:
        assert not await reachable_beyond_slack(work, rules, "U0BOB")
        await work.contacts.mark_verified("U0BOB", "sms", now=NOW)
        await work.commit()
    async with uow() as work:
        assert await reachable_beyond_slack(work, rules, "U0BOB")
