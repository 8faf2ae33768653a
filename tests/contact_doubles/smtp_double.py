"""An SMTP server double: aiosmtpd's SMTP protocol served on a free local port of the test's event loop,
with STARTTLS (a self-signed certificate for localhost and 127.0.0.1, made with `cryptography` at start:
`client_tls()` is a context trusting it) and AUTH (LOGIN, PLAIN) when given credentials.

As mail servers do: with TLS on, AUTH is not offered before STARTTLS, and AUTH or MAIL before it is refused
(530 "Must issue a STARTTLS command first"); with credentials, MAIL needs AUTH first (530) and wrong
ones are 535. Accepted
messages are parsed with the email package into `messages` (with their envelope and session in
`deliveries`). `fail_next(code, command)` answers the next MAIL, RCPT or DATA with `code` (a 4xx: try
later; a 5xx: refused)."""

from __future__ import annotations

import asyncio
import datetime
import email
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPLIES = {
    421: "421 4.3.2 Service shutting down",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Local error in processing, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 No such user here",
    552: "552 5.3.4 Message size exceeds fixed limit",
    554: "554 5.7.1 Transaction failed",
}


@dataclass
class Delivery:
    """One accepted message: its envelope, whether the session was encrypted and who logged in."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


class _Handler:
    """aiosmtpd's hooks: the queued failures first, then accept and keep."""

    def __init__(self, double: SmtpDouble) -> None:
        self.double = double

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if (failed := self.double.take_failure("MAIL")) is not None:
            return failed
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if (failed := self.double.take_failure("RCPT")) is not None:
            return failed
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if (failed := self.double.take_failure("DATA")) is not None:
            return failed
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        tls = session.ssl is not None
        self.double.deliveries.append(Delivery(str(envelope.mail_from), list(envelope.rcpt_tos), message, tls, login))
        return "250 Message accepted for delivery"


class SmtpDouble:
    """A mail server on 127.0.0.1 (`host`, `port`); `tls`: offers STARTTLS and requires it; `username` and
    `password`: AUTH required."""

    def __init__(self, *, tls: bool = True, username: str | None = None, password: str | None = None) -> None:
        """Configure; `start()` makes the certificate and listens."""
        self.tls, self.username, self.password = tls, username, password
        self.host = "127.0.0.1"
        self.port = 0
        self.deliveries: list[Delivery] = []
        self.auth_attempts: list[tuple[str, bool]] = []  # (login, accepted)
        self._failures: list[tuple[str, int]] = []
        self._server: asyncio.Server | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self.certificate_pem = b""

    @property
    def messages(self) -> list[EmailMessage]:
        """The accepted messages, parsed."""
        return [d.message for d in self.deliveries]

    async def start(self) -> Self:
        """Make the certificate and listen on a free port."""
        context = self._server_tls() if self.tls else None
        credentials = self.username is not None

        def protocol() -> SMTP:
            return SMTP(
                _Handler(self),
                hostname="smtp.double.test",
                tls_context=context,
                require_starttls=context is not None,
                auth_required=credentials,
                auth_require_tls=True,
                authenticator=self._authenticate if credentials else None,
            )

        self._server = await asyncio.get_running_loop().create_server(protocol, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and drop the certificate."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._folder is not None:
            self._folder.cleanup()

    async def __aenter__(self) -> Self:
        """Start."""
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop."""
        await self.stop()

    def client_tls(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and checks the host name)."""
        return ssl.create_default_context(cadata=self.certificate_pem.decode())

    def fail_next(self, code: int, command: str = "DATA") -> None:
        """Answer the next `command` (MAIL, RCPT or DATA) with `code`."""
        self._failures.append((command.upper(), code))

    def take_failure(self, command: str) -> str | None:
        """The queued reply for `command`, if one is queued (it is then used up)."""
        for index, (queued, code) in enumerate(self._failures):
            if queued == command:
                del self._failures[index]
                return REPLIES.get(code, f"{code} Failure")
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        accepted = (login, password) == (self.username, self.password)
        self.auth_attempts.append((login, accepted))
        return AuthResult(success=accepted, handled=False, auth_data=data)

    def _server_tls(self) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.UTC)
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
        self._folder = tempfile.TemporaryDirectory()
        cert_file, key_file = Path(self._folder.name, "cert.pem"), Path(self._folder.name, "key.pem")
        cert_file.write_bytes(self.certificate_pem)
        key_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key_file.write_bytes(key_bytes)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context
