"""Whose Slack account a policy's user reference is: IDs answer themselves, e-mail addresses are asked of
Slack once and remembered (briefly when nobody has them), and a lookup Slack failed is not remembered."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.errors import SlackUnreachable
from bot.domain.policy import Permissions, Policy
from bot.usecases.directory import NO_SUCH_EMAIL, NO_SUCH_USER, UserDirectory
from tests.service.fakes import FakeClock, ScriptedSlack

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def directory(slack: ScriptedSlack, clock: FakeClock, policy: Policy | None = None) -> UserDirectory:
    return UserDirectory(slack=slack, policy=policy or Policy(), clock=clock)


async def test_an_id_needs_no_lookup_unless_asked_to_verify_it() -> None:
    slack = ScriptedSlack()
    users = directory(slack, FakeClock(NOW))
    found = await users.resolve("U0BOB")
    assert (found.user_id, found.problem) == ("U0BOB", None) and slack.calls == []
    verified = await users.resolve("U0BOB", verify_ids=True)
    assert verified.user_id == "U0BOB" and [c.where for c in slack.made("user_exists")] == ["U0BOB"]
    bad = await users.resolve("not a user")
    assert bad.user_id is None and bad.problem


async def test_an_address_is_asked_once_an_unknown_one_again_after_a_few_minutes() -> None:
    slack, clock = ScriptedSlack(), FakeClock(NOW)
    slack.emails["bob@example.com"] = "U0BOB"
    users = directory(slack, clock)
    assert [r.user_id for r in await users.resolve_all(["bob@example.com", "U0ALICE"])] == ["U0BOB", "U0ALICE"]
    nobody = await users.resolve("eve@example.com")
    assert nobody.user_id is None and nobody.problem == NO_SUCH_EMAIL
    slack.emails["eve@example.com"] = "U0EVE"  # invited meanwhile
    assert (await users.resolve("eve@example.com")).user_id is None  # still the remembered answer
    clock.advance(minutes=6)
    assert (await users.resolve("eve@example.com")).user_id == "U0EVE"
    assert (await users.resolve("bob@example.com")).user_id == "U0BOB"  # an owner is kept an hour
    asked = [c.where for c in slack.made("user_id_for_email")]
    assert asked == ["bob@example.com", "eve@example.com", "eve@example.com"]


async def test_a_lookup_slack_failed_is_reported_and_asked_again_next_time() -> None:
    slack = ScriptedSlack()
    slack.refuse("user_id_for_email", SlackUnreachable("TimeoutError"))
    users = directory(slack, FakeClock(NOW))
    failed = await users.resolve("bob@example.com")
    assert failed.user_id is None and failed.problem is not None and "TimeoutError" in failed.problem
    slack.allow("user_id_for_email")
    slack.emails["bob@example.com"] = "U0BOB"
    assert (await users.resolve("bob@example.com")).user_id == "U0BOB"


async def test_a_deactivated_id_is_found_out_when_verifying() -> None:
    class Deactivated(ScriptedSlack):
        async def user_exists(self, user_id: str) -> bool:
            await super().user_exists(user_id)
            return False

    found = await directory(Deactivated(), FakeClock(NOW)).resolve("U0GONE", verify_ids=True)
    assert found.user_id is None and found.problem == NO_SUCH_USER


async def test_permissions_know_the_addresses_someone_has_and_grant_nothing_for_the_others() -> None:
    slack = ScriptedSlack()
    slack.emails["admin@example.com"] = "U0ADMIN"
    policy = Policy(
        admins=["admin@example.com", "U0ROOT"], permissions=Permissions(resolve=["ghost@example.com", "admins"])
    )
    granted = await directory(slack, FakeClock(NOW), policy).for_permissions()
    assert dict(granted.ids) == {"admin@example.com": "U0ADMIN"}
    assert granted.names("admin@example.com", "U0ADMIN") and not granted.names("ghost@example.com", "U0ADMIN")
    assert sorted(c.where for c in slack.made("user_id_for_email")) == ["admin@example.com", "ghost@example.com"]
