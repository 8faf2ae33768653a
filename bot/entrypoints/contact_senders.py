"""The contact providers' clients (bot/runtime/contacts/) behind the use cases' ContactSender port: one
client per provider the policy sets up, built on first use (a missing credential fails that method's sends,
named in one line, rather than Tocsin's start), each provider's error turned into ContactFailed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.domain.contact_policy import ContactMethods
from bot.runtime.contacts import ContactError, Notice, NtfyClient, PushoverClient, SmtpClient, TwilioClient
from bot.usecases.contact_ports import ContactFailed, ContactNotice


@dataclass
class ProviderSender:
    """Sends a notice by a method through its provider's client."""

    methods: ContactMethods
    environ: Mapping[str, str]
    session: aiohttp.ClientSession
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def twilio(self) -> TwilioClient:
        """The Twilio client (ContactError when it is not set up or a credential is missing)."""
        return self._client("twilio")  # type: ignore[no-any-return]

    def _client(self, provider: str) -> Any:
        if provider not in self._clients:
            config = getattr(self.methods, provider)
            if config is None:
                raise ContactError(provider, "not_configured", retryable=False)
            if provider == "twilio":
                self._clients[provider] = TwilioClient(config, self.environ, self.session)
            elif provider == "ntfy":
                self._clients[provider] = NtfyClient(config, self.environ, self.session)
            elif provider == "pushover":
                self._clients[provider] = PushoverClient(config, self.environ, self.session)
            else:
                self._clients[provider] = SmtpClient(config, self.environ)
        return self._clients[provider]

    async def send(
        self,
        method: str,
        address: str,
        notice: ContactNotice,
        *,
        gather_url: str | None = None,
        callback_url: str | None = None,
    ) -> str:
        """Send `notice` to `address` by `method`; the provider's id for it. ContactFailed otherwise."""
        said = Notice(title=notice.title, body=notice.body, ack_url=notice.ack_url, severity=notice.severity or "")
        try:
            return await self._send(method, address, said, gather_url=gather_url, callback_url=callback_url)
        except ContactError as exc:  # its text never holds the address or a secret
            raise ContactFailed(str(exc), retryable=exc.retryable, retry_after=exc.retry_after) from exc

    async def stop(self, method: str, provider_id: str) -> None:
        """Stop a Pushover emergency message's repeats (the page was answered elsewhere)."""
        if method != "pushover":
            return
        try:
            await self._client("pushover").cancel(provider_id)
        except ContactError as exc:
            raise ContactFailed(str(exc), retryable=exc.retryable, retry_after=exc.retry_after) from exc

    async def _send(
        self, method: str, address: str, notice: Notice, *, gather_url: str | None, callback_url: str | None
    ) -> str:
        if method == "ntfy":
            client: Any = self._client("ntfy")
            return str((await client.publish(address, notice)).provider_id)
        if method == "pushover":
            client = self._client("pushover")
            if notice.ack_url is None:  # a test or a code: once, at normal priority
                return str((await client.send(address, notice)).provider_id)
            return str((await client.send_emergency(address, notice, callback_url=callback_url)).provider_id)
        if method == "sms":
            text = notice.body + (f" Acknowledge: {notice.ack_url}" if notice.ack_url else "")
            return (await self.twilio().send_sms(address, text, status_callback=callback_url)).provider_id
        if method == "voice":  # without a gather URL (a code, a test, no PUBLIC_URL) the call only reads
            said = f"{notice.title}. {notice.body}"
            return (
                await self.twilio().call(address, say=said, gather_url=gather_url, status_callback=callback_url)
            ).provider_id
        if method == "email":
            client = self._client("smtp")
            text = notice.body + (f"\n\nAcknowledge the page: {notice.ack_url}\n" if notice.ack_url else "\n")
            return str((await client.send(address, notice.title, text)).provider_id)
        raise ContactError(method, "unknown_method", retryable=False)
