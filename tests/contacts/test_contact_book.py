"""A person keeps their own contact book from Slack: `/incident oncall contact add` sends a code through the
method, `verify` makes the address usable, rules are theirs to set (only with methods they can use),
`/incident oncall test` sends a test through each, App Home shows it all with a Send a test button.
Addresses are shown in full only to their owner and to admins who ask; replies about tests mask them."""

from __future__ import annotations

import logging
import re

import pytest

from bot.app import Tocsin
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.conftest import FakeClock, StartTocsin, eventually, settle
from tests.contacts.conftest import ALICE_PHONE, ALICE_TOPIC, Providers, contact_policy, start_public
from tests.slack_double import SlackDouble


async def say(double: SlackDouble, tocsin: Tocsin, text: str, user: str = "U0BOB") -> str:
    """`/incident <text>` typed by `user` in #general; the refusal in the ack, or the last private reply."""
    before = len(double.replies_to(user))
    ack = await double.slash_command(user, double.channel_named("general").id, text)
    if ack.text:
        return ack.text
    await settle(tocsin)
    replies = double.replies_to(user)
    assert len(replies) > before, f"no reply to {text!r}"
    return replies[-1]


def bob_only(providers: Providers) -> Policy:
    """The providers set up; bob has nothing set by an admin."""
    return contact_policy(providers)


async def test_an_address_is_verified_by_the_code_sent_to_it_then_used(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_public(start_tocsin, database_url, bob_only(providers), clock)
    reply = await say(double, tocsin, "oncall contact add sms +44 7700 900 456")
    assert "A code is on its way to your SMS" in reply
    [message] = providers.twilio.messages
    assert message.to == "+447700900456"
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found
    code = found.group(1)

    wrong = "000000" if code != "000000" else "111111"
    assert "not the code" in await say(double, tocsin, f"oncall contact verify sms {wrong}")
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.contacts.verified_methods("U0BOB") == []

    shown = await say(double, tocsin, f"oncall contact verify sms {code}")
    assert "+447700900456" in shown and "verified" in shown  # in full: only bob sees this reply
    assert "(the default): `slack@0s` → `sms@2m`" in shown
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert await uow.contacts.verified_methods("U0BOB") == ["sms"]

    tested = await say(double, tocsin, "oncall test")
    assert "SMS (+44•••••••456): sent" in tested and "+447700900456" not in tested
    assert len(providers.twilio.messages) == 2

    removed = await say(double, tocsin, "oncall contact remove sms")
    assert "Only Slack DMs" in removed


async def test_rules_name_only_methods_one_can_use(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_public(start_tocsin, database_url, bob_only(providers), clock)
    refused = await say(double, tocsin, "oncall contact rules slack@0s voice@3m:SEV1")
    assert "no verified phone call address" in refused
    assert "is not a rule" in await say(double, tocsin, "oncall contact rules voice-after-3m")
    assert "is not a severity" in await say(double, tocsin, "oncall contact rules slack@0s:SEV9")
    assert "is not a contact method" in await say(double, tocsin, "oncall contact add pager 123")
    assert "has no e-mail set up" in await say(double, tocsin, "oncall contact add email bob@example.com")
    assert "won't do" in await say(double, tocsin, "oncall contact add sms 12345")
    assert not providers.twilio.messages  # nothing was sent for any of these


async def test_an_ntfy_topic_gets_its_code_by_push(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_public(start_tocsin, database_url, bob_only(providers), clock)
    await say(double, tocsin, "oncall contact add ntfy bob-pager")
    [push] = providers.ntfy.messages
    assert push.json["topic"] == "bob-pager" and "actions" not in push.json  # nothing to acknowledge
    code = re.search(r"\b(\d{6})\b", push.json["message"])
    assert code
    await say(double, tocsin, f"oncall contact verify ntfy {code.group(1)}")
    shown = await say(double, tocsin, "oncall contact rules ntfy@30s:SEV2")
    assert "(yours): `ntfy@30s:SEV2`" in shown


async def test_app_home_shows_ones_methods_and_sends_a_test(
    double: SlackDouble, providers: Providers, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_public(start_tocsin, database_url, contact_policy(providers), clock)
    home = double.event_envelope({"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home"})
    await double.deliver_event(home)
    await eventually(lambda: "U0ALICE" in double.home_views, within=30, what="alice's App Home")
    blocks = double.home_views["U0ALICE"]["blocks"]
    text = str(blocks)
    assert "How pages reach you" in text and ALICE_PHONE in text and "set by an admin" in text
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "contacts.test"]
    view = double.home_views["U0ALICE"]
    click = {  # a button in App Home: a block_actions payload from a view, with no channel and no response_url
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice", "team_id": double.team_id},
        "api_app_id": "A0TOCSIN",
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": "1.2.3",
        "team": {"id": double.team_id, "domain": "tocsin-test"},
        "view": {**view, "id": "V0HOME"},
        "actions": [{"action_id": "contacts.test", "block_id": "b", "type": "button", "value": button["value"]}],
    }
    await double.deliver(click, kind="interactive", via="http")
    await settle(tocsin)
    await eventually(lambda: any("Test notifications" in t for t in double.replies_to("U0ALICE")), within=30)
    assert len(providers.ntfy.messages) == 1 and len(providers.twilio.calls) == 1


async def test_admins_see_someone_s_methods_in_full_anyone_else_is_refused(
    double: SlackDouble,
    providers: Providers,
    start_tocsin: StartTocsin,
    database_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    double.add_user("U0CAROL", "carol", email="carol@example.com")
    policy = contact_policy(providers).model_copy(update={"admins": ["carol@example.com"]})
    tocsin = await start_public(start_tocsin, database_url, policy, clock)

    refused = await say(double, tocsin, "oncall contact @alice", user="U0BOB")
    assert "Only Tocsin admins" in refused and ALICE_PHONE not in refused and ALICE_TOPIC not in refused

    shown = await say(double, tocsin, "oncall contact @alice", user="U0CAROL")
    assert "How pages reach <@U0ALICE>" in shown
    assert f"`{ALICE_PHONE}` (set by an admin)" in shown and f"`{ALICE_TOPIC}` (set by an admin)" in shown
    assert "*Their rules* (the policy's): `slack@0s` → `ntfy@1m` → `voice@3m`" in shown

    own = await say(double, tocsin, "oncall contact @bob", user="U0BOB")  # one's own: anyone
    assert "How pages reach you" in own
    assert "takes nothing more" in await say(double, tocsin, "oncall contact @alice sms", user="U0CAROL")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ALICE_PHONE not in logged and ALICE_TOPIC not in logged  # shown, never logged
    assert "U0CAROL looked at the contact methods of U0ALICE" in logged
