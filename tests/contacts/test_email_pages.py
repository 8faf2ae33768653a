"""A page by e-mail, end to end: the relay (STARTTLS with a private CA named by the policy's `ca_file`, and
AUTH) receives one message with the page's severity, title and acknowledge link; opening the link shows a
button and acknowledges nothing; pressing it acknowledges the page as the Slack button does; a second press
is refused. The real app, the strict Slack double and a real SMTP server double."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.domain.escalation import ACKNOWLEDGED, TRIGGERED
from bot.domain.incidents import TimelineKind
from bot.domain.policy import Policy
from tests.builders import declare
from tests.conftest import FakeClock, StartTocsin, settle, stored_timeline
from tests.contact_doubles.smtp_double import SmtpDouble
from tests.contacts.conftest import metric, run_steps, start_public, stored_page
from tests.slack_double import SlackDouble

ALICE_EMAIL = "alice.pager@example.com"
LINK = re.compile(r"https?://\S+/contacts/ack/[-_A-Za-z0-9]+")


@pytest.fixture
async def relay(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SmtpDouble]:
    """A mail relay that requires STARTTLS and a login, its credentials in Tocsin's environment."""
    monkeypatch.setenv("SMTP_USERNAME", "tocsin")
    monkeypatch.setenv("SMTP_PASSWORD", "relay-s3cret")
    async with SmtpDouble(username="tocsin", password="relay-s3cret") as server:
        yield server


def email_policy(relay: SmtpDouble, ca_file: Path) -> Policy:
    """A checkout service paging alice (one tier, 10 minutes) on a SEV1; her rule: e-mail at once."""
    return Policy.model_validate(
        {
            "escalation_policies": {"payments": {"tiers": [{"notify": ["user:U0ALICE"], "after": "10m"}]}},
            "services": {
                "checkout": {"keywords": ["checkout"], "escalation_policy": "payments", "page_on_declare": ["SEV1"]}
            },
            "contact_methods": {
                "smtp": {
                    "host": relay.host,
                    "port": relay.port,
                    "from": "Tocsin <tocsin@example.org>",
                    "username_env": "SMTP_USERNAME",
                    "password_env": "SMTP_PASSWORD",
                    "ca_file": str(ca_file),
                }
            },
            "people": {"U0ALICE": {"contacts": {"email": ALICE_EMAIL}, "rules": [{"method": "email", "after": "0s"}]}},
        }
    )


def page_dms(double: SlackDouble) -> list[dict[str, Any]]:
    """alice's DMs about the page (before and after it is acknowledged)."""
    return [m for m in double.dm_messages("U0ALICE") if "Checkout is failing" in m["text"]]


async def test_a_page_by_e_mail_is_acknowledged_by_its_link_s_button_once(
    double: SlackDouble,
    relay: SmtpDouble,
    start_tocsin: StartTocsin,
    database_url: str,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    ca_file = tmp_path / "relay-ca.pem"
    ca_file.write_bytes(relay.certificate_pem)  # a private CA: the system's trust store does not know it
    tocsin = await start_public(start_tocsin, database_url, email_policy(relay, ca_file), clock)
    channel = await declare(double, tocsin, "declare sev1 Checkout is failing")
    await run_steps(tocsin)
    [dm] = page_dms(double)
    assert "being paged" in dm["text"] and any(b["type"] == "actions" for b in dm["blocks"])  # Slack at once

    [delivery] = relay.deliveries
    assert delivery.tls and delivery.login == "tocsin" and delivery.rcpt_tos == [ALICE_EMAIL]
    mail = delivery.message
    assert "SEV1" in mail["Subject"] and "Checkout is failing" in mail["Subject"]
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "paged for INC-1: Checkout is failing (SEV1)" in text
    [link] = LINK.findall(text)
    assert link.startswith(f"http://127.0.0.1:{tocsin.port}/contacts/ack/")

    async with aiohttp.ClientSession() as http:
        async with http.get(link) as shown:  # opened (or followed by a mail scanner): nothing happens
            html = await shown.text()
            assert shown.status == 200 and '<form method="post"><button type="submit">Acknowledge' in html
            assert "SEV1: INC-1: Checkout is failing" in html
        assert (await stored_page(tocsin)).status == TRIGGERED

        async with http.post(link) as pressed:
            assert pressed.status == 200 and "acknowledged" in await pressed.text()
        await settle(tocsin)
        page = await stored_page(tocsin)
        assert page.status == ACKNOWLEDGED and page.acknowledged_by == "U0ALICE"
        # as the Slack button does: the DM says who acknowledged and loses its buttons; the channel is told
        [dm] = page_dms(double)
        assert dm["text"].endswith(":white_check_mark: Acknowledged by <@U0ALICE>.")
        assert not any(b["type"] == "actions" for b in dm["blocks"])
        assert any("<@U0ALICE> acknowledged the page" in m["text"] for m in channel.messages)

        async with http.post(link) as again:
            assert again.status == 410 and "used already" in await again.text()
    assert (await stored_page(tocsin)).acknowledged_by == "U0ALICE"
    assert len(relay.deliveries) == 1
    timeline = await stored_timeline(tocsin, 1)
    lines = [e.text for e in timeline if e.kind is TimelineKind.PAGE and "E-mail to" in e.text]
    assert lines == ["E-mail to <@U0ALICE>: delivered", "E-mail to <@U0ALICE>: answered"]
    assert metric(tocsin, "email", "delivered") == 1 and metric(tocsin, "email", "answered") == 1
    named = {r.name for r in caplog.records if ALICE_EMAIL in r.getMessage() or "relay-s3cret" in r.getMessage()}
    assert named <= {"mail.log"}  # only the relay double's own log: never Tocsin's, nor its SMTP client's
