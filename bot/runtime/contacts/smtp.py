"""E-mail through an SMTP server (a relay, a provider's submission port), on the event loop (aiosmtplib).

The session: connect (port 465: TLS from the first byte; otherwise plain), EHLO, STARTTLS when the policy
says `starttls` (the default; a server that does not offer it is refused, never silently skipped), EHLO
again, AUTH when the policy names credential variables — only over an encrypted connection: a password is
never sent in clear — then MAIL, RCPT, DATA. Each command waits at most 10 seconds. The server's
certificate is checked against the system's CAs, or only those in the policy's `ca_file` (a relay with a
private CA).

A reply of 4xx is the server's temporary trouble (retried); 5xx is a refusal (530, 534, 535 and 538: the
credentials or their mechanism; 550, 551 and 553: the recipient), never retried. The message is plain text with an
optional HTML alternative, its own Message-ID (the returned id) and `Auto-Submitted: auto-generated`
(RFC 3834), so out-of-office replies do not answer a page."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from bot.domain.contact_policy import SmtpMethod
from bot.runtime.contacts.base import ContactError, Sent, credential

PROVIDER = "smtp"
TIMEOUT = 10.0
IMPLICIT_TLS_PORT = 465
AUTH_CODES = {530, 534, 535, 538}
RECIPIENT_CODES = {550, 551, 553}


class SmtpClient:
    """One SMTP server, sending from the policy's address (credentials from the variables it names)."""

    def __init__(
        self, config: SmtpMethod, environ: Mapping[str, str], *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        """Read the credentials now (a missing one raises MissingCredential naming its variable);
        `tls_context`: what to trust (default: the policy's `ca_file` if it names one, else the system's CAs;
        certificates and host names checked either way)."""
        self.config = config
        self.tls_context = tls_context
        named = (config.username_env, config.password_env)
        if (named[0] is None) != (named[1] is None):
            raise ContactError(PROVIDER, "misconfigured", retryable=False)
        self._username = credential(environ, config.username_env, PROVIDER) if config.username_env else None
        self._password = credential(environ, config.password_env, PROVIDER) if config.password_env else None
        self.domain = parseaddr(config.from_)[1].rpartition("@")[2] or "tocsin.invalid"

    def __repr__(self) -> str:
        """No credentials."""
        return f"SmtpClient(host={self.config.host!r}, port={self.config.port})"

    async def send(self, to: str, subject: str, text: str, *, html: str | None = None) -> Sent:
        """Mail `to`; the message's Message-ID."""
        message = self.message(to, subject, text, html=html)
        implicit = self.config.port == IMPLICIT_TLS_PORT
        smtp = aiosmtplib.SMTP(
            hostname=self.config.host,
            port=self.config.port,
            use_tls=implicit,
            start_tls=False,  # done below, explicitly, so a server without it is refused
            tls_context=await self._trusted(),
            timeout=TIMEOUT,
        )
        try:
            await smtp.connect()
            await self._secure_and_log_in(smtp, encrypted=implicit)
            await smtp.send_message(message)
        except (aiosmtplib.SMTPException, ssl.SSLError, OSError, TimeoutError) as exc:
            raise _error(exc) from exc
        finally:
            smtp.close()
        return Sent(str(message["Message-ID"]))

    async def _trusted(self) -> ssl.SSLContext | None:
        """The TLS context to use: the one given, else one trusting the policy's CA bundle (read once, off the
        event loop), else None (aiosmtplib's default: the system's CAs)."""
        if self.tls_context is None and self.config.ca_file is not None:
            try:
                self.tls_context = await asyncio.to_thread(trusting, self.config.ca_file)
            except (OSError, ssl.SSLError) as exc:  # gone since `tocsin check`, or not PEM: configuration
                raise ContactError(PROVIDER, "bad_ca_file", retryable=False) from exc
        return self.tls_context

    def message(self, to: str, subject: str, text: str, *, html: str | None = None) -> EmailMessage:
        """The e-mail as it is sent (a header value with a line break is refused: no header injection)."""
        message = EmailMessage()
        try:
            message["From"] = self.config.from_
            message["To"] = to
            message["Subject"] = " ".join(subject.split())
        except ValueError as exc:
            raise ContactError(PROVIDER, "invalid", retryable=False) from exc
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.domain)  # a domain given: no blocking host-name lookup
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    async def _secure_and_log_in(self, smtp: aiosmtplib.SMTP, *, encrypted: bool) -> None:
        await smtp.ehlo()
        if self.config.starttls and not encrypted:
            if not smtp.supports_extension("starttls"):
                raise ContactError(PROVIDER, "tls_unavailable", retryable=False)
            await smtp.starttls()
            await smtp.ehlo()  # the extensions offered before TLS no longer count
            encrypted = True
        if self._username is None or self._password is None:
            return
        if not encrypted:
            raise ContactError(PROVIDER, "insecure", retryable=False)  # a password never goes in clear
        if not smtp.supports_extension("auth"):
            raise ContactError(PROVIDER, "auth_unavailable", retryable=False)
        # one mechanism, one try: a wrong password is not offered again by every mechanism in turn
        if "plain" in smtp.server_auth_methods:
            await smtp.auth_plain(self._username, self._password)
        elif "login" in smtp.server_auth_methods:
            await smtp.auth_login(self._username, self._password)
        else:
            await smtp.login(self._username, self._password)


def trusting(ca_file: str) -> ssl.SSLContext:
    """A client context that trusts the CAs in the PEM bundle `ca_file` (only those), checking certificates
    and host names."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)


def _error(exc: BaseException) -> ContactError:
    """What a failure means: a 4xx reply or a lost connection is retried; a 5xx or a TLS failure is not."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
        if 400 <= code < 500:
            return ContactError(PROVIDER, "server_error", retryable=True, code=code)
        if code in AUTH_CODES:
            return ContactError(PROVIDER, "unauthorized", retryable=False, code=code)
        reason = "invalid_recipient" if code in RECIPIENT_CODES else "refused"
        return ContactError(PROVIDER, reason, retryable=False, code=code)
    if isinstance(exc, ssl.SSLError):  # an untrusted certificate or no shared protocol: configuration
        return ContactError(PROVIDER, "tls_failed", retryable=False)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | TimeoutError | OSError):
        return ContactError(PROVIDER, "unreachable", retryable=True)
    return ContactError(PROVIDER, "refused", retryable=False)  # the server refused the session otherwise
