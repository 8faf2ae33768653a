"""The SMTP client against a real SMTP server double (aiosmtpd, STARTTLS with a certificate made for the
test, AUTH): mail goes encrypted and authenticated, a password never goes in clear, a server that cannot
encrypt or whose certificate is not trusted is refused (a private CA is trusted through the policy's
`ca_file`), and 4xx replies are retried while 5xx are not."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from bot.domain.contact_policy import SmtpMethod
from bot.domain.policy import Policy
from bot.runtime.contacts import ContactError, MissingCredential, SmtpClient
from tests.contact_doubles.smtp_double import SmtpDouble

ENVIRON = {"SMTP_USER": "tocsin", "SMTP_PASSWORD": "s3cret-pass"}
ALICE = "alice@example.com"


@pytest.fixture
async def server() -> AsyncIterator[SmtpDouble]:
    async with SmtpDouble(username="tocsin", password="s3cret-pass") as double:
        yield double


def client(server: SmtpDouble, *, trust: bool = True, environ: dict[str, str] = ENVIRON, **config: Any) -> SmtpClient:
    settings = {
        "host": server.host,
        "port": server.port,
        "from": "Tocsin <tocsin@example.org>",
        "username_env": "SMTP_USER",
        "password_env": "SMTP_PASSWORD",
    } | config
    return SmtpClient(SmtpMethod.model_validate(settings), environ, tls_context=server.client_tls() if trust else None)


async def test_a_page_is_mailed_over_starttls_after_auth(server: SmtpDouble) -> None:
    sent = await client(server).send(
        ALICE, "SEV1 INC-7: Checkout down", "Acknowledge: https://t.example/a", html="<p>Hi</p>"
    )
    (delivery,) = server.deliveries
    assert delivery.tls and delivery.login == "tocsin" and delivery.rcpt_tos == [ALICE]
    message = delivery.message
    assert sent.provider_id == message["Message-ID"] and sent.provider_id.endswith("@example.org>")
    assert (message["From"], message["To"], message["Subject"]) == (
        "Tocsin <tocsin@example.org>",
        ALICE,
        "SEV1 INC-7: Checkout down",
    )
    assert message["Auto-Submitted"] == "auto-generated" and message["Date"]
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and "https://t.example/a" in plain.get_content()
    assert html is not None and "<p>Hi</p>" in html.get_content()


async def test_a_relay_without_auth_takes_mail_over_starttls() -> None:
    async with SmtpDouble() as relay:
        await client(relay, username_env=None, password_env=None).send(ALICE, "Subject", "Body")
        assert relay.deliveries[0].tls and relay.deliveries[0].login is None


async def test_a_wrong_password_is_unauthorized_and_not_retried(server: SmtpDouble) -> None:
    with pytest.raises(ContactError) as raised:
        await client(server, environ={"SMTP_USER": "tocsin", "SMTP_PASSWORD": "guess"}).send(ALICE, "S", "B")
    assert (raised.value.reason, raised.value.retryable, raised.value.code) == ("unauthorized", False, 535)
    assert "guess" not in str(raised.value) and server.auth_attempts == [("tocsin", False)]


async def test_without_tls_the_password_is_never_sent(server: SmtpDouble) -> None:
    with pytest.raises(ContactError) as raised:
        await client(server, starttls=False).send(ALICE, "S", "B")
    assert (raised.value.reason, raised.value.retryable) == ("insecure", False)
    assert server.auth_attempts == [] and server.deliveries == []


async def test_the_double_refuses_auth_and_mail_before_starttls_as_servers_do(server: SmtpDouble) -> None:
    smtp = aiosmtplib.SMTP(hostname=server.host, port=server.port, start_tls=False, local_hostname="client.test")
    await smtp.connect()
    try:
        await smtp.ehlo()
        assert smtp.supports_extension("starttls") and not smtp.supports_extension("auth")
        plain = base64.b64encode(b"\0tocsin\0s3cret-pass").decode()
        auth = await smtp.execute_command(b"AUTH", b"PLAIN", plain.encode())
        assert auth.code == 530  # "Must issue a STARTTLS command first"
        mail = await smtp.execute_command(b"MAIL", b"FROM:<tocsin@example.org>")
        assert mail.code == 530
    finally:
        smtp.close()
    assert server.auth_attempts == []


async def test_a_server_that_cannot_encrypt_is_refused_not_skipped() -> None:
    async with SmtpDouble(tls=False) as plain:
        with pytest.raises(ContactError) as raised:
            await client(plain, trust=False, username_env=None, password_env=None).send(ALICE, "S", "B")
        assert plain.deliveries == []
    assert (raised.value.reason, raised.value.retryable) == ("tls_unavailable", False)


async def test_an_untrusted_certificate_fails_and_is_not_retried(server: SmtpDouble) -> None:
    with pytest.raises(ContactError) as raised:
        await client(server, trust=False).send(ALICE, "S", "B")
    assert (raised.value.reason, raised.value.retryable) == ("tls_failed", False)
    assert server.auth_attempts == []


async def test_a_relay_with_a_private_ca_is_trusted_through_the_policy_s_ca_file(
    server: SmtpDouble, tmp_path: Path
) -> None:
    bundle = tmp_path / "relay-ca.pem"
    bundle.write_bytes(server.certificate_pem)
    await client(server, trust=False, ca_file=str(bundle)).send(ALICE, "S", "B")
    assert server.deliveries[0].tls and server.deliveries[0].login == "tocsin"


async def test_a_ca_file_that_is_not_pem_is_refused_and_not_retried(server: SmtpDouble, tmp_path: Path) -> None:
    bundle = tmp_path / "not-a-ca.pem"
    bundle.write_text("not a certificate")
    with pytest.raises(ContactError) as raised:
        await client(server, trust=False, ca_file=str(bundle)).send(ALICE, "S", "B")
    assert (raised.value.reason, raised.value.retryable) == ("bad_ca_file", False)
    assert server.deliveries == [] and server.auth_attempts == []


def test_the_policy_refuses_a_ca_file_that_is_not_there(tmp_path: Path) -> None:
    smtp = {"host": "smtp.example.org", "from": "t@example.org", "ca_file": str(tmp_path / "gone.pem")}
    with pytest.raises(ValueError, match=r"contact_methods\.smtp\.ca_file: there is no file at"):
        Policy.model_validate({"contact_methods": {"smtp": smtp}})
    (tmp_path / "gone.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert Policy.model_validate({"contact_methods": {"smtp": smtp}}).contact_methods.smtp is not None


async def test_a_4xx_reply_is_retried_and_a_5xx_is_not(server: SmtpDouble) -> None:
    mail = client(server)
    server.fail_next(451, "DATA")
    server.fail_next(550, "RCPT")
    server.fail_next(421, "MAIL")
    outcomes = []
    for _ in range(3):
        with pytest.raises(ContactError) as raised:
            await mail.send(ALICE, "S", "B")
        outcomes.append((raised.value.reason, raised.value.retryable, raised.value.code))
        assert ALICE not in str(raised.value)
    assert outcomes == [
        ("server_error", True, 421),
        ("invalid_recipient", False, 550),
        ("server_error", True, 451),
    ]
    await mail.send(ALICE, "S", "B")
    assert len(server.deliveries) == 1


async def test_a_server_that_does_not_answer_is_unreachable_and_retried() -> None:
    async with SmtpDouble() as gone:
        closed = client(gone, username_env=None, password_env=None)
    with pytest.raises(ContactError) as raised:
        await closed.send(ALICE, "S", "B")
    assert (raised.value.reason, raised.value.retryable) == ("unreachable", True)


async def test_line_breaks_cannot_add_headers(server: SmtpDouble) -> None:
    mail = client(server)
    await mail.send(ALICE, "SEV1\r\nBcc: eve@example.com", "B")
    assert server.messages[0]["Subject"] == "SEV1 Bcc: eve@example.com" and server.messages[0]["Bcc"] is None
    with pytest.raises(ContactError) as raised:
        await mail.send("alice@example.com\r\nBcc: eve@example.com", "S", "B")
    assert (raised.value.reason, raised.value.retryable) == ("invalid", False)
    assert server.deliveries[0].rcpt_tos == [ALICE] and len(server.deliveries) == 1


def test_a_missing_credential_variable_is_named() -> None:
    config = SmtpMethod.model_validate(
        {"host": "smtp.example.org", "from": "t@example.org", "username_env": "SMTP_USER", "password_env": "SMTP_PW"}
    )
    with pytest.raises(MissingCredential) as raised:
        SmtpClient(config, {"SMTP_USER": "tocsin"})
    assert raised.value.variable == "SMTP_PW" and "SMTP_PW" in str(raised.value)
